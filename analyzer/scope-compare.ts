// Owns describing a file's scopes as text, for the oracle that checks scope-builder.ts against
// Babel's crawl (scope-builder.test.ts and bench/scope-oracle.ts): every node's path.scope, and per
// scope node its parent, bindings (kind, path, identifier, constant, constant violations,
// references, referencePaths with their scopes) and labels, all named by node type and position so
// that two parses of the same text compare equal. Not used by the analysis itself.
import type { Binding, NodePath, Scope } from '@babel/traverse';
import { VISITOR_KEYS } from '@babel/types';
import type * as t from '@babel/types';
import { getPath } from './scope-builder';

function at(n: t.Node | null | undefined): string {
  return n == null ? '-' : `${n.type}@${String(n.start)}-${String(n.end)}`;
}

function scopeName(s: Scope | null | undefined): string {
  return s == null ? '-' : at(s.block);
}

export interface DescribeOptions {
  /** Whether to list referencePaths of a binding (they may be made lazily, which costs a walk). */
  readonly referencePaths?: (name: string, binding: Binding) => boolean;
}

/** Every observable fact of the scopes of `ast`, whose Program path is `program`, one per line. */
export function describeScopes(ast: t.File, program: NodePath, opts: DescribeOptions = {}): string[] {
  const out: string[] = [];
  const wantRefs = opts.referencePaths ?? (() => true);
  const bindingName = (b: Binding | undefined): string => (b === undefined ? 'undefined' : `${scopeName(b.scope)}:${at(b.identifier)}`);

  function describeScope(path: NodePath): void {
    const scope = path.scope;
    const internals = scope as unknown as { inited: boolean; labels: Map<string, NodePath>; bindings: Record<string, Binding | undefined>; globals: Record<string, t.Node>; references: Record<string, boolean> };
    out.push(`  scope ${scopeName(scope)} parent=${scopeName(scope.parent)} inited=${String(internals.inited)} labels=${[...internals.labels].map(([k, v]) => `${k}:${at(v.node)}`).join(',')}`);
    out.push(`  globals=${Object.entries(internals.globals).map(([k, v]) => `${k}:${at(v)}`).join(',')} references=${Object.keys(internals.references).join(',')}`);
    for (const name of Object.keys(internals.bindings)) {
      const b = internals.bindings[name];
      if (b === undefined) {
        out.push(`    ${name}: undefined`);
        continue;
      }
      const own = b.scope === scope;
      out.push(`    ${name}: ${bindingName(b)}${own ? '' : ' (alias)'}`);
      if (!own) continue;
      out.push(`      kind=${b.kind} path=${at(b.path.node)} pathScope=${scopeName(b.path.scope)} pathParent=${at(b.path.parentPath?.node)} key=${String(b.path.listKey ?? '')}.${String(b.path.key)} constant=${String(b.constant)} references=${b.references} referenced=${String(b.referenced)}`);
      out.push(`      violations=${b.constantViolations.map((v) => `${at(v.node)}/${scopeName(v.scope)}`).join(' ')}`);
      if (wantRefs(name, b)) out.push(`      refs=${b.referencePaths.map((r) => `${at(r.node)}/${scopeName(r.scope)}/${at(r.parentPath?.node)}`).join(' ')}`);
    }
  }

  const nodes: t.Node[] = [ast, ast.program];
  const paths: (NodePath | undefined)[] = [undefined, program];
  const containers: unknown[] = [undefined, ast];
  const keys: (string | number)[] = ['', 'program'];
  const listKeys: (string | undefined)[] = [undefined, undefined];

  // walk.ts's way of making a path: NodePath.get under the parent's path, setScope when unset.
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

  function visit(d: number): void {
    const node = nodes[d] as t.Node;
    const path = pathAt(d);
    out.push(`${at(node)} scope=${scopeName(path.scope)}`);
    if (path.scope.path === path) describeScope(path);
    const childKeys = VISITOR_KEYS[node.type];
    if (childKeys === undefined) return;
    const record = node as unknown as Record<string, unknown>;
    for (const k of childKeys) {
      const v = record[k];
      if (!v) continue;
      const list = Array.isArray(v) ? (v as unknown[]) : [v];
      for (let i = 0; i < list.length; i++) {
        const c = list[i] as t.Node | null | undefined;
        if (!c) continue;
        nodes[d + 1] = c;
        paths[d + 1] = undefined;
        containers[d + 1] = Array.isArray(v) ? v : node;
        keys[d + 1] = Array.isArray(v) ? i : k;
        listKeys[d + 1] = Array.isArray(v) ? k : undefined;
        visit(d + 1);
      }
    }
  }

  visit(1);
  return out;
}

/** The first line where two descriptions differ, with context, or undefined when equal. */
export function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `line ${i}:\n  babel:   ${a[i] ?? '<end>'}\n  builder: ${b[i] ?? '<end>'}`;
  }
  return undefined;
}
