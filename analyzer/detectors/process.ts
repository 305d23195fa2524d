// Owns process-level capabilities: child processes (child_process, process.binding('spawn_sync'),
// cluster with an exec option), process internals (process.binding, _linkedBinding, dlopen,
// internalBinding) and workers (worker_threads, cluster, Worker).
import type { Detector } from './types';
import { keypathOf } from './types';

const SPAWN_BINDINGS = new Set(['spawn_sync', 'process_wrap', 'pipe_wrap']);
const INTERNALS = new Set(['binding', '_linkedBinding', 'dlopen']);

export const childProcess: Detector = {
  meta: {
    id: 'process/child-process',
    capabilities: ['child-process', 'process-internals', 'worker', 'native-code'],
    severity: 'critical',
    description: 'Spawns processes or reaches into process internals',
  },
  create: (ctx) => ({
    onUse(use) {
      if (use.how === 'typeof') return;
      const { root, members } = use;
      if (root.kind === 'module') {
        if (root.spec === 'child_process') {
          ctx.report({ capability: 'child-process', api: keypathOf(root, members), path: use.path });
        } else if (root.spec === 'worker_threads') {
          const m = members[0];
          if (m === 'isMainThread' || m === 'threadId') return;
          ctx.report({ capability: 'worker', api: keypathOf(root, members), path: use.path });
        } else if (root.spec === 'cluster') {
          ctx.report({ capability: 'worker', api: keypathOf(root, members), path: use.path });
          const m = members[0];
          if ((m === 'setupPrimary' || m === 'setupMaster') && use.call !== undefined) {
            const arg = use.call.node.arguments[0];
            if (arg?.type === 'ObjectExpression' && arg.properties.some((p) => p.type === 'ObjectProperty' && p.key.type === 'Identifier' && p.key.name === 'exec')) {
              ctx.report({ capability: 'child-process', api: keypathOf(root, members) + '.exec', path: use.path });
            }
          }
        }
        return;
      }
      if (root.name === 'process') {
        const m = members[0];
        if (m === undefined) return;
        if (INTERNALS.has(m)) {
          ctx.report({ capability: 'process-internals', api: 'process.' + m, path: use.path });
          if (m === 'dlopen') ctx.report({ capability: 'native-code', api: 'process.dlopen', path: use.path });
          if (m === 'binding' && use.call !== undefined) {
            const arg = use.call.node.arguments[0];
            const f = arg === undefined ? undefined : ctx.fold(arg, use.call.scope);
            if (f !== undefined && SPAWN_BINDINGS.has(f.value)) {
              ctx.report({ capability: 'child-process', api: `process.binding('${f.value}')`, path: use.path });
            }
          }
        } else if (m === '*') {
          // A computed, unfoldable key on process can reach binding/dlopen/mainModule: whole object.
          ctx.report({ capability: 'process-internals', api: 'process[*]', path: use.path });
        }
        return;
      }
      if (root.name === 'internalBinding') {
        ctx.report({ capability: 'process-internals', api: 'internalBinding', path: use.path });
      } else if ((root.name === 'Worker' || root.name === 'SharedWorker') && use.how === 'new') {
        ctx.report({ capability: 'worker', api: root.name, path: use.path });
      }
    },
  }),
};
