// Owns obfuscation signals that honest (even minified) code does not produce: javascript-obfuscator's
// `_0x` identifier families, string-array rotators (`arr.push(arr.shift())`, `while(!![])`), letters and
// digits spelled as escapes in identifiers and strings, code hidden after 150+ spaces on a line, and
// high-entropy blobs in files that also evaluate code. Minifiers shorten names and drop whitespace; they
// never do any of these.
import { VISITOR_KEYS } from '@babel/types';
import type * as t from '@babel/types';
import type { Detector } from './types';
import { hasAlnumEscape } from '../fold';

const HEX_IDENT = /\b_0x[0-9a-fA-F]{3,}\b/g;
const PADDING = /[ \t]{150,}(?=\S)/g;
const IDENT_ESCAPE = /\\u(?:[0-9a-fA-F]{4}|\{[0-9a-fA-F]{1,6}\})/g;
const BLOB = /^[A-Za-z0-9+/=_-]{800,}$/;

/** The innermost node that contains `offset` (a short descent through child keys). */
export function innermostAt(ast: t.File, offset: number): t.Node | undefined {
  let node: t.Node = ast.program;
  for (let depth = 0; depth < 400; depth++) {
    const keys = VISITOR_KEYS[node.type] ?? [];
    let next: t.Node | undefined;
    for (const k of keys) {
      const v = (node as unknown as Record<string, unknown>)[k];
      const list = Array.isArray(v) ? (v as unknown[]) : [v];
      for (const c of list) {
        if (c !== null && typeof c === 'object' && 'type' in c) {
          const cn = c as t.Node;
          if ((cn.start ?? -1) <= offset && offset < (cn.end ?? -1)) {
            next = cn;
            break;
          }
        }
      }
      if (next) break;
    }
    if (!next) return node;
    node = next;
  }
  return node;
}

function inComment(ast: t.File, offset: number): boolean {
  for (const c of ast.comments ?? []) if ((c.start ?? 0) <= offset && offset < (c.end ?? 0)) return true;
  return false;
}

function isNotCode(node: t.Node | undefined): boolean {
  return node === undefined || node.type === 'StringLiteral' || node.type === 'TemplateLiteral' || node.type === 'TemplateElement' || node.type === 'JSXText' || node.type === 'RegExpLiteral' || node.type === 'DirectiveLiteral';
}

function isNotNot(node: t.Node | null | undefined): boolean {
  // !![] and !!{} are `true` spelled so that minifiers and readers do not fold it.
  return node?.type === 'UnaryExpression' && node.operator === '!' && node.argument.type === 'UnaryExpression' && node.argument.operator === '!' && (node.argument.argument.type === 'ArrayExpression' || node.argument.argument.type === 'ObjectExpression');
}

function propName(node: t.Node): string | undefined {
  if (node.type !== 'MemberExpression') return undefined;
  if (!node.computed && node.property.type === 'Identifier') return node.property.name;
  if (node.property.type === 'StringLiteral') return node.property.value;
  return undefined;
}

/**
 * Source-level signals (`_0x` families, whitespace padding, escaped identifiers), checked against the
 * AST so that comments and string contents do not count. Shared with the prefilter walk.
 */
export function fileLevelObfuscation(source: string, ast: t.File, report: (r: { capability: 'obfuscation'; api: string; offset?: number; node?: t.Node }) => void): void {
  // `_0x` families: javascript-obfuscator names every binding `_0x` + hex.
  if (source.includes('_0x')) {
    const names = new Set<string>();
    let first = -1;
    for (const m of source.matchAll(HEX_IDENT)) {
      names.add(m[0]);
      if (first < 0) first = m.index;
      if (names.size >= 5) break;
    }
    if (names.size >= 5) report({ capability: 'obfuscation', api: '_0x-identifiers', offset: first });
  }
  // Code pushed off-screen after a long run of spaces.
  let checked = 0;
  for (const m of source.matchAll(PADDING)) {
    if (++checked > 20) break;
    const at = m.index + m[0].length;
    if (inComment(ast, at)) continue;
    if (isNotCode(innermostAt(ast, at))) continue;
    report({ capability: 'obfuscation', api: 'whitespace-padding', offset: at });
    break;
  }
  // Identifiers spelled with \u escapes.
  if (source.includes('\\u')) {
    let n = 0;
    for (const m of source.matchAll(IDENT_ESCAPE)) {
      if (++n > 50) break;
      const node = innermostAt(ast, m.index);
      if (node?.type === 'Identifier' && !inComment(ast, m.index)) {
        report({ capability: 'obfuscation', api: 'escaped-identifier', node });
        break;
      }
    }
  }
}

export const OBFUSCATION_ID = 'obfuscation/patterns';

export const obfuscation: Detector = {
  meta: {
    id: OBFUSCATION_ID,
    capabilities: ['obfuscation'],
    severity: 'high',
    description: 'Obfuscator output and hiding tricks that minifiers never produce',
  },
  create: (ctx) => {
    let escapedLiterals = 0;
    let firstEscaped: t.Node | undefined;
    let sinks = 0;
    let blob: t.Node | undefined;
    return {
      guards: {
        CallExpression: (node) => propName((node as t.CallExpression).callee) === 'push' && (node as t.CallExpression).arguments.length === 1,
      },
      visitor: {
        WhileStatement(path) {
          if (isNotNot(path.node.test)) ctx.report({ capability: 'obfuscation', api: 'while(!![])', path });
        },
        DoWhileStatement(path) {
          if (isNotNot(path.node.test)) ctx.report({ capability: 'obfuscation', api: 'while(!![])', path });
        },
        ForStatement(path) {
          if (isNotNot(path.node.test)) ctx.report({ capability: 'obfuscation', api: 'while(!![])', path });
        },
        CallExpression(path) {
          const { callee, arguments: args } = path.node;
          if (propName(callee) !== 'push' || args.length !== 1) return;
          const a0 = args[0];
          if (a0?.type !== 'CallExpression' || propName(a0.callee) !== 'shift' || callee.type !== 'MemberExpression' || a0.callee.type !== 'MemberExpression') return;
          const o1 = callee.object;
          const o2 = a0.callee.object;
          if (o1.type === 'Identifier' && o2.type === 'Identifier' && o1.name === o2.name) {
            ctx.report({ capability: 'obfuscation', api: 'string-array-rotator', path });
          }
        },
      },
      nodeVisitor: {
        StringLiteral(node) {
          const raw = (node.extra as { raw?: unknown } | undefined)?.raw;
          if (typeof raw === 'string' && hasAlnumEscape(raw)) {
            escapedLiterals++;
            firstEscaped ??= node;
          }
          if (blob === undefined && node.value.length >= 800 && BLOB.test(node.value) && entropy(node.value) > 3.5) blob = node;
        },
      },
      onUse(use) {
        const r = use.root;
        if (r.kind === 'global' ? r.name === 'eval' || r.name === 'Function' || (r.name === 'module' && use.members[0] === '_compile') : r.spec === 'vm') sinks++;
      },
      onFileEnd() {
        fileLevelObfuscation(ctx.source, ctx.ast, (r) => ctx.report(r));
        if (escapedLiterals >= 3 && firstEscaped !== undefined) {
          ctx.report({ capability: 'obfuscation', api: 'escaped-strings', node: firstEscaped });
        }
        if (blob !== undefined && sinks > 0) ctx.report({ capability: 'obfuscation', api: 'encoded-blob', node: blob });
      },
    };
  },
};

/** Shannon entropy in bits per character over the first 4 KiB. */
function entropy(s: string): number {
  const sample = s.slice(0, 4096);
  const counts = new Map<string, number>();
  for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / sample.length;
    h -= p * Math.log2(p);
  }
  return h;
}
