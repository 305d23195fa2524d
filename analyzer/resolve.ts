// Owns "what does this expression refer to": resolves identifiers through Babel scope bindings
// (aliases, destructuring, re-assignment, imports, interop helpers) to a built-in module or global
// plus a member path, the way LavaMoat tofu does. Shadowed names resolve to nothing.
import { builtinModules } from 'node:module';
import type { Binding, Scope } from '@babel/traverse';
import type * as t from '@babel/types';
import { foldString } from './fold';
import type { Root } from './detectors/types';

export interface Ref {
  readonly root: Root;
  readonly members: readonly string[];
  readonly obfuscated: boolean;
  readonly viaGlobalObject: boolean;
}

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/** Names that are the global object itself. */
export const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'window', 'self']);

/** Interop wrappers emitted by TypeScript, Babel, esbuild, rollup and swc around `require()`. */
const INTEROP = /^_*(?:importDefault|importStar|interopRequireDefault|interopRequireWildcard|interopNamespace|interopDefault|toESM|toCommonJS|_interopRequireDefault|_interop_require_default|_interop_require_wildcard|interopRequireDefaultLegacy|default)$|^_interop/;

/** esbuild/rollup/webpack wrappers that call the real `require`. */
const REQUIRE_ALIASES = new Set(['__require', '__non_webpack_require__', 'requireNative']);

/** Normalises a module specifier: drops `node:`, maps `fs/promises` to `fs` + `promises`. */
export function normaliseSpec(spec: string): { spec: string; members: string[] } {
  const s = spec.startsWith('node:') ? spec.slice(5) : spec;
  if (BUILTINS.has(s) || spec.startsWith('node:')) {
    const slash = s.indexOf('/');
    if (slash > 0) return { spec: s.slice(0, slash), members: s.slice(slash + 1).split('/') };
    return { spec: s, members: [] };
  }
  return { spec: s, members: [] };
}

export function isBuiltinSpec(spec: string): boolean {
  return BUILTINS.has(spec);
}

function moduleRef(spec: string, members: readonly string[], obfuscated: boolean): Ref {
  const n = normaliseSpec(spec);
  if (n.spec === 'process' && isBuiltinSpec('process')) {
    return { root: { kind: 'global', name: 'process' }, members: [...n.members, ...members], obfuscated, viaGlobalObject: false };
  }
  return { root: { kind: 'module', spec: n.spec }, members: [...n.members, ...members], obfuscated, viaGlobalObject: false };
}

/** Appends a member to a ref, seeing through `window.x`, interop `.default` on modules. */
export function extend(ref: Ref, key: string, obfuscated: boolean): Ref {
  if (ref.root.kind === 'global' && GLOBAL_OBJECTS.has(ref.root.name) && ref.members.length === 0 && key !== '*') {
    const name = GLOBAL_OBJECTS.has(key) ? 'globalThis' : key;
    return { root: { kind: 'global', name }, members: [], obfuscated: ref.obfuscated || obfuscated, viaGlobalObject: true };
  }
  if (ref.root.kind === 'module' && key === 'default' && ref.members.length === 0 && isBuiltinSpec(ref.root.spec)) {
    return ref;
  }
  return { ...ref, members: [...ref.members, key], obfuscated: ref.obfuscated || obfuscated };
}

/** Is this ref a function that loads modules (`require`, `module.require`, `createRequire()` result...)? */
export function isRequireFn(ref: Ref): boolean {
  const { root, members } = ref;
  if (root.kind === 'global') {
    if (root.name === 'require' && members.length === 0) return true;
    if (root.name === 'module' && members.length === 1 && members[0] === 'require') return true;
    if (root.name === 'module' && members.length === 2 && members[0] === 'constructor' && members[1] === '_load') return true;
    if (root.name === 'process' && members.length === 2 && members[0] === 'mainModule' && members[1] === 'require') return true;
    return false;
  }
  return root.spec === 'module' && members.length === 1 && members[0] === '_load';
}

const MAX_DEPTH = 24;

/** Resolution with a per-binding cache; one instance per scanned file. */
export class Resolver {
  private readonly cache = new WeakMap<Binding, Ref | null>();

  constructor(private readonly foldKey: (node: t.Node, scope: Scope) => { value: string; obfuscated: boolean } | undefined) {}

  resolve(node: t.Node, scope: Scope, depth = 0): Ref | undefined {
    if (depth > MAX_DEPTH) return undefined;
    switch (node.type) {
      case 'Identifier':
        return this.identifier(node.name, scope, depth);
      case 'MemberExpression':
      case 'OptionalMemberExpression': {
        const obj = this.resolve(node.object, scope, depth + 1);
        if (obj === undefined) return undefined;
        const key = this.key(node, scope);
        return extend(obj, key.value, key.obfuscated);
      }
      case 'CallExpression':
      case 'OptionalCallExpression':
        return this.call(node, scope, depth);
      case 'NewExpression': {
        // new module.constructor() / new Module(): a fresh module object, with _compile and _load.
        const c = this.resolve(node.callee, scope, depth + 1);
        if (c !== undefined && ((c.root.kind === 'global' && c.root.name === 'module' && c.members.length === 1 && c.members[0] === 'constructor') || (c.root.kind === 'module' && c.root.spec === 'module' && c.members.length === 0))) {
          return { root: { kind: 'global', name: 'module' }, members: [], obfuscated: c.obfuscated, viaGlobalObject: false };
        }
        return undefined;
      }
      case 'AwaitExpression':
        return node.argument ? this.resolve(node.argument, scope, depth + 1) : undefined;
      case 'LogicalExpression':
        return this.resolve(node.left, scope, depth + 1) ?? this.resolve(node.right, scope, depth + 1);
      case 'ConditionalExpression':
        return this.resolve(node.consequent, scope, depth + 1) ?? this.resolve(node.alternate, scope, depth + 1);
      case 'SequenceExpression': {
        const last = node.expressions[node.expressions.length - 1];
        return last ? this.resolve(last, scope, depth + 1) : undefined;
      }
      case 'AssignmentExpression':
        return node.operator === '=' ? this.resolve(node.right, scope, depth + 1) : undefined;
      case 'ParenthesizedExpression':
      case 'TSAsExpression':
      case 'TSNonNullExpression':
      case 'TypeCastExpression':
        return this.resolve(node.expression, scope, depth + 1);
      default:
        return undefined;
    }
  }

  /** The key of a member expression: its name, a folded computed key, or `*`. */
  key(node: t.MemberExpression | t.OptionalMemberExpression, scope: Scope): { value: string; obfuscated: boolean } {
    if (!node.computed) {
      return node.property.type === 'Identifier' ? { value: node.property.name, obfuscated: false } : { value: '*', obfuscated: false };
    }
    const f = this.foldKey(node.property, scope);
    return f === undefined ? { value: '*', obfuscated: false } : f;
  }

  private identifier(name: string, scope: Scope, depth: number): Ref | undefined {
    // Bundler wrappers around require (`var __require = ...`) load modules whatever their body says.
    if (REQUIRE_ALIASES.has(name)) return { root: { kind: 'global', name: 'require' }, members: [], obfuscated: false, viaGlobalObject: false };
    const binding = scope.getBinding(name);
    if (binding === undefined) {
      if (GLOBAL_OBJECTS.has(name)) return { root: { kind: 'global', name: 'globalThis' }, members: [], obfuscated: false, viaGlobalObject: false };
      return { root: { kind: 'global', name }, members: [], obfuscated: false, viaGlobalObject: false };
    }
    const cached = this.cache.get(binding);
    if (cached !== undefined) return cached ?? undefined;
    this.cache.set(binding, null); // cycle guard
    const out = this.binding(binding, depth);
    this.cache.set(binding, out ?? null);
    return out;
  }

  private binding(binding: Binding, depth: number): Ref | undefined {
    const path = binding.path;
    const node = path.node;
    if (binding.kind === 'module') {
      const decl = path.parentPath?.node;
      if (decl?.type !== 'ImportDeclaration' || decl.importKind === 'type' || decl.importKind === 'typeof') return undefined;
      if (node.type === 'ImportSpecifier') {
        if (node.importKind === 'type') return undefined;
        const imported = node.imported.type === 'Identifier' ? node.imported.name : node.imported.value;
        return imported === 'default' ? moduleRef(decl.source.value, [], false) : moduleRef(decl.source.value, [imported], false);
      }
      return moduleRef(decl.source.value, [], false);
    }
    if (binding.kind === 'param' || binding.kind === 'hoisted' || binding.kind === 'local') {
      // Esbuild's `var __require = ...` wrappers are hoisted functions we cannot see through; everything
      // else bound here is user code.
      return undefined;
    }
    if (node.type !== 'VariableDeclarator') return undefined;
    const scope = path.scope;
    let base: Ref | undefined;
    if (node.init != null) base = this.resolve(node.init, scope, depth + 1);
    if (base === undefined) {
      // `let cp; cp = require('child_process')`: follow plain re-assignments.
      for (const v of binding.constantViolations) {
        const a = v.node;
        if (a.type === 'AssignmentExpression' && a.operator === '=' && a.left.type === 'Identifier') {
          base = this.resolve(a.right, v.scope, depth + 1);
          if (base !== undefined) break;
        }
      }
    }
    if (base === undefined) return undefined;
    if (node.id.type === 'Identifier') return base;
    if (node.id.type === 'ObjectPattern') {
      const members = patternPath(node.id, binding.identifier);
      if (members === undefined) return undefined;
      let ref = base;
      for (const m of members) ref = extend(ref, m, false);
      return ref;
    }
    return undefined;
  }

  private call(node: t.CallExpression | t.OptionalCallExpression, scope: Scope, depth: number): Ref | undefined {
    const callee = node.callee;
    const arg0 = node.arguments[0];
    if (callee.type === 'Import') {
      if (arg0 === undefined) return undefined;
      const f = foldString(arg0, scope);
      return f === undefined ? undefined : moduleRef(f.value, [], f.obfuscated);
    }
    if (callee.type === 'V8IntrinsicIdentifier') return undefined;
    if (callee.type === 'Identifier' && INTEROP.test(callee.name) && arg0 !== undefined && arg0.type !== 'SpreadElement' && arg0.type !== 'ArgumentPlaceholder') {
      const inner = this.resolve(arg0, scope, depth + 1);
      if (inner !== undefined) return inner;
    }
    const fn = this.resolve(callee, scope, depth + 1);
    if (fn === undefined) return undefined;
    if (isRequireFn(fn)) {
      if (arg0 === undefined || arg0.type === 'SpreadElement' || arg0.type === 'ArgumentPlaceholder') return undefined;
      const f = foldString(arg0, scope);
      return f === undefined ? undefined : moduleRef(f.value, [], f.obfuscated || fn.obfuscated);
    }
    // createRequire(...) returns a require function.
    if (fn.root.kind === 'module' && fn.root.spec === 'module' && fn.members.length === 1 && (fn.members[0] === 'createRequire' || fn.members[0] === 'createRequireFromPath')) {
      return { root: { kind: 'global', name: 'require' }, members: [], obfuscated: fn.obfuscated, viaGlobalObject: false };
    }
    // util.promisify(fs.readFile) keeps the capability of its argument.
    if (fn.root.kind === 'module' && fn.root.spec === 'util' && fn.members[0] === 'promisify' && arg0 !== undefined && arg0.type !== 'SpreadElement' && arg0.type !== 'ArgumentPlaceholder') {
      return this.resolve(arg0, scope, depth + 1);
    }
    // `.bind(...)`/`.call` results keep the function they wrap.
    if (fn.members.length > 0 && fn.members[fn.members.length - 1] === 'bind') {
      return { ...fn, members: fn.members.slice(0, -1) };
    }
    return undefined;
  }
}

/** For `const { a: { b: x } } = ...`, the member path leading to binding identifier x: ['a', 'b']. */
function patternPath(pattern: t.ObjectPattern, id: t.Identifier): string[] | undefined {
  for (const prop of pattern.properties) {
    if (prop.type === 'RestElement') continue;
    let key: string | undefined;
    if (!prop.computed && prop.key.type === 'Identifier') key = prop.key.name;
    else if (prop.key.type === 'StringLiteral') key = prop.key.value;
    if (key === undefined) continue;
    let value = prop.value;
    if (value.type === 'AssignmentPattern') value = value.left;
    if (value === id || (value.type === 'Identifier' && value.name === id.name && value.start === id.start)) return [key];
    if (value.type === 'ObjectPattern') {
      const inner = patternPath(value, id);
      if (inner !== undefined) return [key, ...inner];
    }
  }
  return undefined;
}
