// Owns constant folding: turning expressions such as 'chi' + 'ld_process', String.fromCharCode(...),
// [...].join(''), Buffer.from(x, 'base64').toString() or a small decoding helper call into the string
// they produce, cheaply and with hard bounds, and saying whether decoding was needed (obfuscation).
import { posix } from 'node:path';
import type { Scope } from '@babel/traverse';
import type * as t from '@babel/types';

/** A folded value. Buffers are kept apart so that `.toString(enc)` can decode them. */
export type FoldValue = string | number | boolean | null | undefined | BufferValue | readonly FoldValue[];

export class BufferValue {
  constructor(readonly bytes: Buffer) {}
}

export interface Folded {
  readonly value: FoldValue;
  /** True when producing the value took decoding or splitting tricks that honest code rarely needs. */
  readonly obfuscated: boolean;
}

/** Resolves a callee such as `path.join` to a keypath through scope (provided by the engine). */
export type CalleeResolver = (node: t.Node, scope: Scope) => string | undefined;

export interface FoldOptions {
  readonly resolveCallee?: CalleeResolver;
  /** Maximum number of nodes visited (default 4000). */
  readonly maxSteps?: number;
}

const MAX_STRING = 1 << 20;
const MAX_DEPTH = 48;
const MAX_INLINE = 4;
const PATH_MARK = '\u0000dir';

type Env = ReadonlyMap<string, Folded>;

const ALNUM_ESCAPE = /\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\u\{([0-9a-fA-F]{1,6})\}|\\([0-7]{3})/g;

/** True when a literal's raw text spells a letter or digit with an escape (`'\x63hild'`). */
export function hasAlnumEscape(raw: string): boolean {
  if (!raw.includes('\\')) return false;
  ALNUM_ESCAPE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ALNUM_ESCAPE.exec(raw)) !== null) {
    const hex = m[1] ?? m[2] ?? m[3];
    const code = hex !== undefined ? parseInt(hex, 16) : parseInt(m[4] ?? '0', 8);
    if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return true;
  }
  return false;
}

function rawOf(node: t.Node): string | undefined {
  const extra = (node as { extra?: { raw?: unknown } }).extra;
  return typeof extra?.raw === 'string' ? extra.raw : undefined;
}

function isGlobal(scope: Scope, name: string): boolean {
  return scope.getBinding(name) === undefined;
}

function propName(node: t.MemberExpression | t.OptionalMemberExpression): string | undefined {
  if (!node.computed && node.property.type === 'Identifier') return node.property.name;
  if (node.property.type === 'StringLiteral') return node.property.value;
  return undefined;
}

function toStr(v: FoldValue): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (v instanceof BufferValue) return v.bytes.toString('utf8');
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const x of v as readonly FoldValue[]) {
      const s = x === null || x === undefined ? '' : toStr(x);
      if (s === undefined) return undefined;
      parts.push(s);
    }
    return parts.join(',');
  }
  return undefined;
}

function bufferFrom(v: FoldValue, enc: string | undefined): BufferValue | undefined {
  if (typeof v === 'string') {
    const e = (enc ?? 'utf8').toLowerCase();
    if (!['utf8', 'utf-8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii', 'ucs2', 'utf16le'].includes(e)) return undefined;
    return new BufferValue(Buffer.from(v, e as BufferEncoding));
  }
  if (Array.isArray(v) && (v as readonly FoldValue[]).every((x) => typeof x === 'number')) {
    return new BufferValue(Buffer.from(v as number[]));
  }
  if (v instanceof BufferValue) return v;
  return undefined;
}

const DECODING_ENCODINGS = new Set(['hex', 'base64', 'base64url', 'ucs2', 'utf16le']);

/** Folds expressions to constants. One instance per fold request (it carries the step budget). */
class Folder {
  private steps = 0;
  private inlines = 0;
  constructor(private readonly opts: FoldOptions) {}

  ev(node: t.Node | null | undefined, scope: Scope, env: Env, depth: number): Folded | undefined {
    if (node == null) return undefined;
    if (++this.steps > (this.opts.maxSteps ?? 4000) || depth > MAX_DEPTH) return undefined;
    switch (node.type) {
      case 'StringLiteral': {
        const raw = rawOf(node);
        return { value: node.value, obfuscated: raw !== undefined && hasAlnumEscape(raw) };
      }
      case 'NumericLiteral':
        return { value: node.value, obfuscated: false };
      case 'BooleanLiteral':
        return { value: node.value, obfuscated: false };
      case 'NullLiteral':
        return { value: null, obfuscated: false };
      case 'TemplateLiteral': {
        let out = node.quasis[0]?.value.cooked ?? '';
        let obf = node.quasis.some((q) => hasAlnumEscape(q.value.raw));
        for (let i = 0; i < node.expressions.length; i++) {
          const e = this.ev(node.expressions[i], scope, env, depth + 1);
          const s = e === undefined ? undefined : toStr(e.value);
          if (e === undefined || s === undefined) return undefined;
          obf ||= e.obfuscated || s !== PATH_MARK;
          out += s + (node.quasis[i + 1]?.value.cooked ?? '');
          if (out.length > MAX_STRING) return undefined;
        }
        const value = this.normalisePath(out);
        return { value, obfuscated: obf && !isRelativePath(value) };
      }
      case 'ArrayExpression': {
        const out: FoldValue[] = [];
        let obf = false;
        for (const el of node.elements) {
          if (el === null) {
            out.push(undefined);
            continue;
          }
          if (el.type === 'SpreadElement') {
            const s = this.ev(el.argument, scope, env, depth + 1);
            if (s === undefined || !Array.isArray(s.value)) return undefined;
            out.push(...(s.value as readonly FoldValue[]));
            obf ||= s.obfuscated;
            continue;
          }
          const e = this.ev(el, scope, env, depth + 1);
          if (e === undefined) return undefined;
          out.push(e.value);
          obf ||= e.obfuscated;
        }
        return { value: out, obfuscated: obf };
      }
      case 'Identifier':
        return this.identifier(node, scope, env, depth);
      case 'ParenthesizedExpression':
        return this.ev(node.expression, scope, env, depth + 1);
      case 'SequenceExpression':
        return this.ev(node.expressions[node.expressions.length - 1], scope, env, depth + 1);
      case 'UnaryExpression': {
        const a = this.ev(node.argument, scope, env, depth + 1);
        if (a === undefined) return undefined;
        if (node.operator === '-' && typeof a.value === 'number') return { value: -a.value, obfuscated: a.obfuscated };
        if (node.operator === '+') return { value: Number(a.value), obfuscated: a.obfuscated };
        if (node.operator === '~' && typeof a.value === 'number') return { value: ~a.value, obfuscated: a.obfuscated };
        if (node.operator === '!') return { value: !truthy(a.value), obfuscated: a.obfuscated };
        return undefined;
      }
      case 'BinaryExpression':
        return this.binary(node, scope, env, depth);
      case 'MemberExpression':
      case 'OptionalMemberExpression':
        return this.member(node, scope, env, depth);
      case 'CallExpression':
      case 'OptionalCallExpression':
        return this.call(node, scope, env, depth);
      case 'NewExpression':
        // new Buffer(x, enc)
        if (node.callee.type === 'Identifier' && node.callee.name === 'Buffer' && isGlobal(scope, 'Buffer')) {
          return this.bufferCall(node.arguments, scope, env, depth);
        }
        return undefined;
      default:
        return undefined;
    }
  }

  private normalisePath(s: string): string {
    if (!s.startsWith(PATH_MARK)) return s;
    const joined = posix.normalize('.' + s.slice(PATH_MARK.length));
    return joined.startsWith('.') ? joined : './' + joined;
  }

  private identifier(node: t.Identifier, scope: Scope, env: Env, depth: number): Folded | undefined {
    const local = env.get(node.name);
    if (local !== undefined) return local;
    const binding = scope.getBinding(node.name);
    if (binding === undefined) {
      if (node.name === '__dirname') return { value: PATH_MARK, obfuscated: false };
      if (node.name === 'undefined') return { value: undefined, obfuscated: false };
      return undefined;
    }
    if (!binding.constant) return undefined;
    const decl = binding.path.node;
    if (decl.type !== 'VariableDeclarator' || decl.id.type !== 'Identifier' || decl.init == null) return undefined;
    return this.ev(decl.init, binding.path.scope, new Map(), depth + 1);
  }

  private binary(node: t.BinaryExpression, scope: Scope, env: Env, depth: number): Folded | undefined {
    if (node.left.type === 'PrivateName') return undefined;
    const l = this.ev(node.left, scope, env, depth + 1);
    if (l === undefined) return undefined;
    const r = this.ev(node.right, scope, env, depth + 1);
    if (r === undefined) return undefined;
    const obf = l.obfuscated || r.obfuscated;
    const lv = l.value;
    const rv = r.value;
    if (node.operator === '+') {
      if (typeof lv === 'number' && typeof rv === 'number') return { value: lv + rv, obfuscated: obf };
      const ls = toStr(lv);
      const rs = toStr(rv);
      if (ls === undefined || rs === undefined) return undefined;
      const out = ls + rs;
      if (out.length > MAX_STRING) return undefined;
      const isPath = ls.startsWith(PATH_MARK);
      const value = isPath ? this.normalisePath(out) : out;
      // Splitting a name into pieces is what obfuscation does; building a relative path is not.
      return { value, obfuscated: obf || (!isPath && typeof lv === 'string' && typeof rv === 'string' && !isRelativePath(out)) };
    }
    if (typeof lv !== 'number' || typeof rv !== 'number') {
      if (node.operator === '===' || node.operator === '==') return { value: lv === rv, obfuscated: obf };
      if (node.operator === '!==' || node.operator === '!=') return { value: lv !== rv, obfuscated: obf };
      return undefined;
    }
    switch (node.operator) {
      case '-':
        return { value: lv - rv, obfuscated: obf };
      case '*':
        return { value: lv * rv, obfuscated: obf };
      case '/':
        return { value: lv / rv, obfuscated: obf };
      case '%':
        return { value: lv % rv, obfuscated: obf };
      case '^':
        return { value: lv ^ rv, obfuscated: obf };
      case '|':
        return { value: lv | rv, obfuscated: obf };
      case '&':
        return { value: lv & rv, obfuscated: obf };
      case '<<':
        return { value: lv << rv, obfuscated: obf };
      case '>>':
        return { value: lv >> rv, obfuscated: obf };
      case '>>>':
        return { value: lv >>> rv, obfuscated: obf };
      default:
        return undefined;
    }
  }

  private member(node: t.MemberExpression | t.OptionalMemberExpression, scope: Scope, env: Env, depth: number): Folded | undefined {
    let key: Folded | undefined;
    if (node.computed) key = this.ev(node.property, scope, env, depth + 1);
    else if (node.property.type === 'Identifier') key = { value: node.property.name, obfuscated: false };
    if (key === undefined) return undefined;
    const obj = this.ev(node.object, scope, env, depth + 1);
    if (obj === undefined) return undefined;
    const v = obj.value;
    const k = key.value;
    if ((typeof v === 'string' || Array.isArray(v)) && k === 'length') {
      return { value: (v as string | readonly FoldValue[]).length, obfuscated: obj.obfuscated };
    }
    if (typeof k === 'number' || (typeof k === 'string' && /^\d+$/.test(k))) {
      const i = Number(k);
      if (typeof v === 'string') return { value: v.charAt(i), obfuscated: true };
      if (Array.isArray(v)) return { value: (v as readonly FoldValue[])[i], obfuscated: obj.obfuscated || key.obfuscated };
    }
    return undefined;
  }

  private args(args: readonly t.Node[], scope: Scope, env: Env, depth: number): Folded[] | undefined {
    const out: Folded[] = [];
    for (const a of args) {
      if (a.type === 'SpreadElement') {
        const s = this.ev(a.argument, scope, env, depth + 1);
        if (s === undefined || !Array.isArray(s.value)) return undefined;
        for (const x of s.value as readonly FoldValue[]) out.push({ value: x, obfuscated: s.obfuscated });
        continue;
      }
      const e = this.ev(a, scope, env, depth + 1);
      if (e === undefined) return undefined;
      out.push(e);
    }
    return out;
  }

  private bufferCall(argNodes: readonly t.Node[], scope: Scope, env: Env, depth: number): Folded | undefined {
    const args = this.args(argNodes, scope, env, depth);
    if (args === undefined || args[0] === undefined) return undefined;
    const enc = args[1] !== undefined && typeof args[1].value === 'string' ? args[1].value : undefined;
    const buf = bufferFrom(args[0].value, enc);
    if (buf === undefined) return undefined;
    const decoding = enc !== undefined && DECODING_ENCODINGS.has(enc.toLowerCase());
    return { value: buf, obfuscated: args[0].obfuscated || decoding || Array.isArray(args[0].value) };
  }

  private call(node: t.CallExpression | t.OptionalCallExpression, scope: Scope, env: Env, depth: number): Folded | undefined {
    const callee = node.callee;
    if (callee.type === 'V8IntrinsicIdentifier') return undefined;
    // Global functions.
    if (callee.type === 'Identifier' && env.get(callee.name) === undefined) {
      const name = callee.name;
      if (isGlobal(scope, name)) {
        const args = this.args(node.arguments, scope, env, depth);
        if (args === undefined) return undefined;
        const a0 = args[0];
        switch (name) {
          case 'atob': {
            const s = a0 === undefined ? undefined : toStr(a0.value);
            if (s === undefined) return undefined;
            return { value: Buffer.from(s, 'base64').toString('latin1'), obfuscated: true };
          }
          case 'unescape':
          case 'decodeURIComponent':
          case 'decodeURI': {
            const s = a0 === undefined ? undefined : toStr(a0.value);
            if (s === undefined) return undefined;
            try {
              const value = name === 'unescape' ? unescape(s) : decodeURIComponent(s);
              return { value, obfuscated: a0?.obfuscated === true || value !== s };
            } catch {
              return undefined;
            }
          }
          case 'String':
            return a0 === undefined ? { value: '', obfuscated: false } : mapStr(a0, (s) => s);
          case 'parseInt': {
            const s = a0 === undefined ? undefined : toStr(a0.value);
            const radix = args[1] !== undefined && typeof args[1].value === 'number' ? args[1].value : 10;
            if (s === undefined) return undefined;
            return { value: parseInt(s, radix), obfuscated: a0?.obfuscated === true };
          }
          default:
            break;
        }
      }
      return this.inline(callee, node.arguments, scope, env, depth);
    }
    if (callee.type === 'ArrowFunctionExpression' || callee.type === 'FunctionExpression') {
      return this.inlineFn(callee, node.arguments, scope, scope, env, depth);
    }
    if (callee.type !== 'MemberExpression' && callee.type !== 'OptionalMemberExpression') return undefined;
    const method = callee.computed ? this.ev(callee.property, scope, env, depth + 1)?.value : propName(callee);
    if (typeof method !== 'string') return undefined;
    const obj = callee.object;
    // Static calls on globals: String.fromCharCode, Buffer.from, path.join.
    if (obj.type === 'Identifier' && env.get(obj.name) === undefined) {
      if (obj.name === 'String' && isGlobal(scope, 'String') && (method === 'fromCharCode' || method === 'fromCodePoint')) {
        const args = this.args(node.arguments, scope, env, depth);
        if (args === undefined || !args.every((a) => typeof a.value === 'number')) return undefined;
        const codes = args.map((a) => a.value as number);
        if (codes.length > MAX_STRING) return undefined;
        try {
          return { value: method === 'fromCharCode' ? String.fromCharCode(...codes) : String.fromCodePoint(...codes), obfuscated: true };
        } catch {
          return undefined;
        }
      }
      if (obj.name === 'Buffer' && isGlobal(scope, 'Buffer') && method === 'from') {
        return this.bufferCall(node.arguments, scope, env, depth);
      }
      const keypath = this.opts.resolveCallee?.(callee, scope);
      if (keypath === 'path.join' || keypath === 'path.resolve' || keypath === 'path.posix.join') {
        const args = this.args(node.arguments, scope, env, depth);
        if (args === undefined) return undefined;
        const parts = args.map((a) => toStr(a.value));
        if (parts.some((p) => p === undefined)) return undefined;
        const strs = parts as string[];
        if (strs[0] === PATH_MARK) {
          return { value: this.normalisePath(PATH_MARK + '/' + strs.slice(1).join('/')), obfuscated: args.some((a) => a.obfuscated) };
        }
        return { value: posix.join(...strs), obfuscated: args.some((a) => a.obfuscated) };
      }
    }
    // fn.apply(null, [..]) / fn.call(null, ..) on String.fromCharCode
    if ((method === 'apply' || method === 'call') && obj.type === 'MemberExpression') {
      const inner = propName(obj);
      if (inner === 'fromCharCode' && obj.object.type === 'Identifier' && obj.object.name === 'String' && isGlobal(scope, 'String')) {
        const rest = node.arguments.slice(1);
        const args = method === 'apply' ? this.args(rest, scope, env, depth)?.[0] : undefined;
        const list = method === 'apply' ? (args && Array.isArray(args.value) ? (args.value as readonly FoldValue[]) : undefined) : this.args(rest, scope, env, depth)?.map((a) => a.value);
        if (list === undefined || !list.every((x) => typeof x === 'number')) return undefined;
        return { value: String.fromCharCode(...(list as number[])), obfuscated: true };
      }
    }
    const recv = this.ev(obj, scope, env, depth + 1);
    if (recv === undefined) return undefined;
    const args = this.args(node.arguments, scope, env, depth);
    if (args === undefined) return undefined;
    return applyMethod(recv, method, args);
  }

  /** Inlines a call to a small local function whose body is a single return of a foldable expression. */
  private inline(callee: t.Identifier, argNodes: readonly t.Node[], scope: Scope, env: Env, depth: number): Folded | undefined {
    if (this.inlines >= MAX_INLINE) return undefined;
    const binding = scope.getBinding(callee.name);
    if (binding === undefined || !binding.constant) return undefined;
    let fn: t.Node | null | undefined = binding.path.node;
    if (fn.type === 'VariableDeclarator') fn = fn.init;
    if (fn == null || (fn.type !== 'FunctionDeclaration' && fn.type !== 'FunctionExpression' && fn.type !== 'ArrowFunctionExpression')) {
      return undefined;
    }
    const fnScope = binding.path.type === 'VariableDeclarator' ? (binding.path.get('init') as { scope: Scope }).scope : binding.path.scope;
    return this.inlineFn(fn, argNodes, fnScope, scope, env, depth);
  }

  private inlineFn(fn: t.FunctionDeclaration | t.FunctionExpression | t.ArrowFunctionExpression, argNodes: readonly t.Node[], fnScope: Scope, scope: Scope, env: Env, depth: number): Folded | undefined {
    if (this.inlines >= MAX_INLINE) return undefined;
    let body: t.Node | null | undefined;
    if (fn.body.type === 'BlockStatement') {
      const stmts = fn.body.body;
      const only = stmts.length === 1 ? stmts[0] : undefined;
      if (only?.type !== 'ReturnStatement') return undefined;
      body = only.argument;
    } else {
      body = fn.body;
    }
    if (body == null) return undefined;
    const args = this.args(argNodes, scope, env, depth);
    if (args === undefined) return undefined;
    const inner = new Map<string, Folded>();
    for (let i = 0; i < fn.params.length; i++) {
      const p = fn.params[i];
      if (p?.type !== 'Identifier') return undefined;
      inner.set(p.name, args[i] ?? { value: undefined, obfuscated: false });
    }
    this.inlines++;
    const out = this.ev(body, fnScope, inner, depth + 1);
    return out === undefined ? undefined : { value: out.value, obfuscated: true };
  }
}

function isRelativePath(s: string): boolean {
  return s.startsWith('./') || s.startsWith('../') || s.startsWith('/');
}

function truthy(v: FoldValue): boolean {
  if (Array.isArray(v) || v instanceof BufferValue) return true;
  return Boolean(v);
}

function mapStr(recv: Folded, f: (s: string) => FoldValue, obf = false): Folded | undefined {
  const s = toStr(recv.value);
  if (s === undefined) return undefined;
  const value = f(s);
  if (typeof value === 'string' && value.length > MAX_STRING) return undefined;
  return { value, obfuscated: recv.obfuscated || obf };
}

function num(a: Folded | undefined, dflt: number): number | undefined {
  if (a === undefined || a.value === undefined) return dflt;
  return typeof a.value === 'number' ? a.value : undefined;
}

function str(a: Folded | undefined): string | undefined {
  return a !== undefined && typeof a.value === 'string' ? a.value : undefined;
}

function applyMethod(recv: Folded, method: string, args: readonly Folded[]): Folded | undefined {
  const v = recv.value;
  const argObf = args.some((a) => a.obfuscated);
  if (v instanceof BufferValue) {
    if (method === 'toString') {
      const enc = str(args[0]) ?? 'utf8';
      try {
        const value = v.bytes.toString(enc as BufferEncoding);
        return { value, obfuscated: recv.obfuscated || argObf || DECODING_ENCODINGS.has(enc.toLowerCase()) };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  if (Array.isArray(v)) {
    const arr = v as readonly FoldValue[];
    switch (method) {
      case 'join': {
        const sep = args[0] === undefined ? ',' : str(args[0]);
        if (sep === undefined) return undefined;
        const parts = arr.map((x) => (x === null || x === undefined ? '' : toStr(x)));
        if (parts.some((p) => p === undefined)) return undefined;
        const out = (parts as string[]).join(sep);
        if (out.length > MAX_STRING) return undefined;
        // Joining single characters or pieces of a name is a classic hiding trick.
        return { value: out, obfuscated: true };
      }
      case 'reverse':
        return { value: [...arr].reverse(), obfuscated: true };
      case 'concat': {
        const out: FoldValue[] = [...arr];
        for (const a of args) {
          if (Array.isArray(a.value)) out.push(...(a.value as readonly FoldValue[]));
          else out.push(a.value);
        }
        return { value: out, obfuscated: recv.obfuscated || argObf };
      }
      case 'slice': {
        const s = num(args[0], 0);
        const e = num(args[1], arr.length);
        if (s === undefined || e === undefined) return undefined;
        return { value: arr.slice(s, e), obfuscated: recv.obfuscated || argObf };
      }
      default:
        return undefined;
    }
  }
  if (typeof v === 'number') {
    if (method === 'toString') {
      const radix = num(args[0], 10);
      if (radix === undefined || radix < 2 || radix > 36) return undefined;
      return { value: v.toString(radix), obfuscated: true };
    }
    return undefined;
  }
  if (typeof v !== 'string') return undefined;
  const o = recv.obfuscated || argObf;
  switch (method) {
    case 'toString':
    case 'valueOf':
    case 'trim':
      return { value: method === 'trim' ? v.trim() : v, obfuscated: o };
    case 'toLowerCase':
      return { value: v.toLowerCase(), obfuscated: o };
    case 'toUpperCase':
      return { value: v.toUpperCase(), obfuscated: o };
    case 'split': {
      const sep = args[0] === undefined ? undefined : str(args[0]);
      if (args[0] !== undefined && sep === undefined) return undefined;
      return { value: sep === undefined ? [v] : v.split(sep), obfuscated: o };
    }
    case 'concat': {
      const parts = args.map((a) => toStr(a.value));
      if (parts.some((p) => p === undefined)) return undefined;
      return mapStr(recv, (s) => s + (parts as string[]).join(''), true);
    }
    case 'slice':
    case 'substring':
    case 'substr': {
      const s = num(args[0], 0);
      const e = num(args[1], method === 'substr' ? v.length : v.length);
      if (s === undefined || e === undefined) return undefined;
      const value = method === 'slice' ? v.slice(s, e) : method === 'substring' ? v.substring(s, e) : v.substr(s, e);
      return { value, obfuscated: true };
    }
    case 'charAt': {
      const i = num(args[0], 0);
      return i === undefined ? undefined : { value: v.charAt(i), obfuscated: true };
    }
    case 'charCodeAt': {
      const i = num(args[0], 0);
      return i === undefined ? undefined : { value: v.charCodeAt(i), obfuscated: true };
    }
    case 'replace':
    case 'replaceAll': {
      const a = str(args[0]);
      const b = str(args[1]);
      if (a === undefined || b === undefined) return undefined;
      const value = method === 'replace' ? v.replace(a, () => b) : v.split(a).join(b);
      return value.length > MAX_STRING ? undefined : { value, obfuscated: true };
    }
    case 'repeat': {
      const n = num(args[0], 0);
      if (n === undefined || n < 0 || n * v.length > MAX_STRING) return undefined;
      return { value: v.repeat(n), obfuscated: o };
    }
    default:
      return undefined;
  }
}

/** Folds an expression to a value; undefined when it is not a cheap constant. */
export function foldValue(node: t.Node | null | undefined, scope: Scope, opts: FoldOptions = {}): Folded | undefined {
  return new Folder(opts).ev(node, scope, new Map(), 0);
}

/** Folds an expression to a string (numbers and decoded buffers converted); undefined otherwise. */
export function foldString(node: t.Node | null | undefined, scope: Scope, opts: FoldOptions = {}): { value: string; obfuscated: boolean } | undefined {
  const f = foldValue(node, scope, opts);
  if (f === undefined) return undefined;
  const v = f.value;
  if (typeof v === 'string') return { value: v, obfuscated: f.obfuscated };
  if (typeof v === 'number') return { value: String(v), obfuscated: f.obfuscated };
  if (v instanceof BufferValue) return { value: v.bytes.toString('utf8'), obfuscated: f.obfuscated };
  return undefined;
}
