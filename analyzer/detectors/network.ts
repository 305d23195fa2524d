// Owns the `network` capability: built-in networking modules and the browser/Node network globals.
import type { Detector } from './types';
import { keypathOf } from './types';

const MODULES = new Set(['http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns']);
/** Pure helpers and constant tables on network modules: using them sends nothing. */
const INERT_MEMBERS = new Set(['STATUS_CODES', 'METHODS', 'isIP', 'isIPv4', 'isIPv6', 'constants', 'validateHeaderName', 'validateHeaderValue', 'maxHeaderSize', 'getDefaultAutoSelectFamily']);
const GLOBALS = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource']);

export const network: Detector = {
  meta: {
    id: 'network/access',
    capabilities: ['network'],
    severity: 'high',
    description: 'Network access through http/https/http2/net/tls/dgram/dns or fetch, XMLHttpRequest, WebSocket, EventSource, navigator.sendBeacon',
  },
  create: (ctx) => ({
    onUse(use) {
      if (use.how === 'typeof') return;
      const { root, members } = use;
      if (root.kind === 'module') {
        if (!MODULES.has(root.spec)) return;
        // `const http = require('http')` by itself sends nothing: its references are judged one by one.
        if (use.how === 'bind' && members.length === 0) return;
        const first = members[0];
        if (first !== undefined && INERT_MEMBERS.has(first)) return;
        ctx.report({ capability: 'network', api: keypathOf(root, members), path: use.path });
        return;
      }
      if (GLOBALS.has(root.name)) {
        // `if (window.fetch)` style feature tests are reads; only calls, constructions, hooks and hand-offs count.
        if (use.how === 'read' && members.length === 0) return;
        ctx.report({ capability: 'network', api: keypathOf(root, members), path: use.path });
        return;
      }
      if (root.name === 'navigator' && members[0] === 'sendBeacon' && use.how !== 'read') {
        ctx.report({ capability: 'network', api: 'navigator.sendBeacon', path: use.path });
      }
    },
  }),
};
