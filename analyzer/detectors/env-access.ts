// Owns env-read (process.env.NAME, the name is the evidence) and env-enumerate (the whole
// process.env object spread, serialised, iterated or handed on).
import type { NodePath } from '@babel/traverse';
import type { Detector } from './types';

const MEMBERSHIP = new Set(['Object.hasOwn', 'Reflect.has', 'Reflect.get', 'Object.prototype.hasOwnProperty.call', 'Object.getOwnPropertyDescriptor']);

/** `Object.hasOwn(env, k)`, `hasOwnProperty.call(env, k)`, `Reflect.get(env, k)`: one key, not the whole object. */
function isMembershipTest(path: NodePath): boolean {
  const parent = path.parent;
  if (parent.type !== 'CallExpression' || parent.arguments[0] !== path.node) return false;
  const text = calleeText(parent.callee);
  return text !== undefined && (MEMBERSHIP.has(text) || text.endsWith('hasOwnProperty.call'));
}

const SPAWNERS = /^(?:spawn|spawnSync|exec|execSync|execFile|execFileSync|fork|execa|execaSync|execaNode|crossSpawn|runCommand)$/;

/**
 * `spawn(cmd, args, { env: process.env })`, `env: { ...process.env, X: 1 }` in spawn options, or an
 * exported API object (`module.exports = { env: process.env }`): the environment handed to a child
 * process or exposed as configuration, not collected. An `env:` property anywhere else (a payload
 * object being built) still enumerates.
 */
function isChildEnv(path: NodePath): boolean {
  let p: NodePath | null = path.parentPath;
  if (p?.node.type === 'SpreadElement') p = p.parentPath?.parentPath ?? null;
  if (p?.node.type !== 'ObjectProperty') return false;
  const key = p.node.key;
  if (p.node.computed || key.type !== 'Identifier' || key.name !== 'env') return false;
  const obj = p.parentPath;
  const holder = obj?.parent;
  if (holder === undefined || obj === null) return false;
  if (holder.type === 'CallExpression' && holder.arguments.indexOf(obj.node as never) >= 1) {
    const callee = holder.callee;
    const name = callee.type === 'Identifier' ? callee.name : callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' ? callee.property.name : '';
    return SPAWNERS.test(name);
  }
  if (holder.type === 'AssignmentExpression' && holder.right === obj.node) {
    const text = calleeText(holder.left);
    return text === 'module.exports' || (text?.startsWith('exports.') ?? false);
  }
  return holder.type === 'ExportDefaultDeclaration';
}

function calleeText(node: import('@babel/types').Node): string | undefined {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') {
    const obj = calleeText(node.object);
    return obj === undefined ? undefined : obj + '.' + node.property.name;
  }
  return undefined;
}

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
        if (use.how === 'escape' && (isMembershipTest(use.path) || isChildEnv(use.path))) {
          ctx.report({ capability: 'env-read', api: 'process.env[*]', path: use.path });
          return;
        }
        ctx.report({ capability: 'env-enumerate', api: 'process.env', path: use.path });
        return;
      }
      if (name === 'hasOwnProperty' || name === 'toString') return;
      ctx.report({ capability: 'env-read', api: name === '*' ? 'process.env[*]' : 'process.env.' + name, path: use.path });
    },
  }),
};
