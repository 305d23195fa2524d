// Owns turning one file's bytes into a Babel AST, once, whatever the syntax dialect: hostile or odd
// input (BOM, non-UTF-8 bytes, JSX/TypeScript/Flow in .js, hashbangs, runaway nesting) gives a
// ParseFailure, never an exception.
import { parse, type ParserOptions, type ParserPlugin } from '@babel/parser';
import type * as t from '@babel/types';

/** A successfully parsed file. `recovered` counts syntax errors Babel's error recovery skipped. */
export interface ParsedFile {
  readonly ok: true;
  readonly source: string;
  readonly ast: t.File;
  readonly recovered: number;
}

export type ParseFailureReason = 'syntax' | 'too-deep' | 'too-large';

export interface ParseFailure {
  readonly ok: false;
  readonly source: string;
  readonly reason: ParseFailureReason;
  readonly message: string;
}

export type ParseResult = ParsedFile | ParseFailure;

/** Files above this size are not parsed (a lexical scan covers them instead). */
export const MAX_PARSE_BYTES = 12 * 1024 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/**
 * Bytes -> text: UTF-8 with invalid sequences replaced (U+FFFD) rather than rejected, and the BOM
 * dropped (TextDecoder strips a leading UTF-8 BOM unless ignoreBOM is set).
 */
export function decodeSource(bytes: Uint8Array): string {
  const text = decoder.decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const BASE_OPTIONS: ParserOptions = {
  sourceType: 'unambiguous',
  errorRecovery: true,
  allowReturnOutsideFunction: true,
  allowImportExportEverywhere: true,
  allowAwaitOutsideFunction: true,
  allowSuperOutsideMethod: true,
  allowUndeclaredExports: true,
  allowNewTargetOutsideFunction: true,
  createParenthesizedExpressions: false,
  attachComment: false,
  // Babel 7 always accepts a leading `#!` line (an InterpreterDirective); there is no option for it.
};

/**
 * Dialects tried in order: plain JS + JSX covers almost every published file; TypeScript and Flow
 * only when JSX fails (their generics and type annotations are ambiguous with JSX and comparisons).
 */
const DIALECTS: readonly (readonly ParserPlugin[])[] = [
  ['jsx', 'decorators-legacy'],
  ['typescript', 'decorators-legacy'],
  ['flow', 'jsx', 'decorators-legacy'],
];

const SEMANTIC_ERROR = /Redeclaration|^Strict|Duplicate|^Invalid(?:Lhs|EscapeSequence|Coverinitializedname)|IllegalReturn|Await|Yield|ModuleExport|DeletingPrivateField|LabelRedeclaration|IllegalBreakContinue|UnsupportedSuper|NewTarget|ImportMeta|Octal/;

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]?.slice(0, 200) ?? e.name : String(e).slice(0, 200);
}

/**
 * Parses source text. Tries the dialects in order and keeps the first one that parses without
 * recovered errors, else the first that parsed at all (with recovered errors), else fails.
 * A stack overflow inside the parser (deep nesting) is a `too-deep` failure, not a crash.
 */
export function parseSource(source: string): ParseResult {
  if (source.length > MAX_PARSE_BYTES) {
    return { ok: false, source, reason: 'too-large', message: `file of ${source.length} characters is not parsed` };
  }
  let fallback: ParsedFile | undefined;
  let firstError: string | undefined;
  for (const plugins of DIALECTS) {
    try {
      const ast = parse(source, { ...BASE_OPTIONS, plugins: [...plugins] });
      const recovered = ast.errors?.length ?? 0;
      if (recovered === 0) return { ok: true, source, ast, recovered: 0 };
      if (fallback === undefined) fallback = { ok: true, source, ast, recovered };
      // Semantic complaints (redeclarations, strict-mode rules) are not a dialect problem: another
      // dialect would report the same, so do not parse the file again.
      if ((ast.errors ?? []).every((e) => SEMANTIC_ERROR.test(String((e as { reasonCode?: unknown }).reasonCode ?? '')))) return fallback;
    } catch (e) {
      if (isStackOverflow(e)) {
        return { ok: false, source, reason: 'too-deep', message: 'nesting too deep to parse' };
      }
      firstError ??= message(e);
    }
  }
  if (fallback !== undefined) return fallback;
  return { ok: false, source, reason: 'syntax', message: firstError ?? 'unparsable' };
}

/** parseSource(decodeSource(bytes)). */
export function parseFile(bytes: Uint8Array): ParseResult {
  if (bytes.length > MAX_PARSE_BYTES) {
    return { ok: false, source: decodeSource(bytes), reason: 'too-large', message: `file of ${bytes.length} bytes is not parsed` };
  }
  return parseSource(decodeSource(bytes));
}
