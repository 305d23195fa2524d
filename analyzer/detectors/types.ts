// Owns the shape of a detector (eslint-style `meta` + `create`) and of the events the scan engine
// hands to detectors: resolved uses of built-in modules and globals.
import type { NodePath, Scope, Visitor } from '@babel/traverse';
import type * as t from '@babel/types';
import type { CapabilityId } from '../types';

/** Where a resolved value comes from: a module specifier (normalised, no `node:`) or a global name. */
export type Root = { readonly kind: 'module'; readonly spec: string } | { readonly kind: 'global'; readonly name: string };

/**
 * How the end of a member chain is used:
 * call/new: invoked; write/delete: assigned or deleted; typeof: only tested; bind: stored into a local
 * variable that the engine follows through scope; escape: handed somewhere the engine does not follow
 * (argument, return, property value, spread, export), so detectors fall back to the whole value;
 * read: any other read.
 */
export type UseKind = 'call' | 'new' | 'write' | 'delete' | 'typeof' | 'bind' | 'escape' | 'read';

/** A resolved use: `cp.exec(...)` after `const cp = require('node:child_process')` is
 * `{ root: module child_process, members: ['exec'], how: 'call' }`. `*` marks a computed, unfoldable key. */
export interface Use {
  readonly root: Root;
  readonly members: readonly string[];
  readonly how: UseKind;
  /** The outermost node of the chain (the callee for calls). */
  readonly path: NodePath;
  /** The call or new expression when how is call/new. */
  readonly call?: NodePath<t.CallExpression | t.NewExpression | t.OptionalCallExpression>;
  /** A key or specifier needed decoding (escapes, concatenation, char codes...). */
  readonly obfuscated: boolean;
  /** Reached through `window.x`/`globalThis.x`/`global.x`/`self.x`. */
  readonly viaGlobalObject: boolean;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface DetectorMeta {
  /** Namespaced id, e.g. `network/builtin`. */
  readonly id: string;
  /** Capabilities this detector can report. */
  readonly capabilities: readonly CapabilityId[];
  readonly severity: Severity;
  readonly description: string;
}

/** What a detector reports: a capability with its API keypath at a node (or at an explicit position). */
export interface Report {
  readonly capability: CapabilityId;
  readonly api: string;
  readonly path?: NodePath | undefined;
  readonly node?: t.Node | undefined;
  /** Explicit 0-based source offset when there is no node (regex-based findings). */
  readonly offset?: number;
}

export interface PackageJsonInfo {
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly text: string;
  readonly fileNames: readonly string[];
}

export interface DetectorContext {
  /** The file being scanned (package-relative). */
  readonly file: string;
  readonly source: string;
  readonly ast: t.File;
  report(r: Report): void;
  /** Resolves an expression to a root + members through scope, aliases and folding. */
  resolve(node: t.Node, scope: Scope): { readonly root: Root; readonly members: readonly string[] } | undefined;
  /** Folds an expression to a string constant. */
  fold(node: t.Node | null | undefined, scope: Scope): { readonly value: string; readonly obfuscated: boolean } | undefined;
  /** Re-parses a decoded payload that reaches a code sink and scans it (bounded depth and size). */
  scanPayload(code: string, at: NodePath): void;
  /** Records a static file reference (for reachability). */
  addEdge(spec: string): void;
}

/**
 * Handlers that only read the node and its parent: the scan calls them in the same pass, in the same
 * order as a `visitor` entry of the same type would run, without making a NodePath for the node.
 */
export type NodeVisitor = { readonly [K in t.Node['type']]?: (node: Extract<t.Node, { type: K }>, parent: t.Node) => void };

/**
 * Per-file hooks a detector returns. `visitor` and `nodeVisitor` are merged with every other
 * detector's into one pass (for a node type in both, the `visitor` handler runs first).
 */
export interface DetectorHooks {
  readonly visitor?: Visitor;
  readonly nodeVisitor?: NodeVisitor;
  /**
   * Pre-checks of `visitor` handlers by the same key, on the node, its parent and its path's scope:
   * false means the handler would return at once, so the scan makes no path and skips it. They
   * must repeat the handler's early returns only (see walk.ts).
   */
  readonly guards?: { readonly [key: string]: (node: t.Node, parent: t.Node, scope: Scope) => boolean };
  onUse?(use: Use): void;
  /** Runs once after the traversal of the file. */
  onFileEnd?(): void;
}

export interface Detector {
  readonly meta: DetectorMeta;
  readonly create: (ctx: DetectorContext) => DetectorHooks;
}

/** Detectors that read package.json and the file list instead of the AST. */
export interface PackageDetector {
  readonly meta: DetectorMeta;
  readonly inspect: (pkg: PackageJsonInfo, report: (r: { capability: CapabilityId; api: string; snippet: string; file: string; line: number }) => void) => void;
}

/** Keypath text for a root and members: `child_process.exec`, `process.env.HOME`, `globalThis[*]`. */
export function keypathOf(root: Root, members: readonly string[]): string {
  let out = root.kind === 'module' ? root.spec : root.name;
  for (const m of members) out += m === '*' ? '[*]' : '.' + m;
  return out;
}
