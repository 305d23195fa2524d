// Owns building Babel's scopes for one file without @babel/traverse's crawl: one recursive walk over
// the raw AST that creates real Babel `Scope` and `Binding` objects, indistinguishable for the
// detectors from what `Scope#crawl` makes (walk.ts, resolve.ts, fold.ts, scan.ts use getBinding,
// binding.kind/path/identifier/constant/constantViolations/referencePaths and path.scope only).
//
// What the crawl costs and this does not: a NodePath, a TraversalContext entry, a setScope and a
// dozen virtual-type checks for every node of the file. Here a NodePath is made only for the nodes
// the scope graph points at: scope blocks, binding paths (declarators, params, function/class
// declarations, import specifiers, catch clauses), constant violations (assignments, updates and
// deletes of identifiers, for-in/of heads) and their ancestors. `binding.referencePaths` is filled
// on first access (its only consumer reads it for a few bindings of a few files); `references`
// and `referenced` are counted eagerly.
//
// The mirror of collectorVisitor (node_modules/@babel/traverse/lib/scope/index.js, 7.29):
// - scopes: every node `t.isScope(node, parent)` says is one (function bodies are not, patterns
//   among a function's params or a catch param are), whose path.scope is its own Scope; any other
//   path's scope is its parent's, or its grandparent's when it is a method's key/decorator or a
//   switch's discriminant (path/context.js setScope). A scope's parent is Babel's `Scope#parent`
//   getter: the nearest scope above, skipping a method whose key/decorator holds it.
// - var declarations (also in for heads) go to the function parent (or program); let/const/using,
//   class and function declarations to the block parent above the declaration (Babel has no Annex B
//   hoisting: a function declaration in a block is bound in that block, kind 'hoisted');
//   imports to the block parent, kind 'module' ('unknown' for type imports); params (kind 'param')
//   and a function or class expression's own name (kind 'local') to the function's/class's scope;
//   a catch param (kind 'let') to the catch clause; a class declaration's scope aliases its binding.
// - redeclarations call `reassign(bindingPath)`; the collisions for which Babel throws (let/const
//   /module/class against anything but params and locals) make the file fall back to Babel's crawl,
//   which throws the same error. `new Binding()` itself does Babel's var-in-loop `reassign`.
// - after the walk, in Babel's order: assignments (reassign, unbound names become program globals),
//   then references (ReferencedIdentifier: Identifier and JSXIdentifier), then updates, deletes and
//   for-in/of heads with a pattern or identifier on the left; export declarations reference their
//   declared bindings when the walk leaves them, so those paths lead `referencePaths`.
// - labels are registered on the block parent as Babel does.
//
// Falls back (returns undefined after dropping the paths and scopes it cached, and the caller runs
// Babel's own crawl) for TypeScript and Flow nodes (Babel skips type annotations but registers type
// declarations with kinds of their own), decorators, `declare class`, the collisions above, and
// trees deeper than MAX_DEPTH: Babel's crawl spends several frames per level and used to overflow on
// such files, which the scan reports as too deep; only Babel's crawl can reproduce that.
//
// Not mirrored: Babel's traversal skips a node object met a second time in one list; parsed ASTs
// never share nodes, and the builder would register and count such a node twice.
import traverseModule, { NodePath, Scope, type Binding } from '@babel/traverse';
import { FLIPPED_ALIAS_KEYS, VISITOR_KEYS, getAssignmentIdentifiers, getBindingIdentifiers, getOuterBindingIdentifiers, isReferenced, react } from '@babel/types';
import type * as t from '@babel/types';

type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

type BindingKind = Binding['kind'];
type BindingCtorType = new (opts: { identifier: t.Identifier; scope: Scope; path: NodePath; kind: BindingKind }) => Binding;
// Binding is not exported by @babel/traverse's index; its module is (the package has no exports map).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BabelBinding = (require('@babel/traverse/lib/scope/binding.js') as { default: BindingCtorType }).default;

/** Deeper trees go to Babel's crawl (see the header). Babel overflows far deeper than this. */
export const MAX_DEPTH = 400;

function aliasSet(alias: string): ReadonlySet<string> {
  return new Set(FLIPPED_ALIAS_KEYS[alias] ?? []);
}
const SCOPABLE = aliasSet('Scopable');
const PATTERN = aliasSet('Pattern');
const FUNCTION = aliasSet('Function');
const BLOCK_PARENT = aliasSet('BlockParent');
const FUNCTION_PARENT = aliasSet('FunctionParent');
const METHOD = aliasSet('Method');

/** Node types the builder does not mirror: the file goes to Babel's crawl. */
const UNSUPPORTED: ReadonlySet<string> = new Set([
  ...Object.keys(VISITOR_KEYS).filter((k) => k.startsWith('TS')),
  ...(FLIPPED_ALIAS_KEYS['Flow'] ?? []),
  ...(FLIPPED_ALIAS_KEYS['TypeScript'] ?? []),
  'Decorator', 'Placeholder', 'V8IntrinsicIdentifier', 'ModuleExpression', 'DoExpression', 'RecordExpression', 'TupleExpression',
  'BindExpression', 'PipelineTopicExpression', 'PipelineBareFunction', 'PipelinePrimaryTopicReference', 'TopicReference', 'ArgumentPlaceholder',
  'Noop', 'VoidPattern',
]);

/** Why the last files fell back, for the oracle script. */
export const scopeBuilderStats = { built: 0, fallbacks: new Map<string, number>() };

class Bail {
  constructor(readonly reason: string) {}
}

/** What the builder knows of one scope, beside the Babel Scope itself. */
interface Info {
  readonly scope: Scope;
  /** Babel's `scope.parent`. */
  readonly parent: Info | undefined;
  /** `getFunctionParent() || getProgramParent()`. */
  readonly fnParent: Info;
  /** `getBlockParent()`. */
  readonly blockParent: Info;
  readonly isPattern: boolean;
  /** A non-arrow function: `arguments` does not resolve above it. */
  readonly stopsArguments: boolean;
}

interface ScopeInternals {
  inited: boolean;
  crawling: boolean | undefined;
  bindings: Record<string, Binding | undefined>;
  references: Record<string, boolean>;
  uids: Record<string, boolean>;
  globals: Record<string, t.Node>;
  data: Record<string, unknown>;
  labels: Map<string, NodePath>;
}

/** Babel's Scope#getBinding over the builder's parent links. */
function lookup(from: Info | undefined, name: string): Binding | undefined {
  let prevPattern = false;
  for (let s = from; s !== undefined; s = s.parent) {
    const b = (s.scope as unknown as ScopeInternals).bindings[name];
    if (b) {
      if (!(prevPattern && b.kind !== 'param' && b.kind !== 'local')) return b;
    } else if (name === 'arguments' && s.stopsArguments) {
      return undefined;
    }
    prevPattern = s.isPattern;
  }
  return undefined;
}

/** `t.isScope(node, parent)`. */
export function isScopeNode(node: t.Node, parent: t.Node): boolean {
  return isScopeOf(descOf(node.type), descOf(parent.type));
}

/** An ObjectMethod, ClassMethod or ClassPrivateMethod (whose key and decorators sit in the scope around it). */
export function isMethodType(type: string): boolean {
  return descOf(type).method;
}

function isScopeOf(desc: TypeDesc, parent: TypeDesc): boolean {
  if (desc.block && parent.fnOrCatch) return false;
  if (desc.pattern && parent.fnOrCatch) return true;
  return desc.scopable;
}

/** What the walk needs of a node type, in one lookup. */
interface TypeDesc {
  readonly keys: readonly string[] | undefined;
  readonly supported: boolean;
  readonly scopable: boolean;
  readonly pattern: boolean;
  /** BlockStatement (not a scope under a function or catch clause). */
  readonly block: boolean;
  /** A function or a catch clause (its block is not a scope, its patterns are). */
  readonly fnOrCatch: boolean;
  readonly method: boolean;
  /** The collector has something to do on entering such a node. */
  readonly handled: boolean;
}

const HANDLED = new Set(['VariableDeclaration', 'FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod', 'ClassDeclaration', 'ClassExpression', 'CatchClause', 'ImportDeclaration', 'LabeledStatement', 'AssignmentExpression', 'UpdateExpression', 'UnaryExpression', 'ForInStatement', 'ForOfStatement', 'Identifier', 'JSXIdentifier']);

const DESCS = new Map<string, TypeDesc>();

function descOf(type: string): TypeDesc {
  let d = DESCS.get(type);
  if (d === undefined) {
    const keys = VISITOR_KEYS[type];
    d = {
      keys,
      supported: keys !== undefined && !UNSUPPORTED.has(type),
      scopable: SCOPABLE.has(type),
      pattern: PATTERN.has(type),
      block: type === 'BlockStatement',
      fnOrCatch: FUNCTION.has(type) || type === 'CatchClause',
      method: METHOD.has(type),
      handled: HANDLED.has(type),
    };
    DESCS.set(type, d);
  }
  return d;
}

/**
 * Babel's ReferencedIdentifier check (`path.isReferencedIdentifier()` in
 * path/lib/virtual-types-validator.js), on raw nodes: an identifier that `isReferenced` by its parent
 * and grandparent; a JSX identifier unless it names a lower-case (host) tag.
 */
export function isReferencedIdentifier(node: t.Node, parent: t.Node, grandparent: t.Node | undefined): boolean {
  if (node.type === 'Identifier') return isReferenced(node, parent, grandparent);
  if (node.type === 'JSXIdentifier') {
    if (parent.type !== 'JSXMemberExpression' && react.isCompatTag(node.name)) return false;
    return isReferenced(node, parent, grandparent);
  }
  return false;
}

/** `NodePath.get`, typed loosely: the walks hand it raw containers and keys. */
export const getPath = NodePath.get as unknown as (opts: { parentPath: NodePath | null; parent: t.Node; container: unknown; key: string | number; listKey: string | undefined }) => NodePath;

interface PathInternals {
  scope: Scope | null;
}

/** State shared by a file's bindings, for materialising their referencePaths later. */
interface FileCtx {
  readonly infoOf: Map<t.Node, Info>;
}

/**
 * A Babel Binding whose referencePaths are made on first access (see the header). `references` and
 * `referenced` are kept up to date by the builder; `early` holds export declarations' paths.
 */
class LazyBinding extends BabelBinding {
  ctx: FileCtx | undefined;
  early: NodePath[] | undefined;
  refs: NodePath[] | undefined;

  // Binding's constructor assigns `this.referencePaths = []` (before the fields above are defined).
  // @ts-expect-error an accessor where Binding declares a property
  override get referencePaths(): NodePath[] {
    if (this.refs === undefined) {
      this.refs = this.early === undefined ? [] : [...this.early];
      if (this.references > this.refs.length && this.ctx !== undefined) collectReferences(this, this.ctx, this.refs);
    }
    return this.refs;
  }

  override set referencePaths(v: NodePath[]) {
    this.refs = v;
  }
}

function newBinding(ctx: FileCtx, id: t.Identifier, scope: Scope, path: NodePath, kind: BindingKind): LazyBinding {
  const b = new LazyBinding({ identifier: id, scope, path, kind });
  b.ctx = ctx;
  return b;
}

function resetScope(scope: Scope): void {
  const s = scope as unknown as ScopeInternals;
  s.references = Object.create(null) as Record<string, boolean>;
  s.uids = Object.create(null) as Record<string, boolean>;
  s.bindings = Object.create(null) as Record<string, Binding>;
  s.globals = Object.create(null) as Record<string, t.Node>;
  s.data = Object.create(null) as Record<string, unknown>;
  s.inited = true;
}

function makeInfo(scope: Scope, parent: Info | undefined, type: string): Info {
  const info: { -readonly [K in keyof Info]: Info[K] } = {
    scope,
    parent,
    fnParent: undefined as unknown as Info,
    blockParent: undefined as unknown as Info,
    isPattern: PATTERN.has(type),
    stopsArguments: FUNCTION.has(type) && type !== 'ArrowFunctionExpression',
  };
  info.fnParent = parent === undefined || FUNCTION_PARENT.has(type) ? info : parent.fnParent;
  info.blockParent = parent === undefined || BLOCK_PARENT.has(type) ? info : parent.blockParent;
  return info;
}

/**
 * Builds the scopes of `ast` as `traverse(ast, { Program(path) { path.skip() } })` would (entering
 * Program crawls them) and returns the Program path, or undefined when the file needs Babel's crawl
 * (nothing of this attempt is left in Babel's caches then).
 */
export function buildScopes(ast: t.File): NodePath<t.Program> | undefined {
  const made: NodePath[] = [];
  const scopeNodes: t.Node[] = [];
  try {
    const program = build(ast, made, scopeNodes);
    scopeBuilderStats.built++;
    return program;
  } catch (e) {
    if (!(e instanceof Bail)) throw e;
    scopeBuilderStats.fallbacks.set(e.reason, (scopeBuilderStats.fallbacks.get(e.reason) ?? 0) + 1);
    const cache = traverse.cache;
    for (const p of made) cache.path.delete(p.parent);
    for (const n of scopeNodes) cache.scope.delete(n);
    return undefined;
  }
}

function build(ast: t.File, made: NodePath[], scopeNodes: t.Node[]): NodePath<t.Program> {
  const ctx: FileCtx = { infoOf: new Map() };
  const infoOf = ctx.infoOf;

  // The current branch by depth: 0 is the File, 1 the Program. paths[d] is made lazily.
  const nodes: t.Node[] = [ast];
  const paths: (NodePath | undefined)[] = [undefined];
  const containers: unknown[] = [undefined];
  const keys: (string | number)[] = [''];
  const listKeys: (string | undefined)[] = [undefined];
  /** path.scope of the node at each depth. */
  const ps: Info[] = [];
  /** The scope a scope node at each depth would have as parent (Babel's Scope#parent). */
  const hs: (Info | undefined)[] = [undefined];
  /** The node's own scope, when it is a scope node. */
  const own: (Info | undefined)[] = [undefined];
  const descs: TypeDesc[] = [descOf('File'), descOf('Program')];

  const programPath = getPath({ parentPath: null, parent: ast, container: ast, key: 'program', listKey: undefined }) as NodePath<t.Program>;
  made.push(programPath);
  const programScope = new Scope(programPath);
  scopeNodes.push(ast.program);
  resetScope(programScope);
  const program = makeInfo(programScope, undefined, 'Program');
  infoOf.set(ast.program, program);
  (programPath as unknown as PathInternals).scope = programScope;
  const programRefs = (programScope as unknown as ScopeInternals).references;
  const programGlobals = (programScope as unknown as ScopeInternals).globals;
  (programScope as unknown as ScopeInternals).crawling = true;

  nodes[1] = ast.program;
  paths[1] = programPath;
  containers[1] = ast;
  keys[1] = 'program';
  listKeys[1] = undefined;
  ps[0] = program;
  ps[1] = program;
  hs[1] = undefined;
  own[1] = program;

  const assignments: NodePath[] = [];
  const assignmentScopes: Info[] = [];
  const violations: NodePath[] = [];
  const violationScopes: Info[] = [];
  const refNodes: (t.Identifier | t.JSXIdentifier)[] = [];
  const refScopes: Info[] = [];

  function pathAt(d: number): NodePath {
    let i = d;
    while (paths[i] === undefined) i--;
    for (let j = i + 1; j <= d; j++) {
      const p = getPath({ parentPath: paths[j - 1] as NodePath, parent: nodes[j - 1] as t.Node, container: containers[j], key: keys[j] as string | number, listKey: listKeys[j] });
      made.push(p);
      const pi = p as unknown as PathInternals;
      if (pi.scope == null) pi.scope = (ps[j] as Info).scope;
      paths[j] = p;
    }
    return paths[d] as NodePath;
  }

  /** The path of item `i` of list `listKey` of the node at depth d (a child not yet entered). */
  function childPath(d: number, listKey: string, i: number): NodePath {
    const parent = nodes[d] as t.Node;
    const container = (parent as unknown as Record<string, unknown>)[listKey] as t.Node[];
    const p = getPath({ parentPath: pathAt(d), parent, container, key: i, listKey });
    made.push(p);
    const pi = p as unknown as PathInternals;
    if (pi.scope == null) {
      const child = container[i] as t.Node;
      // A pattern among a function's params is a scope of its own (created early, as the crawl's
      // path.get('params') does); nothing else registered here is.
      pi.scope = isScopeNode(child, parent) ? scopeFor(p, child, ps[d] as Info).scope : (ps[d] as Info).scope;
    }
    return p;
  }

  function scopeFor(path: NodePath, node: t.Node, parent: Info): Info {
    let info = infoOf.get(node);
    if (info === undefined) {
      const scope = new Scope(path);
      scopeNodes.push(node);
      resetScope(scope);
      info = makeInfo(scope, parent, node.type);
      infoOf.set(node, info);
    }
    return info;
  }

  /** Scope#registerBinding(kind, path of `idsOf`, bindingPath), for the declared names of `idsOf`. */
  function register(target: Info, kind: BindingKind, idsOf: t.Node, bindingPath: NodePath): void {
    // The usual case, one plain name, without getOuterBindingIdentifiers' allocations.
    const single = idsOf.type === 'Identifier' ? idsOf : idsOf.type === 'VariableDeclarator' && idsOf.id.type === 'Identifier' ? idsOf.id : undefined;
    if (single !== undefined) {
      registerId(target, kind, single, bindingPath);
      return;
    }
    const ids = getOuterBindingIdentifiers(idsOf, true) as unknown as Record<string, t.Identifier[]>;
    for (const name of Object.keys(ids)) {
      for (const id of ids[name] as t.Identifier[]) registerId(target, kind, id, bindingPath);
    }
  }

  function registerId(target: Info, kind: BindingKind, id: t.Identifier, bindingPath: NodePath): void {
    const name = id.name;
    const bindings = (target.scope as unknown as ScopeInternals).bindings;
    programRefs[name] = true;
    const local = bindings[name];
    if (local) {
      if (local.identifier === id) return;
      if (kind !== 'param' && local.kind !== 'local') {
        const duplicate = kind === 'let' || local.kind === 'let' || local.kind === 'const' || local.kind === 'module' || (local.kind === 'param' && kind === 'const');
        if (duplicate) throw new Bail('duplicate-declaration');
      }
      local.reassign(bindingPath);
    } else {
      bindings[name] = newBinding(ctx, id, target.scope, bindingPath, kind);
    }
  }

  function params(d: number, info: Info): void {
    const fn = nodes[d] as t.Function;
    for (let i = 0; i < fn.params.length; i++) {
      const p = fn.params[i] as t.Node;
      register(info, 'param', p, childPath(d, 'params', i));
    }
  }

  function enter(d: number, node: t.Node, container: unknown, key: string | number, listKey: string | undefined): void {
    nodes[d] = node;
    paths[d] = undefined;
    containers[d] = container;
    keys[d] = key;
    listKeys[d] = listKey;
    descs[d] = descOf(node.type);
    const quirkKey = (key === 'key' || listKey === 'decorators') && (descs[d - 1] as TypeDesc).method;
    const quirkScope = quirkKey || (key === 'discriminant' && (nodes[d - 1] as t.Node).type === 'SwitchStatement');
    ps[d] = quirkScope ? (ps[d - 2] as Info) : (ps[d - 1] as Info);
    hs[d] = quirkKey ? (own[d - 2] ?? hs[d - 2]) : (own[d - 1] ?? hs[d - 1]);
    own[d] = undefined;
    visit(d);
  }

  function visit(d: number): void {
    const node = nodes[d] as t.Node;
    const type = node.type;
    const desc = descs[d] as TypeDesc;
    if (d > MAX_DEPTH) throw new Bail('too-deep');
    if (!desc.supported) throw new Bail('type:' + type);
    const parent = nodes[d - 1] as t.Node;
    if (d > 1 && isScopeOf(desc, descs[d - 1] as TypeDesc)) {
      const existing = infoOf.get(node);
      const info = existing ?? scopeFor(pathAt(d), node, hs[d] as Info);
      const p = pathAt(d) as unknown as PathInternals;
      p.scope = info.scope;
      ps[d] = info;
      own[d] = info;
    }
    const P = ps[d] as Info;
    if (desc.handled) switch (type) {
      case 'VariableDeclaration': {
        const decl = node as t.VariableDeclaration;
        if (decl.declare) throw new Bail('declare');
        const isVar = decl.kind === 'var';
        const target = isVar ? P.fnParent : P.blockParent;
        const kind: BindingKind = isVar ? 'var' : decl.kind === 'let' ? 'let' : 'const';
        for (let i = 0; i < decl.declarations.length; i++) {
          register(target, kind, decl.declarations[i] as t.Node, childPath(d, 'declarations', i));
        }
        break;
      }
      case 'FunctionDeclaration': {
        const fn = node as t.FunctionDeclaration;
        if (fn.id) register((P.parent as Info).blockParent, 'hoisted', fn.id, pathAt(d));
        params(d, P);
        break;
      }
      case 'FunctionExpression': {
        const fn = node as t.FunctionExpression;
        params(d, P);
        if (fn.id) register(P, 'local', fn.id, pathAt(d));
        break;
      }
      case 'ArrowFunctionExpression':
      case 'ObjectMethod':
      case 'ClassMethod':
      case 'ClassPrivateMethod':
        params(d, P);
        break;
      case 'ClassDeclaration': {
        const cls = node as t.ClassDeclaration;
        if (cls.declare) throw new Bail('declare');
        const outer = P.parent as Info;
        register(outer.blockParent, 'let', cls, pathAt(d));
        if (cls.id) (P.scope as unknown as ScopeInternals).bindings[cls.id.name] = lookup(outer, cls.id.name);
        break;
      }
      case 'ClassExpression': {
        const cls = node as t.ClassExpression;
        if (cls.id) register(P, 'local', cls.id, pathAt(d));
        break;
      }
      case 'CatchClause':
        register(P, 'let', node, pathAt(d));
        break;
      case 'ImportDeclaration': {
        const imp = node as t.ImportDeclaration;
        const isType = imp.importKind === 'type' || imp.importKind === 'typeof';
        for (let i = 0; i < imp.specifiers.length; i++) {
          const s = imp.specifiers[i] as t.ImportDeclaration['specifiers'][number];
          const typeSpec = isType || (s.type === 'ImportSpecifier' && (s.importKind === 'type' || s.importKind === 'typeof'));
          register(P.blockParent, typeSpec ? 'unknown' : 'module', s, childPath(d, 'specifiers', i));
        }
        break;
      }
      case 'LabeledStatement':
        (P.blockParent.scope as unknown as ScopeInternals).labels.set((node as t.LabeledStatement).label.name, pathAt(d));
        break;
      case 'AssignmentExpression': {
        const left = (node as t.AssignmentExpression).left;
        if (left.type !== 'MemberExpression' && left.type !== 'OptionalMemberExpression') {
          assignments.push(pathAt(d));
          assignmentScopes.push(P);
        }
        break;
      }
      case 'UpdateExpression':
        if ((node as t.UpdateExpression).argument.type === 'Identifier') {
          violations.push(pathAt(d));
          violationScopes.push(P);
        }
        break;
      case 'UnaryExpression':
        if ((node as t.UnaryExpression).operator === 'delete' && (node as t.UnaryExpression).argument.type === 'Identifier') {
          violations.push(pathAt(d));
          violationScopes.push(P);
        }
        break;
      case 'ForInStatement':
      case 'ForOfStatement': {
        const left = (node as t.ForInStatement).left;
        if (PATTERN.has(left.type) || left.type === 'Identifier') {
          violations.push(pathAt(d));
          violationScopes.push(P);
        }
        break;
      }
      case 'Identifier':
      case 'JSXIdentifier':
        if (isReferencedIdentifier(node, parent, nodes[d - 2])) {
          refNodes.push(node as t.Identifier);
          refScopes.push(P);
        }
        break;
      default:
        break;
    }

    const childKeys = desc.keys;
    if (childKeys !== undefined) {
      const record = node as unknown as Record<string, unknown>;
      for (const k of childKeys) {
        const v = record[k];
        if (!v) continue;
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            const c = v[i] as t.Node | null | undefined;
            if (c) enter(d + 1, c, v, i, k);
          }
        } else {
          enter(d + 1, v as t.Node, node, k, undefined);
        }
      }
    }

    if (type === 'ExportNamedDeclaration' || type === 'ExportDefaultDeclaration') exportExit(d);
  }

  /** collectorVisitor's ExportDeclaration exit: the export references what it declares. */
  function exportExit(d: number): void {
    const declar = (nodes[d] as t.ExportNamedDeclaration | t.ExportDefaultDeclaration).declaration;
    if (declar == null) return;
    const P = ps[d] as Info;
    const names: string[] = [];
    if (declar.type === 'ClassDeclaration' || declar.type === 'FunctionDeclaration') {
      if (!declar.id) return;
      names.push(declar.id.name);
    } else if (declar.type === 'VariableDeclaration') {
      for (const decl of declar.declarations) names.push(...Object.keys(getBindingIdentifiers(decl)));
    } else {
      return;
    }
    const path = pathAt(d);
    for (const name of names) {
      const b = lookup(P, name) as LazyBinding | undefined;
      if (b === undefined) continue;
      const early = (b.early ??= []);
      if (early.includes(path)) continue;
      early.push(path);
      b.referenced = true;
      b.references++;
    }
  }

  visit(1);

  (programScope as unknown as ScopeInternals).crawling = false;
  for (let i = 0; i < assignments.length; i++) {
    const path = assignments[i] as NodePath;
    const P = assignmentScopes[i] as Info;
    const ids = getAssignmentIdentifiers(path.node);
    for (const name of Object.keys(ids)) {
      if (lookup(P, name) === undefined) programGlobals[name] = ids[name] as t.Node;
    }
    for (const name of Object.keys(ids)) lookup(P, name)?.reassign(path);
  }
  for (let i = 0; i < refNodes.length; i++) {
    const node = refNodes[i] as t.Identifier;
    const b = lookup(refScopes[i], node.name);
    if (b === undefined) {
      programGlobals[node.name] = node;
    } else {
      b.referenced = true;
      b.references++;
    }
  }
  for (let i = 0; i < violations.length; i++) {
    const path = violations[i] as NodePath;
    const ids = getAssignmentIdentifiers(path.node);
    for (const name of Object.keys(ids)) lookup(violationScopes[i], name)?.reassign(path);
  }
  return programPath;
}

/**
 * Fills `out` with the paths of the identifiers that reference `b`, in traversal order: a walk of the
 * binding's scope block (every reference lies inside it) that tracks path.scope as the builder does.
 */
function collectReferences(b: LazyBinding, ctx: FileCtx, out: NodePath[]): void {
  const name = b.identifier.name;
  const rootPath = b.scope.path;
  const root = rootPath.node;
  const infoOf = ctx.infoOf;
  const infoOfScope = (s: Scope | null | undefined): Info | undefined => (s == null ? undefined : infoOf.get(s.block));

  // Depth 0 is the root's parent (for quirks and grandparents), 1 the root.
  const rootParentPath = rootPath.parentPath;
  const nodes: (t.Node | undefined)[] = [rootPath.parent ?? undefined, root];
  const paths: (NodePath | undefined)[] = [rootParentPath ?? undefined, rootPath];
  const containers: unknown[] = [undefined, rootPath.container];
  const keys: (string | number)[] = ['', rootPath.key as string | number];
  const listKeys: (string | undefined)[] = [undefined, (rootPath.listKey as string | undefined) ?? undefined];
  const ps: (Info | undefined)[] = [infoOfScope(rootParentPath?.scope), infoOf.get(root)];

  function pathAt(d: number): NodePath {
    let i = d;
    while (paths[i] === undefined) i--;
    for (let j = i + 1; j <= d; j++) {
      const p = getPath({ parentPath: paths[j - 1] as NodePath, parent: nodes[j - 1] as t.Node, container: containers[j], key: keys[j] as string | number, listKey: listKeys[j] });
      const pi = p as unknown as PathInternals;
      if (pi.scope == null) pi.scope = (ps[j] as Info).scope;
      paths[j] = p;
    }
    return paths[d] as NodePath;
  }

  function enter(d: number, node: t.Node, container: unknown, key: string | number, listKey: string | undefined): void {
    nodes[d] = node;
    paths[d] = undefined;
    containers[d] = container;
    keys[d] = key;
    listKeys[d] = listKey;
    const parent = nodes[d - 1] as t.Node;
    const scopeInfo = infoOf.get(node);
    if (scopeInfo !== undefined && isScopeNode(node, parent)) {
      ps[d] = scopeInfo;
    } else {
      const quirk = ((key === 'key' || listKey === 'decorators') && METHOD.has(parent.type)) || (key === 'discriminant' && parent.type === 'SwitchStatement');
      ps[d] = quirk ? ps[d - 2] : ps[d - 1];
    }
    if ((node.type === 'Identifier' || node.type === 'JSXIdentifier') && node.name === name && isReferencedIdentifier(node, parent, nodes[d - 2]) && lookup(ps[d], name) === b) {
      out.push(pathAt(d));
    }
    visit(d);
  }

  function visit(d: number): void {
    const node = nodes[d] as t.Node;
    const childKeys = VISITOR_KEYS[node.type];
    if (childKeys === undefined) return;
    const record = node as unknown as Record<string, unknown>;
    for (const k of childKeys) {
      const v = record[k];
      if (!v) continue;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const c = v[i] as t.Node | null | undefined;
          if (c) enter(d + 1, c, v, i, k);
        }
      } else {
        enter(d + 1, v as t.Node, node, k, undefined);
      }
    }
  }

  visit(1);
}
