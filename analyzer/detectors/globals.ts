// Owns global-tamper (writes to globals and built-in prototypes: window.fetch = ...,
// XMLHttpRequest.prototype.open = ..., Object.defineProperty(window, ...)) and dynamic-require for
// computed, unfoldable keys on the global object (global[x], window[name]).
import type * as t from '@babel/types';
import type { Detector } from './types';
import { keypathOf } from './types';

/** Globals whose replacement changes other code's behaviour. */
const TAMPERABLE = new Set([
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Promise', 'RegExp', 'Date', 'Error', 'JSON', 'Math',
  'Reflect', 'Map', 'Set', 'WeakMap', 'Function', 'console', 'document', 'navigator', 'Element', 'HTMLElement', 'Node',
  'EventTarget', 'Request', 'Response', 'Headers', 'fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'localStorage',
  'sessionStorage', 'Buffer', 'setTimeout', 'setInterval', 'eval', 'crypto',
]);
/** Globals that carry data out: hooking them at any depth (`navigator.clipboard.writeText = ...`) counts. */
const IO_GLOBALS = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'navigator', 'document', 'localStorage', 'sessionStorage', 'Request', 'Response', 'Headers']);
const NOT_TAMPER = new Set(['module', 'exports', 'require', 'process', 'globalThis']);

export const globals: Detector = {
  meta: {
    id: 'globals/tamper',
    capabilities: ['global-tamper', 'dynamic-require'],
    severity: 'medium',
    description: 'Writes globals or built-in prototypes; computed global access',
  },
  create: (ctx) => ({
    onUse(use) {
      const { root, members, how } = use;
      if (root.kind !== 'global') return;
      if (root.name === 'globalThis') {
        if (members[0] === '*' && how !== 'typeof') {
          ctx.report({ capability: 'dynamic-require', api: 'globalThis[*]', path: use.path });
          if (how === 'write') ctx.report({ capability: 'global-tamper', api: 'globalThis[*]', path: use.path });
        }
        return;
      }
      if (how !== 'write' && how !== 'delete') return;
      if (NOT_TAMPER.has(root.name)) return;
      // Replacing a global (`window.fetch = ...`, `fetch = ...`), patching a built-in prototype, or hooking
      // an I/O global at any depth. Tuning knobs such as Error.stackTraceLimit are not tampering.
      const replacesGlobal = members.length === 0 && (use.viaGlobalObject || TAMPERABLE.has(root.name));
      const patchesPrototype = TAMPERABLE.has(root.name) && members[0] === 'prototype';
      const hooksIo = IO_GLOBALS.has(root.name);
      if (replacesGlobal || patchesPrototype || hooksIo) {
        ctx.report({ capability: 'global-tamper', api: keypathOf(root, members), path: use.path });
      }
    },
    visitor: {
      CallExpression(path) {
        const callee = path.node.callee;
        if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier') return;
        const name = callee.property.name;
        if (name !== 'defineProperty' && name !== 'defineProperties' && name !== 'assign' && name !== 'setPrototypeOf') return;
        const obj = callee.object;
        if (obj.type !== 'Identifier' || (obj.name !== 'Object' && obj.name !== 'Reflect') || path.scope.getBinding(obj.name) !== undefined) return;
        const target = path.node.arguments[0] as t.Node | undefined;
        if (target === undefined) return;
        const r = ctx.resolve(target, path.scope);
        if (r === undefined || r.root.kind !== 'global') return;
        const isGlobalObject = r.root.name === 'globalThis' && r.members.length === 0;
        const isBuiltinProto = TAMPERABLE.has(r.root.name) && (r.members.length === 0 ? r.root.name !== 'Object' : r.members[0] === 'prototype');
        if (isGlobalObject || isBuiltinProto) {
          ctx.report({ capability: 'global-tamper', api: `${obj.name}.${name}(${keypathOf(r.root, r.members)})`, path });
        }
      },
    },
  }),
};
