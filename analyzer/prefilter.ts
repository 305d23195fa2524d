// Owns the cheap first look at a parsed file: one iterative walk over the raw AST (no NodePath, no
// scope) that collects string-literal evidence and static edges, and decides whether anything in the
// file could interest a detector. Only files that can go on to the full @babel/traverse pass, which
// costs several times the parse. The test is conservative: any name, module or shape a detector
// reacts to (even shadowed, even in dead code) sends the file to the full pass.
import { VISITOR_KEYS } from '@babel/types';
import type * as t from '@babel/types';
import { MODULE_CAPABILITIES, NATIVE_LOADERS, WALLET_GLOBALS } from './detectors/catalog';
import { hasAlnumEscape } from './fold';

/** Identifiers that need the full pass wherever they are used (except declarations and typeof). */
const ALWAYS = new Set([
  'eval', 'execScript', 'fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'WebAssembly', 'crypto', 'Worker',
  'SharedWorker', 'internalBinding', '__require', '__non_webpack_require__', 'requireNative',
]);
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'window', 'self']);
/** Members of `process` that detectors act on. */
const PROCESS_KEYS = new Set(['env', 'binding', '_linkedBinding', 'dlopen', 'mainModule']);

/** Built-ins that are only interesting when written, aliased or handed on (not for calls and reads). */
const TAMPERABLE = new Set([
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Promise', 'RegExp', 'Date', 'Error', 'JSON', 'Math',
  'Map', 'Set', 'WeakMap', 'console', 'document', 'Element', 'HTMLElement', 'Node', 'EventTarget', 'Request',
  'Response', 'Headers', 'localStorage', 'sessionStorage', 'Buffer', 'setTimeout', 'setInterval', 'navigator',
  'Function', 'Reflect', 'process', 'module', 'require', 'globalThis', 'global', 'window', 'self',
  // Wallet globals: hooked through an alias (`const e = window.ethereum; e.request = f`) the write
  // is only seen by the full pass, so the alias (and any `window.ethereum` member use) triggers it.
  ...WALLET_GLOBALS,
]);

/**
 * Built-ins (a subset of TAMPERABLE) whose bare value interests no detector unless it is written,
 * deleted or bound to a variable the engine follows: handed on, read, or bound to a parameter, it
 * produces no evidence. The rest of TAMPERABLE has readers: Function and Reflect (code-eval, and the
 * obfuscation sink count), process, module and require, navigator (sendBeacon), setTimeout and
 * setInterval (string timers), and the global objects themselves (which mark* handles apart).
 */
const INERT_UNLESS_ALIASED = new Set([
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Promise', 'RegExp', 'Date', 'Error', 'JSON', 'Math',
  'Map', 'Set', 'WeakMap', 'console', 'document', 'Element', 'HTMLElement', 'Node', 'EventTarget', 'Request',
  'Response', 'Headers', 'localStorage', 'sessionStorage', 'Buffer',
]);

/** AST depth above which the sparing rules do not apply (see the end of needsFullScan). */
const MAX_SPARED_DEPTH = 256;

const MODULE_BENIGN = new Set(['exports', 'id', 'filename', 'loaded', 'children', 'paths', 'parent', 'hot', 'path', 'i', 'l', 'webpackPolyfill', 'nmd', 'deprecate']);
const REQUIRE_BENIGN = new Set(['resolve', 'main']);

/** Does loading this specifier give a capability (or need the engine's attention)? */
export function isCapabilitySpec(spec: string): boolean {
  const s = spec.startsWith('node:') ? spec.slice(5) : spec;
  const base = s.includes('/') && !s.startsWith('@') && !s.startsWith('.') ? s.slice(0, s.indexOf('/')) : s;
  return base in MODULE_CAPABILITIES || base === 'v8' || base === 'process' || NATIVE_LOADERS.has(s) || s.endsWith('.node');
}

function plainString(node: t.Node | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (node.type === 'StringLiteral') {
    const raw = (node.extra as { raw?: unknown } | undefined)?.raw;
    return typeof raw === 'string' && hasAlnumEscape(raw) ? undefined : node.value;
  }
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

function isStringish(node: t.Node | undefined): boolean {
  return node !== undefined && (node.type === 'StringLiteral' || node.type === 'TemplateLiteral' || node.type === 'BinaryExpression' || node.type === 'Identifier' || node.type === 'CallExpression');
}

function isNotNot(node: t.Node | null | undefined): boolean {
  return node?.type === 'UnaryExpression' && node.operator === '!' && node.argument.type === 'UnaryExpression' && node.argument.operator === '!';
}

function keyName(node: t.MemberExpression | t.OptionalMemberExpression): string | undefined {
  if (!node.computed) return node.property.type === 'Identifier' ? node.property.name : undefined;
  return plainString(node.property);
}

/** Could this member key be 'constructor' once folded? */
function mayBeConstructorKey(node: t.MemberExpression | t.OptionalMemberExpression): boolean {
  if (!node.computed) return node.property.type === 'Identifier' && node.property.name === 'constructor';
  const k = node.property;
  if (k.type === 'NumericLiteral') return false;
  if (k.type === 'StringLiteral') return plainString(k) === undefined || k.value === 'constructor';
  return true;
}

/** Root identifier of a member chain (`a` of `a.b.c`). */
function rootName(node: t.Node): string | undefined {
  let n = node;
  for (let i = 0; i < 16; i++) {
    if (n.type === 'Identifier') return n.name;
    if (n.type === 'MemberExpression' || n.type === 'OptionalMemberExpression') n = n.object;
    else return undefined;
  }
  return undefined;
}

/** Names declared by one scope, with how (params and functions can never hold a decoded string). */
interface LocalScope {
  readonly names: Map<string, 'param' | 'fn' | 'var'>;
  readonly up: LocalScope | undefined;
  /** False when a depth bound cut the collection of names short (a name may be missing). */
  readonly complete: boolean;
}

/** Set when collectPattern or hoist stops at its depth bound; scopeOf records it per scope. */
let truncated = false;

/**
 * Is `name` a parameter here, for sure? Only when every scope searched up to the declaring one was
 * collected in full, so that no nearer declaration of the name can have been missed. (A catch
 * parameter counts: Babel binds it as `let` on the CatchClause, which the engine resolves to nothing,
 * exactly like a function parameter.)
 */
function isSurelyParam(scope: LocalScope | undefined, name: string): boolean {
  for (let s = scope; s !== undefined; s = s.up) {
    if (!s.complete) return false;
    const k = s.names.get(name);
    if (k !== undefined) return k === 'param';
  }
  return false;
}

function lookup(scope: LocalScope | undefined, name: string): 'param' | 'fn' | 'var' | undefined {
  for (let s = scope; s !== undefined; s = s.up) {
    const k = s.names.get(name);
    if (k !== undefined) return k;
  }
  return undefined;
}

function collectPattern(node: t.Node | null | undefined, names: Map<string, 'param' | 'fn' | 'var'>, kind: 'param' | 'var', depth = 0): void {
  if (node == null) return;
  if (depth > 50) {
    truncated = true;
    return;
  }
  switch (node.type) {
    case 'Identifier':
      names.set(node.name, kind);
      return;
    case 'AssignmentPattern':
      collectPattern(node.left, names, kind, depth + 1);
      return;
    case 'RestElement':
      collectPattern(node.argument, names, kind, depth + 1);
      return;
    case 'ArrayPattern':
      for (const e of node.elements) collectPattern(e, names, kind, depth + 1);
      return;
    case 'ObjectPattern':
      for (const p of node.properties) collectPattern(p.type === 'RestElement' ? p : p.value, names, kind, depth + 1);
      return;
    case 'TSParameterProperty':
      collectPattern(node.parameter, names, kind, depth + 1);
      return;
    default:
      return;
  }
}

/**
 * Declarations of a statement list: `top` is the list that owns the scope (let/const/class/function
 * count there); `var` declarations hoist out of nested blocks but never out of nested functions.
 */
function hoist(stmts: readonly t.Node[], names: Map<string, 'param' | 'fn' | 'var'>, top: boolean, depth = 0): void {
  if (depth > 60) {
    truncated = true;
    return;
  }
  for (const st of stmts) {
    switch (st.type) {
      case 'VariableDeclaration':
        if (st.kind === 'var' || top) for (const d of st.declarations) collectPattern(d.id, names, 'var');
        break;
      case 'FunctionDeclaration':
        if (top && st.id) names.set(st.id.name, 'fn');
        break;
      case 'ClassDeclaration':
        if (top && st.id) names.set(st.id.name, 'var');
        break;
      case 'ImportDeclaration':
        for (const sp of st.specifiers) names.set(sp.local.name, 'var');
        break;
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
        if (st.declaration) hoist([st.declaration], names, top, depth + 1);
        break;
      case 'IfStatement':
        hoist([st.consequent], names, false, depth + 1);
        if (st.alternate) hoist([st.alternate], names, false, depth + 1);
        break;
      case 'BlockStatement':
        hoist(st.body, names, false, depth + 1);
        break;
      case 'ForStatement':
        if (st.init?.type === 'VariableDeclaration' && st.init.kind === 'var') hoist([st.init], names, false, depth + 1);
        hoist([st.body], names, false, depth + 1);
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        if (st.left.type === 'VariableDeclaration' && st.left.kind === 'var') hoist([st.left], names, false, depth + 1);
        hoist([st.body], names, false, depth + 1);
        break;
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
      case 'WithStatement':
        hoist([st.body], names, false, depth + 1);
        break;
      case 'TryStatement':
        hoist([st.block], names, false, depth + 1);
        if (st.handler) hoist([st.handler.body], names, false, depth + 1);
        if (st.finalizer) hoist([st.finalizer], names, false, depth + 1);
        break;
      case 'SwitchStatement':
        for (const c of st.cases) hoist(c.consequent, names, false, depth + 1);
        break;
      default:
        break;
    }
  }
}

/** The scope a node opens for its children, or undefined when it opens none. */
function scopeOf(node: t.Node, up: LocalScope | undefined): LocalScope | undefined {
  truncated = false;
  switch (node.type) {
    case 'Program': {
      const names = new Map<string, 'param' | 'fn' | 'var'>();
      hoist(node.body, names, true);
      return { names, up, complete: !truncated };
    }
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ObjectMethod':
    case 'ClassMethod':
    case 'ClassPrivateMethod': {
      const names = new Map<string, 'param' | 'fn' | 'var'>();
      if (node.type === 'FunctionExpression' && node.id) names.set(node.id.name, 'fn');
      for (const p of node.params) collectPattern(p, names, 'param');
      if (node.body.type === 'BlockStatement') hoist(node.body.body, names, true);
      return { names, up, complete: !truncated };
    }
    case 'BlockStatement':
    case 'StaticBlock': {
      const names = new Map<string, 'param' | 'fn' | 'var'>();
      for (const st of node.body) {
        if (st.type === 'VariableDeclaration' && st.kind !== 'var') for (const d of st.declarations) collectPattern(d.id, names, 'var');
        else if (st.type === 'FunctionDeclaration' && st.id) names.set(st.id.name, 'fn');
        else if (st.type === 'ClassDeclaration' && st.id) names.set(st.id.name, 'var');
      }
      // A static block also holds the `var`s declared in it, which this model does not collect.
      if (node.type === 'StaticBlock') return { names, up, complete: false };
      return names.size === 0 ? undefined : { names, up, complete: !truncated };
    }
    case 'SwitchStatement':
    case 'TSModuleBlock':
      // Scopes whose declarations (let/const/class in cases, a namespace's body) this model does not
      // collect: nothing below is surely a parameter.
      return { names: new Map(), up, complete: false };
    case 'CatchClause': {
      const names = new Map<string, 'param' | 'fn' | 'var'>();
      collectPattern(node.param, names, 'param');
      return { names, up, complete: !truncated };
    }
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement': {
      const decl = node.type === 'ForStatement' ? node.init : node.left;
      if (decl?.type !== 'VariableDeclaration' || decl.kind === 'var') return undefined;
      const names = new Map<string, 'param' | 'fn' | 'var'>();
      for (const d of decl.declarations) collectPattern(d.id, names, 'var');
      return { names, up, complete: !truncated };
    }
    case 'ClassExpression':
    case 'ClassDeclaration':
      if (node.id) return { names: new Map([[node.id.name, 'var' as const]]), up, complete: true };
      return undefined;
    default:
      return undefined;
  }
}

export interface PrefilterSink {
  onString(node: t.StringLiteral, parent: t.Node | undefined): void;
  onTemplate(node: t.TemplateLiteral): void;
  onEdge(spec: string): void;
}

/**
 * Walks the AST once. Returns true when the file needs the full detector pass. String literals and
 * static specifiers are handed to `sink` on the way (the walk stops early once the answer is yes only
 * if `sink` is undefined).
 */
export function needsFullScan(ast: t.File, sink?: PrefilterSink): boolean {
  let needed = false;
  // Frames of four: node, parent, the local scope the node sits in, depth below the program.
  const stack: unknown[] = [ast.program, undefined, undefined, 0];
  // Alias positions proven harmless (see markHarmless), and whether any would have been a trigger.
  const harmless = new Set<t.Node>();
  let spared = false;
  let maxDepth = 0;
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    if (depth > maxDepth) maxDepth = depth;
    const outer = stack.pop() as LocalScope | undefined;
    const parent = stack.pop() as t.Node | undefined;
    const node = stack.pop() as t.Node;
    if (needed && sink === undefined) return true;
    // Local scopes only decide triggers: once the answer is yes, the rest of the walk (strings and
    // edges for the sink) builds none.
    const scope = needed ? undefined : (scopeOf(node, outer) ?? outer);
    switch (node.type) {
      case 'StringLiteral':
        sink?.onString(node, parent);
        if (!needed && node.value.length > 0) {
          const raw = (node.extra as { raw?: unknown } | undefined)?.raw;
          if (typeof raw === 'string' && raw.includes('\\') && hasAlnumEscape(raw)) needed = true;
        }
        continue;
      case 'TemplateLiteral':
        sink?.onTemplate(node);
        break;
      case 'Identifier':
        if (!needed && isTrigger(node, parent, scope)) {
          if (harmless.has(node)) spared = true;
          else needed = true;
        }
        continue;
      case 'ImportDeclaration':
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration': {
        const src = node.source;
        if (src != null) {
          sink?.onEdge(src.value);
          if (isCapabilitySpec(src.value)) needed = true;
        }
        break;
      }
      case 'CallExpression':
      case 'OptionalCallExpression':
      case 'NewExpression': {
        const callee = node.callee;
        const a0 = node.arguments[0];
        if (callee.type === 'Import' || (callee.type === 'Identifier' && callee.name === 'require')) {
          const spec = plainString(a0);
          if (spec === undefined || node.arguments.length !== 1) needed = true;
          else {
            sink?.onEdge(spec);
            if (isCapabilitySpec(spec)) needed = true;
          }
          // Do not visit the `require` identifier itself: it is a plain static load.
          if (a0 !== undefined) stack.push(a0, node, scope, depth + 1);
          continue;
        }
        if (!needed) for (const a of node.arguments) markHarmless(a, 0, harmless);
        // setTimeout('code') / setTimeout(s) where s may be a string: the engine decides.
        if (callee.type === 'Identifier' && (callee.name === 'setTimeout' || callee.name === 'setInterval') && isStringish(a0) && !(a0?.type === 'Identifier' && lookup(scope, a0.name) !== undefined && lookup(scope, a0.name) !== 'var')) needed = true;
        if (callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') {
          // x.constructor.constructor(...) in any spelling (x[c][c](...) with c = 'constructor').
          if (callee.object.type === 'MemberExpression' && mayBeConstructorKey(callee) && mayBeConstructorKey(callee.object)) needed = true;
          const name = keyName(callee);
          if (name === 'push' && a0?.type === 'CallExpression' && (a0.callee.type === 'MemberExpression' && keyName(a0.callee) === 'shift')) needed = true;
          if ((name === 'defineProperty' || name === 'defineProperties' || name === 'assign' || name === 'setPrototypeOf') && a0 !== undefined) {
            const r = rootName(a0);
            if (r !== undefined && (TAMPERABLE.has(r) || ALWAYS.has(r))) needed = true;
          }
        }
        break;
      }
      case 'MemberExpression':
      case 'OptionalMemberExpression': {
        // Computed keys only matter on objects that are themselves interesting (a global, process,
        // module...), and those roots are judged as identifiers; x.constructor.constructor spellings
        // are judged at the call.
        if (node.computed) stack.push(node.property, node, scope, depth + 1);
        const obj = node.object;
        if (!needed && !node.computed && obj.type === 'Identifier' && GLOBAL_OBJECTS.has(obj.name) && node.property.type === 'Identifier' && INERT_UNLESS_ALIASED.has(node.property.name) && lookup(scope, obj.name) === undefined) {
          // `globalThis.Object` resolves to the global `Object` (viaGlobalObject, which only matters for
          // writes, and writes are judged at the assignment): judge it as that identifier would be
          // judged where the member expression stands, instead of as a member of a global object.
          // (The identifier alone was a trigger here: any note of sparing it gates the answer below.)
          if (positionOf(node, parent) === 'alias' && !harmless.has(node)) needed = true;
          else spared = true;
          continue;
        }
        stack.push(obj, node, scope, depth + 1);
        continue;
      }
      case 'AssignmentExpression':
      case 'UpdateExpression': {
        if (!needed && node.type === 'AssignmentExpression') {
          const left = node.left;
          // `o.k = Date` hands the value on (the engine's 'escape'); `p = globalThis` with p a parameter
          // binds something the engine never follows (parameters resolve to nothing).
          if ((left.type !== 'Identifier' && left.type !== 'ObjectPattern') || (left.type === 'Identifier' && isSurelyParam(scope, left.name))) markHarmless(node.right, 0, harmless);
        }
        const target = node.type === 'AssignmentExpression' ? node.left : node.argument;
        const r = rootName(target);
        if (r !== undefined && (TAMPERABLE.has(r) || ALWAYS.has(r)) && lookup(scope, r) === undefined) {
          // module.exports = ... is the common case; anything else on module/require needs the full pass.
          if (r === 'module' && target.type === 'MemberExpression' && rootMemberIsBenignModule(target)) break;
          needed = true;
        }
        break;
      }
      case 'UnaryExpression':
        if (node.operator === 'delete') {
          const r = rootName(node.argument);
          if (r !== undefined && (TAMPERABLE.has(r) || r === 'require')) needed = true;
        }
        break;
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'ForStatement':
        if (isNotNot(node.test)) needed = true;
        break;
      case 'ObjectProperty':
      case 'ClassProperty':
      case 'ClassPrivateProperty':
        if (node.type !== 'ClassPrivateProperty' && node.computed) stack.push(node.key, node, scope, depth + 1);
        if (node.value != null) stack.push(node.value, node, scope, depth + 1);
        if ('decorators' in node && node.decorators) for (const d of node.decorators) stack.push(d, node, scope, depth + 1);
        continue;
      case 'ObjectMethod':
      case 'ClassMethod':
      case 'ClassPrivateMethod':
        if (node.type !== 'ClassPrivateMethod' && node.computed) stack.push(node.key, node, scope, depth + 1);
        for (const p of node.params) stack.push(p, node, scope, depth + 1);
        stack.push(node.body, node, scope, depth + 1);
        continue;
      default:
        break;
    }
    const keys = VISITOR_KEYS[node.type];
    if (keys === undefined) continue;
    for (let i = keys.length - 1; i >= 0; i--) {
      const v = (node as unknown as Record<string, unknown>)[keys[i] as string];
      if (v === null || v === undefined) continue;
      if (Array.isArray(v)) {
        for (let j = v.length - 1; j >= 0; j--) {
          const c = v[j] as t.Node | null;
          if (c !== null && typeof c === 'object') stack.push(c, node, scope, depth + 1);
        }
      } else if (typeof v === 'object' && 'type' in v) {
        stack.push(v as t.Node, node, scope, depth + 1);
      }
    }
  }
  // The full pass can also fail: Babel's scope crawl throws on a duplicate declaration and overflows
  // the stack on very deep trees, and those failures are outputs too (analyzer-error, too-deep). The
  // sparing rules above therefore only stand for a file the parser found clean (it reports every
  // redeclaration the crawl would throw on) and far shallower than the crawl's limit (about a
  // thousand levels); the older rules keep their answers whatever the file.
  if (!needed && spared && (maxDepth > MAX_SPARED_DEPTH || ((ast as { errors?: readonly unknown[] }).errors?.length ?? 0) > 0)) return true;
  return needed;
}

/**
 * Marks the values at `node` that the engine's classify() would class as handed on ('escape') or bound
 * to a parameter ('bind', the caller checks the target), looking through the same wrappers it looks
 * through (`a || b`, `c ? a : b`, the last of a sequence, await, parentheses), at most five deep as it
 * looks at most six ancestors up. Only bare global objects and INERT_UNLESS_ALIASED built-ins
 * (directly or as `globalThis.X`) are marked: for them, such a use produces no evidence (no detector
 * reacts to a bare `globalThis`/`Date` unless written or deleted, `globalThis[*]` aside) and the
 * engine never follows a parameter, so the alias needs no full pass. Everything else is left to isTrigger.
 */
function markHarmless(node: t.Node, levels: number, out: Set<t.Node>): void {
  if (levels > 5) return;
  switch (node.type) {
    case 'Identifier':
      if (GLOBAL_OBJECTS.has(node.name) || INERT_UNLESS_ALIASED.has(node.name)) out.add(node);
      return;
    case 'MemberExpression':
      if (!node.computed && node.object.type === 'Identifier' && GLOBAL_OBJECTS.has(node.object.name) && node.property.type === 'Identifier' && INERT_UNLESS_ALIASED.has(node.property.name)) out.add(node);
      return;
    case 'ConditionalExpression':
      markHarmless(node.consequent, levels + 1, out);
      markHarmless(node.alternate, levels + 1, out);
      return;
    case 'LogicalExpression':
      markHarmless(node.left, levels + 1, out);
      markHarmless(node.right, levels + 1, out);
      return;
    case 'SequenceExpression': {
      const last = node.expressions[node.expressions.length - 1];
      if (last !== undefined) markHarmless(last, levels + 1, out);
      return;
    }
    case 'AwaitExpression':
      markHarmless(node.argument, levels + 1, out);
      return;
    case 'ParenthesizedExpression':
      markHarmless(node.expression, levels + 1, out);
      return;
    default:
      return;
  }
}

function rootMemberIsBenignModule(target: t.MemberExpression): boolean {
  let n: t.Node = target;
  while (n.type === 'MemberExpression' && n.object.type === 'MemberExpression') n = n.object;
  return n.type === 'MemberExpression' && !n.computed && n.property.type === 'Identifier' && MODULE_BENIGN.has(n.property.name);
}

type Position = 'decl' | 'typeof' | 'callee' | 'member' | 'alias' | 'arg' | 'other';

/** Where an identifier (or a `globalThis.X` member standing for one) sits, as far as the detectors care. */
function positionOf(node: t.Node, parent: t.Node | undefined): Position {
  if (parent === undefined) return 'other';
  switch (parent.type) {
    case 'MemberExpression':
    case 'OptionalMemberExpression':
      return parent.object === node ? 'member' : 'other';
    case 'CallExpression':
    case 'OptionalCallExpression':
    case 'NewExpression':
      return parent.callee === node ? 'callee' : 'arg';
    case 'UnaryExpression':
      return parent.operator === 'typeof' ? 'typeof' : 'other';
    case 'BinaryExpression':
      return 'other';
    case 'VariableDeclarator':
      return parent.id === node ? 'decl' : 'alias';
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ClassDeclaration':
    case 'ClassExpression':
      // Parameters and names declare; an arrow's expression body is a returned value (not followed).
      return parent.type === 'ArrowFunctionExpression' && parent.body === node ? 'other' : parent.type.startsWith('Class') && (parent as t.Class).superClass === node ? 'other' : 'decl';
    case 'CatchClause':
    case 'ImportSpecifier':
    case 'ImportDefaultSpecifier':
    case 'ImportNamespaceSpecifier':
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return 'decl';
    case 'AssignmentExpression':
      return parent.right === node ? 'alias' : 'other';
    case 'AssignmentPattern':
      return parent.left === node ? 'decl' : 'alias';
    case 'LogicalExpression':
    case 'ConditionalExpression':
    case 'SequenceExpression':
    case 'AwaitExpression':
    case 'ParenthesizedExpression':
    case 'ArrayPattern':
    case 'ObjectPattern':
    case 'RestElement':
      return parent.type === 'ArrayPattern' || parent.type === 'RestElement' ? 'decl' : 'alias';
    case 'ObjectProperty':
      return 'other';
    default:
      return 'other';
  }
}

/**
 * Is this identifier occurrence something a detector could act on? Mirrors the detectors: e.g. the
 * module-internals detector ignores `module.exports` and `module` handed to a function, so only other
 * members and aliases (`const m = module`) need the full pass. Property keys never reach here.
 */
function isTrigger(node: t.Identifier, parent: t.Node | undefined, scope: LocalScope | undefined): boolean {
  const name = node.name;
  if (name.startsWith('_0x')) return true;
  const pos = positionOf(node, parent);
  if (pos === 'decl' || pos === 'typeof') return false;
  // A local binding is only as interesting as what initialises it, and that is visited on its own.
  if (lookup(scope, name) !== undefined && !name.startsWith('__')) return false;
  if (ALWAYS.has(name)) return true;
  const key = pos === 'member' ? keyName(parent as t.MemberExpression) : undefined;
  switch (name) {
    case 'require':
      // `require.resolve(...)`, `require.main === module`: reads that load nothing.
      return !(pos === 'member' && key !== undefined && REQUIRE_BENIGN.has(key));
    case 'module':
      return pos === 'alias' || (pos === 'member' && (key === undefined || !MODULE_BENIGN.has(key)));
    case 'process':
      return pos === 'alias' || (pos === 'member' && (key === undefined || PROCESS_KEYS.has(key)));
    case 'Function':
      return pos === 'callee' || pos === 'arg' || pos === 'alias' || (pos === 'member' && (key === undefined || key === 'call' || key === 'apply' || key === 'bind'));
    case 'Reflect':
      return pos === 'alias' || (pos === 'member' && (key === undefined || key === 'construct' || key === 'apply'));
    case 'navigator':
      return pos === 'alias' || (pos === 'member' && (key === undefined || key === 'sendBeacon'));
    default:
      break;
  }
  if (GLOBAL_OBJECTS.has(name)) {
    if (pos === 'alias') return true;
    if (pos !== 'member') return false;
    return key === undefined || ALWAYS.has(key) || TAMPERABLE.has(key) || key === 'process' || key === 'require' || key === 'module';
  }
  if (TAMPERABLE.has(name)) return pos === 'alias';
  return false;
}
