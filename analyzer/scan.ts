// Owns the scan of one JS-like file: parse once, a cheap prefilter walk, then (when something in the
// file can interest a detector) the full pass: Babel scopes built by scope-builder.ts (Babel's own
// crawl for the files it leaves to it) and one merged visit for every detector (walk.ts, or
// @babel/traverse for visitors the walk does not mirror); resolution of uses (module loads, globals,
// aliases) handed to detectors, decode-then-eval payloads re-parsed with bounded depth, and a
// lexical fallback when a file cannot be parsed or traversed.
import traverseModule, { type NodePath, type Scope, type Visitor } from '@babel/traverse';
import type * as t from '@babel/types';
import type { CapabilityId, Finding } from './types';
import { parseSource, type ParseResult } from './parse';
import { foldString } from './fold';
import { Resolver, extend, isRequireFn, isBuiltinSpec, normaliseSpec, type Ref } from './resolve';
import type { Detector, DetectorContext, DetectorHooks, Report, Use, UseKind } from './detectors/types';
import { keypathOf } from './detectors/types';
import { lexicalScan } from './lexical';
import { lineColumn } from './positions';
import { NATIVE_LOADERS, WALLET_GLOBALS } from './detectors/catalog';
import { needsFullScan, type PrefilterSink } from './prefilter';
import { planWalk, toBabelVisitor, walk, type WalkVisitor } from './walk';
import { STRINGS_ID, inspectStringLiteral, inspectTemplateLiteral } from './detectors/strings';
import { OBFUSCATION_ID, fileLevelObfuscation } from './detectors/obfuscation';

// @babel/traverse is CommonJS with `exports.default`; under node16 module resolution the default
// import is the module namespace object, so pick the function out explicitly.
type TraverseFn = typeof traverseModule;
const traverse: TraverseFn =
  (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

/** One capability observation in a file. */
export interface Hit {
  readonly capability: CapabilityId;
  readonly api: string;
  readonly line: number;
  readonly column: number;
  readonly snippet: string;
}

export interface FileScan {
  readonly hits: readonly Hit[];
  /** Static specifiers this file loads (relative paths, package self-references, path-like literals). */
  readonly edges: readonly string[];
  /** A require/import whose specifier does not fold, or `require` passed around. */
  readonly dynamicRequire: boolean;
  readonly findings: readonly Finding[];
}

/** Globals worth resolving. Everything else unbound is ignored for speed. */
const INTERESTING_GLOBALS = new Set([
  'require', 'module', 'process', 'eval', 'Function', 'fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource',
  'navigator', 'globalThis', 'global', 'window', 'self', 'setTimeout', 'setInterval', 'execScript',
  'WebAssembly', 'crypto', 'Worker', 'SharedWorker', 'internalBinding', '__require', '__non_webpack_require__',
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Promise', 'RegExp', 'Date', 'Error', 'JSON',
  'Math', 'Reflect', 'Map', 'Set', 'WeakMap', 'console', 'document', 'Element', 'HTMLElement', 'Node',
  'EventTarget', 'Request', 'Response', 'Headers', 'localStorage', 'sessionStorage', 'Buffer',
  ...WALLET_GLOBALS,
]);


function isInterestingModule(spec: string): boolean {
  return isBuiltinSpec(spec) || NATIVE_LOADERS.has(spec) || spec.endsWith('.node');
}

const MAX_PAYLOAD_DEPTH = 3;
const MAX_PAYLOAD_CHARS = 512 * 1024;
const MAX_HITS_PER_API = 3;
const MAX_CHAIN = 8;

/** Snippet of at most 120 characters around an offset, on one line, whitespace collapsed. */
export function snippetAt(source: string, offset: number): string {
  const from = Math.max(0, offset - 40);
  let text = source.slice(from, offset + 80);
  const rel = offset - from;
  const nlBefore = text.lastIndexOf('\n', rel - 1);
  const nlAfter = text.indexOf('\n', rel);
  text = text.slice(nlBefore + 1, nlAfter === -1 ? undefined : nlAfter);
  return text.replace(/\s+/g, ' ').trim().slice(0, 120);
}

interface FileState {
  readonly file: string;
  readonly hits: Hit[];
  readonly counts: Map<string, number>;
  readonly seen: Set<string>;
  readonly edges: Set<string>;
  dynamicRequire: boolean;
  readonly findings: Finding[];
}

function addHit(state: FileState, hit: Hit): void {
  const key = hit.capability + '\0' + hit.api;
  const n = state.counts.get(key) ?? 0;
  if (n >= MAX_HITS_PER_API) return;
  const full = key + '\0' + hit.line + ':' + hit.column;
  if (state.seen.has(full)) return;
  state.seen.add(full);
  state.counts.set(key, n + 1);
  state.hits.push(hit);
}

/** Where payload evidence is placed: the sink in the enclosing file. */
interface Origin {
  readonly line: number;
  readonly column: number;
}

/** Runs all detectors over one AST (a file, or a payload decoded from it). */
function runDetectors(ast: t.File, source: string, detectors: readonly Detector[], state: FileState, origin: Origin | undefined, depth: number, skip?: string): void {
  const resolver = new Resolver((node, scope) => foldKey(node, scope));
  const hooks: DetectorHooks[] = [];
  const useHooks: ((u: Use) => void)[] = [];

  function foldKey(node: t.Node, scope: Scope): { value: string; obfuscated: boolean } | undefined {
    return foldString(node, scope, { resolveCallee, maxSteps: 400 });
  }
  function resolveCallee(node: t.Node, scope: Scope): string | undefined {
    const r = resolver.resolve(node, scope);
    return r === undefined ? undefined : keypathOf(r.root, r.members);
  }

  const ctx: DetectorContext = {
    file: state.file,
    source,
    ast,
    report(r: Report) {
      const node = r.node ?? r.path?.node;
      let line = 0;
      let column = 0;
      let offset = r.offset ?? 0;
      if (node?.loc) {
        line = node.loc.start.line;
        column = node.loc.start.column;
        offset = node.start ?? 0;
      } else if (r.offset !== undefined) {
        const lc = lineColumn(source, r.offset);
        line = lc.line;
        column = lc.column;
      }
      if (origin !== undefined) {
        line = origin.line;
        column = origin.column;
      }
      addHit(state, { capability: r.capability, api: r.api, line, column, snippet: snippetAt(source, offset) });
    },
    resolve(node, scope) {
      return resolver.resolve(node, scope);
    },
    fold(node, scope) {
      return node == null ? undefined : foldString(node, scope, { resolveCallee });
    },
    scanPayload(code, at) {
      if (depth + 1 > MAX_PAYLOAD_DEPTH || code.length > MAX_PAYLOAD_CHARS || code.trim() === '') return;
      const parsed = parseSource(code);
      const o = origin ?? { line: at.node.loc?.start.line ?? 0, column: at.node.loc?.start.column ?? 0 };
      if (!parsed.ok) {
        for (const h of lexicalScan(code)) addHit(state, { ...h, line: o.line, column: o.column });
        return;
      }
      try {
        runDetectors(parsed.ast, code, detectors, state, o, depth + 1);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
    },
    addEdge(spec) {
      state.edges.add(spec);
    },
  };

  for (const d of detectors) {
    if (d.meta.id === skip) continue;
    const h = d.create(ctx);
    hooks.push(h);
    if (h.onUse) useHooks.push(h.onUse.bind(h));
  }

  function dispatch(use: Use): void {
    for (const f of useHooks) f(use);
    if (use.obfuscated && (use.root.kind === 'global' ? INTERESTING_GLOBALS.has(use.root.name) || use.root.name === 'globalThis' : isInterestingModule(use.root.spec))) {
      ctx.report({ capability: 'obfuscation', api: 'decoded:' + keypathOf(use.root, use.members), path: use.path });
    }
  }

  /** Climbs member expressions above `start`, classifies the use and dispatches it. */
  function emit(start: NodePath, ref: Ref): void {
    let cur: NodePath = start;
    let r = ref;
    for (let i = 0; i < MAX_CHAIN; i++) {
      const parent = cur.parentPath;
      if (parent === null) break;
      const pn = parent.node;
      if ((pn.type === 'MemberExpression' || pn.type === 'OptionalMemberExpression') && pn.object === cur.node) {
        if (r.members[r.members.length - 1] === '*') break;
        const key = resolver.key(pn, parent.scope);
        r = extend(r, key.value, key.obfuscated);
        cur = parent;
        continue;
      }
      break;
    }
    const { how, call, pattern } = classify(cur);
    if (pattern !== undefined) {
      emitPattern(cur, r, pattern);
      return;
    }
    const use: Use = { root: r.root, members: r.members, how, path: cur, obfuscated: r.obfuscated, viaGlobalObject: r.viaGlobalObject, ...(call ? { call } : {}) };
    dispatch(use);
    if (how === 'call' && call !== undefined) {
      if (isRequireFn(r)) load(call, r);
      else if (r.root.kind === 'module' && r.root.spec === 'module' && r.members.length === 1 && r.members[0] === 'createRequire') {
        // createRequire(url)('x')
        const outer = call.parentPath;
        if (outer?.isCallExpression() && outer.node.callee === call.node) load(outer, { ...r, root: { kind: 'global', name: 'require' }, members: [] });
      }
    }
  }

  function emitPattern(at: NodePath, r: Ref, pattern: t.ObjectPattern): void {
    for (const prop of pattern.properties) {
      if (prop.type === 'RestElement') {
        dispatch({ root: r.root, members: r.members, how: 'escape', path: at, obfuscated: r.obfuscated, viaGlobalObject: r.viaGlobalObject });
        continue;
      }
      let key: string;
      if (!prop.computed && prop.key.type === 'Identifier') key = prop.key.name;
      else if (prop.key.type === 'StringLiteral') key = prop.key.value;
      else key = '*';
      const inner = extend(r, key, false);
      let value = prop.value;
      if (value.type === 'AssignmentPattern') value = value.left;
      if (value.type === 'ObjectPattern') emitPattern(at, inner, value);
      else dispatch({ root: inner.root, members: inner.members, how: 'bind', path: at, obfuscated: inner.obfuscated, viaGlobalObject: inner.viaGlobalObject });
    }
  }

  /** require(x) / import(x) / module.require(x): a static edge and a module use, or a dynamic require. */
  function load(call: NodePath<t.CallExpression | t.NewExpression | t.OptionalCallExpression>, via: Ref): void {
    const arg = call.node.arguments[0];
    if (arg === undefined || arg.type === 'SpreadElement' || arg.type === 'ArgumentPlaceholder') return;
    const f = foldString(arg, call.scope, { resolveCallee });
    if (f === undefined) {
      // `const lazy = (p) => require(p)` called only with constants: each constant is a static load.
      const viaCallers = foldThroughCallers(arg, call.scope, 0);
      if (viaCallers !== undefined) {
        for (const v of viaCallers) loadSpec(call, via, v);
        return;
      }
      state.dynamicRequire = true;
      ctx.report({ capability: 'dynamic-require', api: keypathOf(via.root, via.members) + '(*)', path: call });
      return;
    }
    loadSpec(call, via, f);
  }

  /** Values a parameter takes when every caller of its function passes a constant (bounded). */
  function foldThroughCallers(arg: t.Node, scope: Scope, depth: number): { value: string; obfuscated: boolean }[] | undefined {
    if (depth > 2 || arg.type !== 'Identifier') return undefined;
    const binding = scope.getBinding(arg.name);
    if (binding === undefined || binding.kind !== 'param' || !binding.constant) return undefined;
    const fn = binding.path.parentPath;
    if (fn === null || !fn.isFunction()) return undefined;
    const index = (fn.node.params as t.Node[]).indexOf(binding.path.node);
    if (index < 0) return undefined;
    let fnBinding;
    if (fn.isFunctionDeclaration() && fn.node.id) fnBinding = fn.parentPath?.scope.getBinding(fn.node.id.name);
    else if (fn.parentPath?.isVariableDeclarator()) {
      const id = fn.parentPath.node.id;
      if (id.type === 'Identifier') fnBinding = fn.parentPath.scope.getBinding(id.name);
    }
    if (fnBinding === undefined || !fnBinding.constant || fnBinding.referencePaths.length === 0 || fnBinding.referencePaths.length > 64) return undefined;
    const out: { value: string; obfuscated: boolean }[] = [];
    for (const ref of fnBinding.referencePaths) {
      const c = ref.parent;
      if (c.type !== 'CallExpression' || c.callee !== ref.node) return undefined;
      const a = c.arguments[index];
      if (a === undefined || a.type === 'SpreadElement' || a.type === 'ArgumentPlaceholder') return undefined;
      const folded = foldString(a, ref.scope, { resolveCallee });
      if (folded !== undefined) {
        out.push(folded);
        continue;
      }
      const deeper = foldThroughCallers(a, ref.scope, depth + 1);
      if (deeper === undefined) return undefined;
      out.push(...deeper);
    }
    return out;
  }

  function loadSpec(call: NodePath<t.CallExpression | t.NewExpression | t.OptionalCallExpression>, via: Ref, f: { value: string; obfuscated: boolean }): void {
    const spec = f.value;
    if (!isBuiltinSpec(normaliseSpec(spec).spec)) state.edges.add(spec);
    const n = normaliseSpec(spec);
    // A module name that had to be decoded is hidden on purpose, whatever the module is.
    if (f.obfuscated && !isInterestingModule(n.spec)) ctx.report({ capability: 'obfuscation', api: 'decoded-specifier', path: call });
    if (!isInterestingModule(n.spec) && n.spec !== 'process') return;
    const ref: Ref =
      n.spec === 'process' && n.members.length === 0
        ? { root: { kind: 'global', name: 'process' }, members: [], obfuscated: f.obfuscated, viaGlobalObject: false }
        : { root: { kind: 'module', spec: n.spec }, members: n.members, obfuscated: f.obfuscated || via.obfuscated, viaGlobalObject: false };
    emit(call, ref);
  }

  const engine: Visitor = {
    ReferencedIdentifier(path) {
      const node = path.node;
      if (!isFollowed(node, path.scope)) return;
      const ref = resolver.resolve(node as t.Identifier, path.scope);
      if (ref === undefined) return;
      if (ref.root.kind === 'module' && !isInterestingModule(ref.root.spec)) return;
      emit(path, ref);
    },
    CallExpression(path) {
      if (path.node.callee.type === 'Import') load(path, { root: { kind: 'global', name: 'import' }, members: [], obfuscated: false, viaGlobalObject: false });
    },
    ImportDeclaration(path) {
      const node = path.node;
      if (node.importKind === 'type' || node.importKind === 'typeof') return;
      const spec = node.source.value;
      const n = normaliseSpec(spec);
      if (!isBuiltinSpec(n.spec)) state.edges.add(spec);
      if (!isInterestingModule(n.spec) && n.spec !== 'process') return;
      const base: Ref = n.spec === 'process' ? { root: { kind: 'global', name: 'process' }, members: [], obfuscated: false, viaGlobalObject: false } : { root: { kind: 'module', spec: n.spec }, members: n.members, obfuscated: false, viaGlobalObject: false };
      if (node.specifiers.length === 0) {
        dispatch({ root: base.root, members: base.members, how: 'read', path, obfuscated: false, viaGlobalObject: false });
        return;
      }
      for (const s of path.get('specifiers')) {
        const sn = s.node;
        let members = base.members;
        if (sn.type === 'ImportSpecifier') {
          if (sn.importKind === 'type') continue;
          const imported = sn.imported.type === 'Identifier' ? sn.imported.name : sn.imported.value;
          if (imported !== 'default') members = [...members, imported];
        }
        dispatch({ root: base.root, members, how: 'bind', path: s, obfuscated: false, viaGlobalObject: false });
      }
    },
    ExportNamedDeclaration(path) {
      const src = path.node.source;
      if (src == null || path.node.exportKind === 'type') return;
      reexport(path, src.value, path.node.specifiers.map((s) => (s.type === 'ExportSpecifier' ? s.local.name : undefined)));
    },
    ExportAllDeclaration(path) {
      if (path.node.exportKind === 'type') return;
      reexport(path, path.node.source.value, [undefined]);
    },
  };

  function reexport(path: NodePath, spec: string, locals: readonly (string | undefined)[]): void {
    const n = normaliseSpec(spec);
    if (!isBuiltinSpec(n.spec)) state.edges.add(spec);
    if (!isInterestingModule(n.spec)) return;
    for (const local of locals) {
      const members = local === undefined || local === 'default' ? n.members : [...n.members, local];
      dispatch({ root: { kind: 'module', spec: n.spec }, members, how: 'escape', path, obfuscated: false, viaGlobalObject: false });
    }
  }

  // The engine's early returns, which the walk checks before it makes a path (see walk.ts).
  const engineGuards = {
    ReferencedIdentifier: (node: t.Node, _parent: t.Node, scope: Scope) => isFollowed(node, scope),
    CallExpression: (node: t.Node) => (node as t.CallExpression).callee.type === 'Import',
  };
  const parts: WalkVisitor[] = [{ visitor: engine, guards: engineGuards }, ...hooks];
  // The merged visitors' one pass: our own walk after building the scopes (scope-builder.ts, or
  // Babel's crawl for the files it leaves to Babel) when the visitors only use what the walk mirrors
  // (see walk.ts for why the visit is the same), else @babel/traverse itself.
  const plan = planWalk(parts);
  try {
    if (plan !== undefined) walk(ast, plan);
    else traverse(ast, toBabelVisitor(parts));
  } finally {
    for (const h of hooks) h.onFileEnd?.();
    // Babel caches a NodePath map per parent node and a Scope per node in process-wide WeakMaps.
    // Entries of dead ASTs are only dropped by the GC, and the ever-growing ephemeron tables make
    // every scavenge slower; a fresh pair per file costs nothing (a payload pass runs inside the
    // file's pass and must keep the file's paths, so only the top level clears).
    if (depth === 0) traverse.cache.clear();
  }
}

/**
 * Whether the engine follows a referenced identifier: unbound interesting globals, `__require` and
 * variables initialised from (or re-assigned) something that may resolve, and imports.
 */
function isFollowed(node: t.Node, scope: Scope): boolean {
  if (node.type !== 'Identifier') return false;
  const name = node.name;
  const binding = scope.getBinding(name);
  if (binding === undefined) return INTERESTING_GLOBALS.has(name);
  if (binding.kind === 'param' || binding.kind === 'hoisted' || binding.kind === 'local') return name === '__require';
  if (binding.kind === 'var' || binding.kind === 'let' || binding.kind === 'const') {
    const d = binding.path.node;
    if (d.type === 'VariableDeclarator' && d.init != null && isPlainValue(d.init) && binding.constantViolations.length === 0) return false;
  }
  return true;
}

/** Literals, functions and classes never resolve to a module or global: skip them cheaply. */
function isPlainValue(node: t.Node): boolean {
  switch (node.type) {
    case 'StringLiteral':
    case 'NumericLiteral':
    case 'BooleanLiteral':
    case 'NullLiteral':
    case 'ObjectExpression':
    case 'ArrayExpression':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ClassExpression':
    case 'TemplateLiteral':
    case 'BinaryExpression':
      return true;
    default:
      return false;
  }
}

/** How the value at `cur` is used, looking through parentheses, awaits and `a || b`. */
function classify(cur: NodePath): { how: UseKind; call?: NodePath<t.CallExpression | t.NewExpression | t.OptionalCallExpression>; pattern?: t.ObjectPattern } {
  let node = cur.node;
  let p = cur.parentPath;
  for (let i = 0; i < 6 && p !== null; i++) {
    const pn = p.node;
    switch (pn.type) {
      case 'CallExpression':
      case 'OptionalCallExpression':
        if (pn.callee === node) return { how: 'call', call: p as NodePath<t.CallExpression> };
        return { how: 'escape' };
      case 'NewExpression':
        if (pn.callee === node) return { how: 'new', call: p as NodePath<t.NewExpression> };
        return { how: 'escape' };
      case 'TaggedTemplateExpression':
        return pn.tag === node ? { how: 'call' } : { how: 'read' };
      case 'AssignmentExpression':
        if (pn.left === node) return { how: 'write' };
        if (pn.left.type === 'Identifier') return { how: 'bind' };
        if (pn.left.type === 'ObjectPattern') return { how: 'bind', pattern: pn.left };
        return { how: 'escape' };
      case 'UpdateExpression':
        return { how: 'write' };
      case 'UnaryExpression':
        if (pn.operator === 'delete') return { how: 'delete' };
        if (pn.operator === 'typeof') return { how: 'typeof' };
        return { how: 'read' };
      case 'VariableDeclarator':
        if (pn.init !== node) return { how: 'read' };
        if (pn.id.type === 'Identifier') return { how: 'bind' };
        if (pn.id.type === 'ObjectPattern') return { how: 'bind', pattern: pn.id };
        return { how: 'escape' };
      case 'AwaitExpression':
      case 'ParenthesizedExpression':
      case 'LogicalExpression':
        break;
      case 'ConditionalExpression':
        if (pn.test === node) return { how: 'read' };
        break;
      case 'SequenceExpression':
        if (pn.expressions[pn.expressions.length - 1] !== node) return { how: 'read' };
        break;
      case 'SpreadElement':
      case 'ReturnStatement':
      case 'ArrowFunctionExpression':
      case 'ObjectProperty':
      case 'ArrayExpression':
      case 'ExportDefaultDeclaration':
      case 'YieldExpression':
      case 'JSXExpressionContainer':
      case 'ClassProperty':
      case 'AssignmentPattern':
      case 'JSXSpreadAttribute':
      case 'SpreadProperty' as string:
        return { how: 'escape' };
      case 'ForInStatement':
      case 'ForOfStatement':
        return pn.right === node ? { how: 'escape' } : { how: 'read' };
      default:
        return { how: 'read' };
    }
    node = pn;
    p = p.parentPath;
  }
  return { how: 'read' };
}

export { lineColumn };

/** Scans one file's source with the given detectors. Never throws on hostile input. */
export function scanSource(file: string, source: string, detectors: readonly Detector[], parsed?: ParseResult): FileScan {
  const state: FileState = { file, hits: [], counts: new Map(), seen: new Set(), edges: new Set(), dynamicRequire: false, findings: [] };
  const result = parsed ?? parseSource(source);
  const fallback = (): void => {
    for (const h of lexicalScan(source)) addHit(state, h);
    if (/\brequire\s*\(\s*[^'"`\s)]/.test(source)) state.dynamicRequire = true;
    for (const m of source.matchAll(/\b(?:require\s*\(|from\s+|import\s*\()\s*['"]([^'"\n]{1,200})['"]/g)) {
      if (m[1] !== undefined) state.edges.add(m[1]);
    }
  };
  if (!result.ok) {
    state.findings.push({ ruleId: result.reason === 'syntax' ? 'source/unparseable' : result.reason === 'too-deep' ? 'source/too-deep' : 'source/too-large', file, message: result.message });
    fallback();
    if (result.reason === 'too-deep' || looksPacked(source)) {
      const lc = { line: 1, column: 0 };
      addHit(state, { capability: 'obfuscation', api: 'unparseable-packed', ...lc, snippet: snippetAt(source, 0) });
    }
    return finish(state);
  }
  try {
    // A cheap walk first: strings and edges always; the full traverse only when something in the file
    // can interest a detector.
    const withStrings = detectors.some((d) => d.meta.id === STRINGS_ID);
    const report = (r: { capability: CapabilityId; api: string; node?: t.Node; offset?: number }): void => {
      const node = r.node;
      const offset = node?.start ?? r.offset ?? 0;
      const lc = node?.loc ? { line: node.loc.start.line, column: node.loc.start.column } : lineColumn(source, offset);
      addHit(state, { capability: r.capability, api: r.api, ...lc, snippet: snippetAt(source, offset) });
    };
    const addEdge = (spec: string): void => {
      state.edges.add(spec);
    };
    const sink: PrefilterSink = {
      onString: (node, parent) => {
        if (withStrings) inspectStringLiteral(node, parent, report, addEdge);
      },
      onTemplate: (node) => {
        if (withStrings) inspectTemplateLiteral(node, report, addEdge);
      },
      onEdge: addEdge,
    };
    if (needsFullScan(result.ast, sink)) {
      runDetectors(result.ast, source, detectors, state, undefined, 0, STRINGS_ID);
    } else if (detectors.some((d) => d.meta.id === OBFUSCATION_ID)) {
      fileLevelObfuscation(source, result.ast, report);
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    state.findings.push({ ruleId: 'source/too-deep', file, message: 'nesting too deep to traverse; lexical scan used' });
    fallback();
    addHit(state, { capability: 'obfuscation', api: 'too-deep', line: 1, column: 0, snippet: snippetAt(source, 0) });
  }
  return finish(state);
}

function finish(state: FileState): FileScan {
  return { hits: state.hits, edges: [...state.edges].sort(), dynamicRequire: state.dynamicRequire, findings: state.findings };
}

/** A file that failed to parse "looks packed" when its lines are very long and dense. */
function looksPacked(source: string): boolean {
  if (source.length < 2000) return false;
  const lines = source.split('\n', 50).length;
  return source.length / Math.max(1, lines) > 1000;
}
