// Owns module-internals (Module._load, require('module'), module.constructor, module.require,
// process.mainModule.require, require.cache / Module._extensions writes) and dynamic-require for
// `require` renamed or passed around. Plain `createRequire` (the ESM way to load CommonJS) is not
// an internal: its result is followed as a require function by the engine.
import type { Detector } from './types';
import { keypathOf } from './types';

const BENIGN_MODULE_MEMBERS = new Set(['createRequire', 'builtinModules', 'isBuiltin', 'findSourceMap', 'SourceMap', 'register', 'enableCompileCache', 'getCompileCacheDir', 'syncBuiltinESMExports']);
const BENIGN_MODULE_GLOBAL = new Set(['exports', 'id', 'filename', 'loaded', 'children', 'paths', 'parent', 'hot', 'path', 'i', 'l', 'webpackPolyfill', 'nmd', 'deprecate']);

export const moduleInternals: Detector = {
  meta: {
    id: 'module-internals/loader',
    capabilities: ['module-internals', 'dynamic-require'],
    severity: 'critical',
    description: "Reaches into Node's module loader, or hands `require` around",
  },
  create: (ctx) => ({
    onUse(use) {
      const { root, members, how } = use;
      if (how === 'typeof') return;
      if (root.kind === 'module') {
        if (root.spec !== 'module') return;
        const m = members[0];
        if (m !== undefined && BENIGN_MODULE_MEMBERS.has(m)) return;
        ctx.report({ capability: 'module-internals', api: keypathOf(root, members), path: use.path });
        return;
      }
      if (root.name === 'module') {
        const m = members[0];
        if (m === undefined || BENIGN_MODULE_GLOBAL.has(m) || m === '_compile') return;
        ctx.report({ capability: 'module-internals', api: keypathOf(root, members.slice(0, 2)), path: use.path });
        return;
      }
      if (root.name === 'process') {
        if (members[0] === 'mainModule' && (members[1] === 'require' || members[1] === 'constructor')) {
          ctx.report({ capability: 'module-internals', api: keypathOf(root, members.slice(0, 2)), path: use.path });
        }
        return;
      }
      if (root.name === 'require') {
        const m = members[0];
        if (m === undefined) {
          // Calls are loads (handled by the engine); `const r = require`, `f(require)`: renamed / passed around.
          if (how === 'bind' || how === 'escape') ctx.report({ capability: 'dynamic-require', api: 'require(renamed)', path: use.path });
          return;
        }
        if ((m === 'cache' || m === 'extensions') && (how === 'write' || how === 'delete' || members.length > 1 && (how === 'call' || how === 'escape'))) {
          ctx.report({ capability: 'module-internals', api: 'require.' + m, path: use.path });
        }
      }
    },
  }),
};
