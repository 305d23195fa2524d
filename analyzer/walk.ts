// Owns the scan's one visit of a file once its scopes exist: a plain depth-first walk over the raw
// AST in exactly @babel/traverse's order, which fetches a NodePath only for the nodes a visitor
// handles, instead of a second full @babel/traverse pass. The detector pass used to cost a scope
// crawl (one traverse) plus a visiting traverse; the visiting one set up contexts and scopes twice
// for every node of the file although the visitors act on a few node types only. The scopes now come
// from scope-builder.ts (one raw walk making Babel's Scope and Binding objects), and from Babel's own
// crawl only for the files the builder leaves to it (TypeScript/Flow, very deep trees, collisions).
import traverseModule, { NodePath, type Scope, type Visitor } from '@babel/traverse';
import { DEPRECATED_KEYS, FLIPPED_ALIAS_KEYS, VISITOR_KEYS } from '@babel/types';
import type * as t from '@babel/types';
import type { NodeVisitor } from './detectors/types';
import { buildScopes, getPath, isMethodType, isReferencedIdentifier, isScopeNode } from './scope-builder';

// @babel/traverse is CommonJS with `exports.default` (see scan.ts).
type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

type Handler = (path: NodePath) => void;
type RawHandler = (node: t.Node, parent: t.Node) => void;
type Guard = (node: t.Node, parent: t.Node, scope: Scope) => boolean;

/** What one detector (or the engine) contributes to the pass: path handlers and raw-node handlers. */
export interface WalkVisitor {
  readonly visitor?: Visitor | undefined;
  readonly nodeVisitor?: NodeVisitor | undefined;
  /**
   * Pre-checks of `visitor` handlers, by the same key: the walk makes no NodePath and skips the
   * handler when its guard says false for the node, its parent and the scope its path would have.
   * A guard must only repeat the handler's own early returns (the handler does nothing then):
   * @babel/traverse, when the walk cannot run the visitors, ignores guards.
   */
  readonly guards?: { readonly [key: string]: Guard } | undefined;
}

function rawHandlers(part: WalkVisitor): [string, RawHandler][] {
  const out: [string, RawHandler][] = [];
  for (const [key, fn] of Object.entries(part.nodeVisitor ?? {})) if (typeof fn === 'function') out.push([key, fn as RawHandler]);
  return out;
}

/**
 * One handler for a node type: a path handler (`referenced` marks a ReferencedIdentifier handler,
 * which Babel wraps in that check) or a raw one, called with the node and its parent.
 */
type Entry = { readonly fn: Handler; readonly referenced: boolean; readonly guard: Guard | undefined; readonly raw?: undefined } | { readonly raw: RawHandler };

/** Visitors sorted by node type, in the order `traverse.visitors.merge` would call them. */
export interface WalkPlan {
  readonly byType: ReadonlyMap<string, readonly Entry[]>;
}

/**
 * Plans a walk for these visitors, or undefined when they use something the walk does not mirror
 * (enter/exit objects, aliases such as `Function`, virtual types other than ReferencedIdentifier,
 * `A|B` keys, options): the caller then runs @babel/traverse itself.
 *
 * Order: `merge` explodes each visitor on its own, where a virtual type's handlers are appended after
 * that visitor's own handlers of the concrete types it covers, then concatenates visitors in order.
 */
export function planWalk(parts: readonly WalkVisitor[]): WalkPlan | undefined {
  const byType = new Map<string, Entry[]>();
  const add = (type: string, entry: Entry): void => {
    const list = byType.get(type);
    if (list === undefined) byType.set(type, [entry]);
    else list.push(entry);
  };
  for (const part of parts) {
    const record = (part.visitor ?? {}) as Record<string, unknown>;
    let referenced: Handler | undefined;
    for (const key of Object.keys(record)) {
      const fn = record[key];
      if (typeof fn !== 'function') return undefined;
      if (key === 'ReferencedIdentifier') {
        referenced = fn as Handler;
        continue;
      }
      if (!isConcreteType(key)) return undefined;
      add(key, { fn: fn as Handler, referenced: false, guard: part.guards?.[key] });
    }
    if (referenced !== undefined) {
      const guard = part.guards?.['ReferencedIdentifier'];
      add('Identifier', { fn: referenced, referenced: true, guard });
      add('JSXIdentifier', { fn: referenced, referenced: true, guard });
    }
    for (const [key, raw] of rawHandlers(part)) {
      if (!isConcreteType(key)) return undefined;
      add(key, { raw });
    }
  }
  return { byType };
}

function isConcreteType(key: string): boolean {
  return key in VISITOR_KEYS && !(key in FLIPPED_ALIAS_KEYS) && !(key in DEPRECATED_KEYS);
}

/**
 * The same parts as one @babel/traverse visitor, for when the walk cannot run them: raw handlers
 * become path handlers placed after the part's own handlers of the same type, as the walk orders them.
 */
export function toBabelVisitor(parts: readonly WalkVisitor[]): Visitor {
  const visitors: Visitor[] = [];
  for (const part of parts) {
    if (part.visitor !== undefined) visitors.push(part.visitor);
    const raw: Record<string, Handler> = {};
    for (const [key, fn] of rawHandlers(part)) raw[key] = (path) => fn(path.node, path.parent);
    if (Object.keys(raw).length > 0) visitors.push(raw as Visitor);
  }
  return traverse.visitors.merge(visitors);
}



interface PathInternals {
  readonly _traverseFlags: number;
}

/**
 * Visits `ast` with the planned visitors: builds the scopes with scope-builder.ts, or, for a file it
 * leaves to Babel, by entering Program through @babel/traverse (the same call, at the same stack
 * depth, that crawled them in the full pass), then walks the raw AST itself.
 *
 * Why this is the same visit as `traverse(ast, merge(visitors))`:
 * - Order: Babel visits a node's children key by key in VISITOR_KEYS order, list items in index
 *   order, skipping holes, and calls a node's enter handlers before its children; so does this walk.
 *   Babel also skips a node object met twice in one list; so does this walk. No handler exits.
 * - Paths: handlers get `NodePath.get` of the node under its parent path, which is the cached
 *   NodePath the builder (or the crawl) made when it made one (same object, same parentPath/
 *   container/key/listKey). Its `scope` is the one the builder or crawl set; Babel's visiting pass
 *   would recompute the same value from the same cached Scope objects. A path not made yet (the
 *   builder makes paths only for scope blocks, binding paths, constant violations and their
 *   ancestors; the crawl skips TS type annotations) gets its scope from `setScope()`, as Babel's
 *   pass would: every scope node's path already holds its Scope, so setScope finds, never creates.
 * - Handlers must not replace, remove, skip or stop paths (none of the detectors do); the walk
 *   checks this after every handler and throws, since it would not mirror Babel's requeueing.
 * - Stack: the walk costs one frame per AST level against Babel's five or more, so a file the crawl
 *   could traverse never overflows here. (A file so deep that only Babel's visiting pass overflowed
 *   used to fall back to the lexical scan; that band depends on the thread's stack size anyway.)
 *   The builder leaves trees deeper than its MAX_DEPTH to the crawl, which overflows as it did.
 */
export function walk(ast: t.File, plan: WalkPlan): void {
  let program: NodePath | undefined = buildScopes(ast);
  if (program === undefined) {
    traverse(ast, {
      Program(path) {
        program = path;
        path.skip();
      },
    });
  }
  if (program === undefined) return;

  // The current branch, by depth: 0 is the File, 1 the Program. `paths[d]` is filled lazily.
  const nodes: t.Node[] = [ast, ast.program];
  const paths: (NodePath | undefined)[] = [undefined, program];
  const containers: unknown[] = [undefined, ast];
  const keys: (string | number)[] = ['', 'program'];
  const listKeys: (string | undefined)[] = [undefined, undefined];
  const byType = plan.byType;
  const seenAt: (Set<unknown> | undefined)[] = [];
  // The scope each node's path has or would have (path/context.js setScope: a scope node's own,
  // else the parent's, or the grandparent's for a method's key or decorator and a switch's
  // discriminant), for guards; undefined where unknown (guards are then not consulted).
  const scopeCache = traverse.cache.scope;
  const scopes: (Scope | undefined)[] = [program.scope, program.scope];

  function pathAt(d: number): NodePath {
    let i = d;
    while (paths[i] === undefined) i--;
    for (let j = i + 1; j <= d; j++) {
      const p = getPath({ parentPath: paths[j - 1] as NodePath, parent: nodes[j - 1] as t.Node, container: containers[j], key: keys[j] as string | number, listKey: listKeys[j] });
      if ((p.scope as unknown) == null) p.setScope();
      paths[j] = p;
    }
    return paths[d] as NodePath;
  }

  function call(entries: readonly Entry[], node: t.Node, d: number): void {
    let path: NodePath | undefined;
    let referenced: boolean | undefined;
    for (const e of entries) {
      if (e.raw !== undefined) {
        e.raw(node, nodes[d - 1] as t.Node);
        continue;
      }
      if (e.referenced) {
        referenced ??= isReferencedIdentifier(node, nodes[d - 1] as t.Node, nodes[d - 2]);
        if (!referenced) continue;
      }
      if (e.guard !== undefined && path === undefined) {
        const scope = scopes[d];
        if (scope !== undefined && !e.guard(node, nodes[d - 1] as t.Node, scope)) continue;
      }
      path ??= pathAt(d);
      e.fn.call(undefined, path);
      if (path.node !== node || (path as unknown as PathInternals)._traverseFlags > 0) {
        throw new Error('scan visitors must not replace, remove, skip or stop paths');
      }
    }
  }

  function enter(d: number, node: t.Node, container: unknown, key: string | number, listKey: string | undefined): void {
    nodes[d] = node;
    paths[d] = undefined;
    containers[d] = container;
    keys[d] = key;
    listKeys[d] = listKey;
    const parent = nodes[d - 1] as t.Node;
    if (isScopeNode(node, parent)) {
      const own = scopeCache.get(node);
      scopes[d] = own !== undefined && own.path.node === node ? own : undefined;
    } else {
      const quirk = ((key === 'key' || listKey === 'decorators') && isMethodType(parent.type)) || (key === 'discriminant' && parent.type === 'SwitchStatement');
      scopes[d] = quirk ? scopes[d - 2] : scopes[d - 1];
    }
    visit(d);
  }

  function visit(d: number): void {
    const node = nodes[d] as t.Node;
    const entries = byType.get(node.type);
    if (entries !== undefined) call(entries, node, d);
    const childKeys = VISITOR_KEYS[node.type];
    if (childKeys === undefined) return;
    const record = node as unknown as Record<string, unknown>;
    for (const k of childKeys) {
      const v = record[k];
      if (!v) continue;
      if (Array.isArray(v)) {
        // Babel's once-per-list rule, with one reusable set per depth (the walk is recursive, so
        // a list's items' own lists sit one level deeper and never share it).
        let seen: Set<unknown> | undefined;
        if (v.length > 1) {
          seen = seenAt[d];
          if (seen === undefined) seenAt[d] = seen = new Set();
          else seen.clear();
        }
        for (let i = 0; i < v.length; i++) {
          const c = v[i] as t.Node | null | undefined;
          if (!c) continue;
          if (seen !== undefined) {
            if (seen.has(c)) continue;
            seen.add(c);
          }
          enter(d + 1, c, v, i, k);
        }
        seen?.clear();
      } else {
        enter(d + 1, v as t.Node, node, k, undefined);
      }
    }
  }

  visit(1);
}
