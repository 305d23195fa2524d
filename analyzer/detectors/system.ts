// Owns the flag-tier host capabilities: os-info (identifying os.* calls), crypto, wasm
// (WebAssembly, wasi) and debug-inspector (inspector, v8.setFlagsFromString).
import type { Detector } from './types';
import { keypathOf } from './types';

/** os members that only describe the platform for portability (line endings, path rules, CPU count). */
const OS_PORTABILITY = new Set(['EOL', 'platform', 'arch', 'endianness', 'constants', 'tmpdir', 'type', 'availableParallelism', 'cpus', 'devNull', 'default']);

export const system: Detector = {
  meta: {
    id: 'system/host-info',
    capabilities: ['os-info', 'crypto', 'wasm', 'debug-inspector'],
    severity: 'low',
    description: 'Host identification (os), cryptography, WebAssembly and inspector/V8 flags',
  },
  create: (ctx) => ({
    onUse(use) {
      const { root, members, how } = use;
      if (how === 'typeof') return;
      if (root.kind === 'module') {
        switch (root.spec) {
          case 'os': {
            const m = members[0];
            if (m === undefined ? how === 'bind' || how === 'read' : OS_PORTABILITY.has(m)) return;
            ctx.report({ capability: 'os-info', api: keypathOf(root, members.slice(0, 1)), path: use.path });
            return;
          }
          case 'crypto':
            ctx.report({ capability: 'crypto', api: keypathOf(root, members.slice(0, 1)), path: use.path });
            return;
          case 'wasi':
            ctx.report({ capability: 'wasm', api: 'wasi', path: use.path });
            return;
          case 'inspector':
            ctx.report({ capability: 'debug-inspector', api: keypathOf(root, members.slice(0, 1)), path: use.path });
            return;
          case 'v8':
            if (members[0] === 'setFlagsFromString') ctx.report({ capability: 'debug-inspector', api: 'v8.setFlagsFromString', path: use.path });
            return;
          default:
            return;
        }
      }
      if (root.name === 'WebAssembly' && !(how === 'read' && members.length === 0)) {
        ctx.report({ capability: 'wasm', api: keypathOf(root, members.slice(0, 1)), path: use.path });
      } else if (root.name === 'crypto' && members.length > 0 && how !== 'write') {
        ctx.report({ capability: 'crypto', api: keypathOf(root, members.slice(0, 1)), path: use.path });
      }
    },
  }),
};
