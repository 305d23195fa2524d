// Owns global-tamper (writes to globals and built-in prototypes: window.fetch = ...,
// XMLHttpRequest.prototype.open = ..., Object.defineProperty(window, ...)) and dynamic-require for
// computed, unfoldable keys on the global object (global[x], window[name]).
import type * as t from '@babel/types';
import type { Detector } from './types';
import { keypathOf } from './types';
import { WALLET_GLOBALS } from './catalog';

/** Globals whose replacement changes other code's behaviour. */
const TAMPERABLE = new Set([
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Promise', 'RegExp', 'Date', 'Error', 'JSON', 'Math',
  'Reflect', 'Map', 'Set', 'WeakMap', 'Function', 'console', 'document', 'navigator', 'Element', 'HTMLElement', 'Node',
  'EventTarget', 'Request', 'Response', 'Headers', 'fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'localStorage',
  'sessionStorage', 'Buffer', 'setTimeout', 'setInterval', 'eval', 'crypto',
]);
/** Globals that carry data out: hooking them at any depth (`navigator.clipboard.writeText = ...`) counts. */
const IO_GLOBALS = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'navigator', 'document', 'localStorage', 'sessionStorage', 'Request', 'Response', 'Headers', ...WALLET_GLOBALS]);
/** V8's documented customisation points, not tampering. */
const KNOBS = new Set(['stackTraceLimit', 'prepareStackTrace', 'captureStackTrace']);

/** Does this name exist on the real built-in (so a write overrides it rather than adding something)? */
function existsOn(holder: unknown, key: string): boolean {
  if ((typeof holder !== 'object' && typeof holder !== 'function') || holder === null) return false;
  try {
    return key in holder;
  } catch {
    return false;
  }
}

/**
 * Tampering is overriding what other code relies on: replacing an existing global (`window.fetch =`),
 * overriding an existing built-in member or prototype method (`Array.prototype.map =`,
 * `JSON.parse =`), or hooking an I/O or wallet global at any depth (`XMLHttpRequest.prototype.open =`,
 * `window.ethereum.request =`). Adding new names (polyfills, `Function.prototype.once`, library
 * singletons on globalThis) is not. Existence is checked against this runtime's built-ins.
 */
export function isTamper(root: string, members: readonly string[], viaGlobalObject: boolean): boolean {
  if (IO_GLOBALS.has(root)) return true;
  const g = globalThis as unknown as Record<string, unknown>;
  if (members.length === 0) return TAMPERABLE.has(root) || (viaGlobalObject && existsOn(g, root));
  if (!TAMPERABLE.has(root)) return false;
  const builtin = g[root];
  // Browser-only built-ins (Element, HTMLElement, document...) cannot be checked here: any write counts.
  if (builtin === undefined) return true;
  if (members[0] === 'prototype') {
    if (members.length === 1) return true;
    const proto = existsOn(builtin, 'prototype') ? (builtin as { prototype: unknown }).prototype : undefined;
    const m = members[1] ?? '';
    return m === '*' || existsOn(proto, m);
  }
  const m = members[0] ?? '';
  if (KNOBS.has(m)) return false;
  return m === '*' || existsOn(builtin, m);
}

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
      if (isTamper(root.name, members, use.viaGlobalObject)) {
        ctx.report({ capability: 'global-tamper', api: keypathOf(root, members), path: use.path });
      }
    },
    guards: {
      CallExpression: (node) => {
        const callee = (node as t.CallExpression).callee;
        if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier') return false;
        const name = callee.property.name;
        return name === 'defineProperty' || name === 'defineProperties' || name === 'assign' || name === 'setPrototypeOf';
      },
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
        const key = path.node.arguments[1];
        const keyValue = key === undefined || key.type === 'SpreadElement' || key.type === 'ArgumentPlaceholder' ? undefined : ctx.fold(key, path.scope)?.value;
        let hit = false;
        if (r.root.name === 'globalThis' && r.members.length === 0) {
          // Object.defineProperty(window, 'fetch', ...) replaces a global; Object.assign(globalThis, polyfills)
          // only adds missing ones unless it names an existing global.
          if (name === 'defineProperty') hit = keyValue === undefined || isTamper(keyValue, [], true);
          else if (name === 'assign' && key?.type === 'ObjectExpression') hit = key.properties.some((p) => p.type === 'ObjectProperty' && !p.computed && p.key.type === 'Identifier' && isTamper(p.key.name, [], true));
          else if (name === 'setPrototypeOf') hit = true;
        } else if (TAMPERABLE.has(r.root.name) || IO_GLOBALS.has(r.root.name)) {
          const members = name === 'defineProperty' && keyValue !== undefined ? [...r.members, keyValue] : r.members;
          hit = name === 'setPrototypeOf' || (name === 'defineProperty' && keyValue === undefined) || isTamper(r.root.name, members, false);
        }
        if (hit) ctx.report({ capability: 'global-tamper', api: `${obj.name}.${name}(${keypathOf(r.root, r.members)})`, path });
      },
    },
  }),
};
