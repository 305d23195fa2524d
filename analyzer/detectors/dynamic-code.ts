// Owns code-eval: eval (direct, indirect, aliased), Function / new Function, x.constructor.constructor(),
// vm.*, module._compile, setTimeout/setInterval with a string. Arguments that fold to a string are
// re-parsed and scanned (decode-then-eval), and a decoded payload is also obfuscation.
import type { NodePath, Scope } from '@babel/traverse';
import type * as t from '@babel/types';
import type { Detector, DetectorContext } from './types';
import { keypathOf } from './types';

const VM_SINKS = new Set(['runInThisContext', 'runInNewContext', 'runInContext', 'Script', 'compileFunction', 'SourceTextModule']);

/** Folds a code argument; if it folds, scans the payload and records obfuscation when decoding was needed. */
function inspectPayload(ctx: DetectorContext, arg: t.Node | undefined, at: NodePath): void {
  if (arg === undefined) return;
  const f = ctx.fold(arg, at.scope);
  if (f === undefined) return;
  if (f.obfuscated) ctx.report({ capability: 'obfuscation', api: 'decoded-payload', path: at });
  ctx.scanPayload(f.value, at);
}

function isStringish(node: t.Node | undefined): boolean {
  return node !== undefined && (node.type === 'StringLiteral' || node.type === 'TemplateLiteral' || (node.type === 'BinaryExpression' && node.operator === '+'));
}

export const dynamicCode: Detector = {
  meta: {
    id: 'dynamic-code/eval',
    capabilities: ['code-eval', 'obfuscation'],
    severity: 'critical',
    description: 'Evaluates strings as code: eval, Function, vm, module._compile, string timers',
  },
  create: (ctx) => ({
    onUse(use) {
      if (use.how === 'typeof') return;
      const { root, members } = use;
      const args = use.call?.node.arguments;
      if (root.kind === 'module') {
        if (root.spec !== 'vm') return;
        if (use.how === 'bind' && members.length > 0 && !VM_SINKS.has(members[0] ?? '')) return;
        ctx.report({ capability: 'code-eval', api: keypathOf(root, members), path: use.path });
        if (use.call !== undefined && VM_SINKS.has(members[0] ?? '')) inspectPayload(ctx, args?.[0], use.call);
        return;
      }
      switch (root.name) {
        case 'eval':
        case 'execScript':
          if (members.length > 0 || use.how === 'read') return;
          ctx.report({ capability: 'code-eval', api: root.name, path: use.path });
          if (use.call !== undefined) inspectPayload(ctx, args?.[0], use.call);
          return;
        case 'Function': {
          const m = members[0];
          if (members.length === 0 && (use.how === 'call' || use.how === 'new')) {
            ctx.report({ capability: 'code-eval', api: 'Function', path: use.path });
            if (use.call !== undefined && args !== undefined && args.length > 0) inspectPayload(ctx, args[args.length - 1], use.call);
          } else if (members.length === 1 && (m === 'call' || m === 'apply' || m === 'bind') && use.how === 'call') {
            ctx.report({ capability: 'code-eval', api: 'Function.' + m, path: use.path });
          }
          return;
        }
        case 'module':
          // A module object's computed method call may be _compile: treat it as a code sink.
          if (members[0] === '*' && members.length === 1 && use.how === 'call') {
            ctx.report({ capability: 'code-eval', api: 'module[*]()', path: use.path });
            return;
          }
          if (members[0] === '_compile') {
            ctx.report({ capability: 'code-eval', api: 'module._compile', path: use.path });
            if (use.call !== undefined) inspectPayload(ctx, args?.[0], use.call);
          }
          return;
        case 'setTimeout':
        case 'setInterval':
          if (members.length === 0 && use.call !== undefined && args !== undefined) {
            const a0 = args[0];
            if (isStringish(a0) || (a0 !== undefined && a0.type === 'Identifier' && ctx.fold(a0, use.call.scope) !== undefined)) {
              ctx.report({ capability: 'code-eval', api: root.name + '(string)', path: use.path });
              inspectPayload(ctx, a0, use.call);
            }
          }
          return;
        case 'Reflect':
          // Reflect.construct(Function, [...]) / Reflect.apply(Function, ...)
          if ((members[0] === 'construct' || members[0] === 'apply') && use.call !== undefined) {
            const a0 = args?.[0];
            if (a0 !== undefined && a0.type === 'Identifier' && a0.name === 'Function' && use.call.scope.getBinding('Function') === undefined) {
              ctx.report({ capability: 'code-eval', api: 'Reflect.' + members[0] + '(Function)', path: use.path });
            }
          }
          return;
        default:
          return;
      }
    },
    guards: {
      CallExpression: (node) => {
        const callee = (node as t.CallExpression).callee;
        return callee.type === 'MemberExpression' && callee.object.type === 'MemberExpression';
      },
    },
    visitor: {
      // (anything).constructor.constructor('code')() reaches Function without naming it.
      CallExpression(path) {
        const callee = path.node.callee;
        if (callee.type !== 'MemberExpression' || callee.object.type !== 'MemberExpression') return;
        const outer = keyName(ctx, callee, path.scope);
        if (outer?.value !== 'constructor') return;
        const inner = keyName(ctx, callee.object, path.scope);
        if (inner?.value === 'constructor') {
          if (outer.obfuscated || inner.obfuscated) ctx.report({ capability: 'obfuscation', api: 'decoded:constructor.constructor', path });
          ctx.report({ capability: 'code-eval', api: 'constructor.constructor', path });
          const args = path.node.arguments;
          if (args.length > 0) inspectPayload(ctx, args[args.length - 1], path);
        }
      },
    },
  }),
};

function keyName(ctx: DetectorContext, node: t.MemberExpression, scope: Scope): { value: string; obfuscated: boolean } | undefined {
  if (!node.computed) return node.property.type === 'Identifier' ? { value: node.property.name, obfuscated: false } : undefined;
  return ctx.fold(node.property, scope);
}
