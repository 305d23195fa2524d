import traverseModule, { type NodePath, type Scope, type Visitor } from '@babel/traverse';
import type * as t from '@babel/types';
import { parseSource } from './parse';
import { planWalk, toBabelVisitor, walk, type WalkVisitor } from './walk';

type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

function parse(src: string): t.File {
  const r = parseSource(src);
  if (!r.ok) throw new Error('parse');
  return r.ast;
}

/** Visitors that log every call with what a detector could observe: node, parent, key, scope and binding. */
function recorder(log: string[]): WalkVisitor[] {
  const scopeIds = new Map<unknown, number>();
  const id = (x: unknown): number => {
    let n = scopeIds.get(x);
    if (n === undefined) scopeIds.set(x, (n = scopeIds.size));
    return n;
  };
  const seen = (tag: string) => (path: NodePath) => {
    const n = path.node;
    const binding = n.type === 'Identifier' ? path.scope.getBinding(n.name) : undefined;
    const refs = binding === undefined ? '' : `${binding.kind}/${binding.referencePaths.length}/${binding.constantViolations.length}`;
    log.push(`${tag} ${n.type}@${n.start} in ${path.parent.type}.${String(path.listKey ?? '')}${String(path.key)} scope#${id(path.scope)} ${refs} up:${path.parentPath?.node.type ?? '-'}`);
  };
  const raw = (tag: string) => (node: t.Node, parent: t.Node) => {
    log.push(`${tag} ${node.type}@${node.start} in ${parent.type}`);
  };
  return [
    { visitor: { ReferencedIdentifier: seen('ref'), CallExpression: seen('call'), ImportDeclaration: seen('import') } },
    { visitor: { CallExpression: seen('call2'), StringLiteral: seen('str'), WhileStatement: seen('while') }, nodeVisitor: { StringLiteral: raw('rawstr'), CallExpression: raw('rawcall') } },
    { visitor: { TemplateLiteral: seen('tpl'), ExportNamedDeclaration: seen('export') }, nodeVisitor: { TemplateLiteral: raw('rawtpl') } },
  ];
}

const SOURCES = [
  'const cp = require("child_process"); function f(a, { b = cp }) { while (!![]) a.push(a.shift()); return cp.exec(`x${b}`) }',
  'import fs, { readFileSync as r } from "fs"; export { r }; export const x = () => fs.promises.readFile("a");',
  'class A { [k]() { return eval("1") } @dec m() {} static { let q = 1; q++ } } switch (d) { case 1: { let d = 2; f(d) } }',
  'for (let i of xs) { try { g(i) } catch ({ message }) { h(message) } } label: for (;;) break label; delete obj[k];',
  'let n: Foo<typeof bar> = g(); function g(a: { k: Bar }): Baz { return (a as Qux).k || require("os") }',
  'const el = <Foo.Bar x={y}><div>{z}</div></Foo.Bar>; (function n() { return n })(); var v; v = process.env.HOME;',
  'switch ((() => v)(w)) { case g(v): let v = 2; g(v) } const o = { [k(k)](k) { return k(k) } }; class C { static [(() => C)()]() { f() } @d(C) m() {} }',
];

describe('walk', () => {
  it.each(SOURCES)('calls the same handlers on the same paths and scopes as @babel/traverse: %s', (src) => {
    const expected: string[] = [];
    const babel: Visitor[] = [];
    for (const part of recorder(expected)) {
      if (part.visitor) babel.push(part.visitor);
      const raw: Record<string, (path: NodePath) => void> = {};
      for (const [key, fn] of Object.entries(part.nodeVisitor ?? {})) raw[key] = (path) => (fn as (n: t.Node, p: t.Node) => void)(path.node, path.parent);
      babel.push(raw as Visitor);
    }
    traverse(parse(src), traverse.visitors.merge(babel));
    traverse.cache.clear();
    const actual: string[] = [];
    const plan = planWalk(recorder(actual));
    expect(plan).toBeDefined();
    walk(parse(src), plan as NonNullable<typeof plan>);
    traverse.cache.clear();
    expect(expected.length).toBeGreaterThan(5);
    expect(actual).toEqual(expected);
  });

  it('hands the same parts to @babel/traverse when it cannot walk them', () => {
    const src = SOURCES[0] as string;
    const expected: string[] = [];
    const plan = planWalk(recorder(expected));
    walk(parse(src), plan as NonNullable<typeof plan>);
    traverse.cache.clear();
    const actual: string[] = [];
    traverse(parse(src), toBabelVisitor(recorder(actual)));
    traverse.cache.clear();
    expect(actual).toEqual(expected);
  });

  it.each(SOURCES)('hands guards the scope the path gets, and skips what they refuse: %s', (src) => {
    const seen: string[] = [];
    const fromPath: string[] = [];
    const called: string[] = [];
    const at = (n: t.Node): string => `${n.type}@${String(n.start)}`;
    const guard = (node: t.Node, _parent: t.Node, scope: Scope): boolean => {
      seen.push(`${at(node)} ${at(scope.block)}`);
      return (node.start ?? 0) % 3 !== 0;
    };
    const record = (path: NodePath): void => {
      fromPath.push(`${at(path.node)} ${at(path.scope.block)}`);
      called.push(at(path.node));
    };
    const plan = planWalk([{ visitor: { ReferencedIdentifier: record, CallExpression: record }, guards: { ReferencedIdentifier: guard, CallExpression: guard } }]);
    walk(parse(src), plan as NonNullable<typeof plan>);
    traverse.cache.clear();
    // Every accepted node's path has the scope its guard saw; refused calls got no handler call.
    expect(seen.filter((line) => called.includes(line.split(' ')[0] as string))).toEqual(fromPath);
    expect(seen.length).toBeGreaterThan(called.length);
  });

  it('leaves visitors it does not mirror to @babel/traverse', () => {
    expect(planWalk([{ visitor: { Function() {} } }])).toBeUndefined();
    expect(planWalk([{ visitor: { CallExpression: { exit() {} } } }])).toBeUndefined();
    expect(planWalk([{ visitor: { 'Identifier|StringLiteral'() {} } as Visitor }])).toBeUndefined();
    expect(planWalk([{ visitor: { BindingIdentifier() {} } }])).toBeUndefined();
  });

  it('refuses visitors that change the tree', () => {
    const plan = planWalk([{ visitor: { CallExpression: (path: NodePath) => path.skip() } }]);
    expect(() => walk(parse('f()'), plan as NonNullable<typeof plan>)).toThrow(/must not/);
  });
});
