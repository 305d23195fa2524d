// Owns env-read (process.env.NAME, the name is the evidence) and env-enumerate (the whole
// process.env object spread, serialised, iterated or handed on).
import type { Detector } from './types';

export const envAccess: Detector = {
  meta: {
    id: 'env-access/process-env',
    capabilities: ['env-read', 'env-enumerate'],
    severity: 'high',
    description: 'Reads environment variables, or takes the whole environment',
  },
  create: (ctx) => ({
    onUse(use) {
      const { root, members } = use;
      if (root.kind !== 'global' || root.name !== 'process' || members[0] !== 'env') return;
      if (use.how === 'typeof') return;
      const name = members[1];
      if (name === undefined) {
        // `const env = process.env` is followed through its references; everything else that takes
        // the object as a whole (spread, JSON.stringify, Object.keys, for-in, an argument) enumerates it.
        if (use.how === 'bind' || use.how === 'read') return;
        ctx.report({ capability: 'env-enumerate', api: 'process.env', path: use.path });
        return;
      }
      if (name === 'hasOwnProperty' || name === 'toString') return;
      ctx.report({ capability: 'env-read', api: name === '*' ? 'process.env[*]' : 'process.env.' + name, path: use.path });
    },
  }),
};
