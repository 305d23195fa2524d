import traverseModule, { type NodePath } from '@babel/traverse';
import type * as t from '@babel/types';
import { parseSource } from './parse';
import { buildScopes } from './scope-builder';
import { describeScopes, firstDifference } from './scope-compare';

type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

function parse(src: string): t.File {
  const r = parseSource(src);
  if (!r.ok) throw new Error('parse');
  return r.ast;
}

/** Babel's crawl, as walk.ts used to trigger it. */
function crawl(ast: t.File): NodePath {
  let program: NodePath | undefined;
  traverse(ast, {
    Program(path) {
      program = path;
      path.skip();
    },
  });
  return program as NodePath;
}

function babelView(src: string): string[] {
  const ast = parse(src);
  const out = describeScopes(ast, crawl(ast));
  traverse.cache.clear();
  return out;
}

function builderView(src: string): string[] | undefined {
  const ast = parse(src);
  const program = buildScopes(ast);
  const out = program === undefined ? undefined : describeScopes(ast, program);
  traverse.cache.clear();
  return out;
}

const SNIPPETS = [
  // var hoisting, redeclarations, var/function clashes
  'function f(){ if (x) { var a = 1; } a = 2; return a } var a; a++; var a = 3; function a() {} function b() {} function b() {}',
  // block-level function declarations (no Annex B in Babel), sloppy if-consequent function
  'f(); { function f() {} f(); } if (1) function h() { return h } h();',
  // classes: declaration's own scope alias, expressions' names, computed keys, static blocks, privates
  'class A extends B { m() { return A } static s = A; [A.k]() {} static { var s = 1; let t = 2; s++ } #p() { return this.#q } #q = 1 } const B2 = class C { x() { return C } }; new A(); class B {}',
  // named function expressions and their own name
  '(function a(a) { return a })(); (function b() { var b; b = 1 })(); (function A() { class A {} return A })(); (function c() { c = 2 })();',
  // catch params
  'try {} catch (e) { var e = 1; let f; e++ } try {} catch ({ message: m, ...rest }) { m; rest } try {} catch { q }',
  // for heads
  'var k, a, b; for (var i = 0; i < 3; i++) { i } for (let j in o) { j } for (k of xs) {} for ([a, b] of ps) {} for (var q in o) { q } for (const [x, y] of z) { x + y } for (let i = 0; i < 1; i++) setTimeout(() => i); for ({ a, b = 1 } of ps);',
  // imports and exports
  'import d, { a as b, c } from "m"; import * as ns from "n"; export { b }; export default function f() { return d } export const x = 1, { y } = ns; export class K {} export var ev = 1; export function ef() {} export * from "x"; export * as ns2 from "y"; export { a as default2 } from "z"; c++;',
  'const dd = 1; export default dd; export { dd as ee }; export let [l1, l1b] = [1, 2]; l1 = 3;',
  'export default class {} ; function g() {} export { g };',
  'import type { T } from "x"; import { type U, V } from "y"; V; U;',
  // destructuring, defaults, params seen from default values (pattern scopes)
  'function f({ a = b, c: [d, ...e] } = {}, g = a, ...h) { var b = 1; return arguments } const { p, q: { r } = {} } = obj; let [s = t, , u] = arr;',
  'var z = 1; function f(a = z, b = () => z, c = f) { var z = 2; return z } function g(a = arguments) { var arguments = 1; return arguments } const h = () => () => arguments;',
  // deletes, updates, compound and destructuring assignments
  'var v = 1; delete v; v += 2; --v; (function(){ v = 3 })(); var a1, b1; ({ a1, b: [b1 = 2] } = o); [a1.x, b1] = [1, 2]; u = 1; delete w.x;',
  // var and function in loops (Binding reassigns them itself)
  'while (x) { var w = 1; var w2; function inner() {} } do { let z = 1 } while (0); for (;;) { var fl = 2 } for (var k in o) { var kk = 1 }',
  // labels
  'outer: for (;;) { inner: while (1) { break outer; } } lbl: { function lf() {} }',
  // JSX
  'const Foo = () => null; const el = <Foo.Bar x={y}><div>{z}</div><Foo /><foo-bar /></Foo.Bar>; const F2 = 1; <F2 />;',
  // switch: the discriminant's path.scope skips the switch, a scope inside it does not
  'switch ((() => v)()) { case 1: let v = 2; f(function(){ return v }); default: v++ } switch (v) {}',
  // method keys and computed keys: their scope is the one around the method
  'const k = 1; class A { [k]() { const k = 2; return k } static [(() => k)()]() {} } const o = { [k](k) { return k }, get x() { return this._x }, set x(v) { this._x = v }, m(a, b = a) {}, [(function k() { return k })()]: 1 };',
  // async, generators, meta properties, optional chaining
  'async function af() { for await (const x of y) { x } await af() } function* g() { yield g } a?.b(c); function n() { return new.target } import.meta.url;',
  // strings, templates, tagged templates, sequences, conditionals
  'var t = `a${b}`; tag`x${t}`; (t, u) ? t : u; var self = this; self.x = self;',
  // unicode escapes and odd names
  'var \\u0061bc = 1; abc; var __proto__ = 2; __proto__++; var constructor; constructor = 1; var hasOwnProperty = 3;',
  // nested functions referencing outer bindings, closures, IIFEs
  '!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r,l:!1,exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}n.m=e,n.c=t,n(n.s=0)}([function(e,t,n){"use strict";var r=n(1);e.exports=function(){return r}},function(e){e.exports=require("fs")}]);',
  // class expressions with heritage and shadowing
  'let Base = class {}; const D = class Base extends Base { m() { return Base } }; class E extends (class F { f() { return F } }) {}',
  // object patterns in arrow params, catch, and for-of with defaults
  'const fn = ({ a, b: { c } = {} }, [d = a]) => a + c + d; for (const { e = fn } of list) e();',
  // arguments in nested arrows and function expressions
  'function outer() { const a = () => arguments[0]; return function () { return arguments } } arguments;',
  'var arguments = 1; function f() { return arguments } const g = () => arguments; ({ m() { return arguments } });',
  // getters/setters in classes, static and private fields referencing the class
  'class G { static inst = new G(); get v() { return G.inst } set v(x) { G.y = x } static #count = 0; static inc() { return G.#count++ } }',
  // redeclared params and vars in function scope
  'function r(a, a2) { var a = a2; var a2; return a } function s(x) { function x() {} return x }',
];

describe('scope builder', () => {
  it.each(SNIPPETS)('builds the scopes Babel crawls: %s', (src) => {
    const expected = babelView(src);
    const actual = builderView(src);
    expect(actual).toBeDefined();
    expect(firstDifference(expected, actual ?? [])).toBeUndefined();
    expect(expected.length).toBeGreaterThan(3);
  });

  it('leaves TypeScript, Flow and decorators to Babel', () => {
    expect(builderView('let n: Foo = 1; n;')).toBeUndefined();
    expect(builderView('// @flow\nfunction f(x: number): string { return String(x) }')).toBeUndefined();
    expect(builderView('@dec class A {}')).toBeUndefined();
    expect(builderView('declare class A {} A;')).toBeUndefined();
  });

  it('leaves collisions Babel throws on to Babel, which still throws', () => {
    const src = 'let a = 1; let a = 2;';
    expect(builderView(src)).toBeUndefined();
    expect(() => babelView(src)).toThrow();
    expect(builderView('var b; class b {}')).toBeUndefined();
    expect(builderView('import c from "c"; var c;')).toBeUndefined();
  });

  it('leaves very deep trees to Babel and keeps nothing of its attempt in the caches', () => {
    const src = 'x = ' + '1+'.repeat(1000) + '1; var y = x;';
    const ast = parse(src);
    expect(buildScopes(ast)).toBeUndefined();
    // Babel's crawl must really run (a cached, already initialised program scope would stop it).
    const program = crawl(ast);
    expect(program.scope.getBinding('y')?.kind).toBe('var');
    traverse.cache.clear();
  });

  it('makes referencePaths on first access, in Babel order', () => {
    const src = 'export function f(a) { return f } f(1); export { f as g }; (() => f)();';
    const ast = parse(src);
    const program = buildScopes(ast) as NodePath;
    const b = program.scope.getBinding('f');
    expect(b?.references).toBe(5);
    expect(b?.referencePaths.map((p) => `${p.node.type}@${String(p.node.start)}`)).toEqual(['ExportNamedDeclaration@0', 'Identifier@30', 'Identifier@34', 'Identifier@49', 'Identifier@66']);
    expect(b?.referencePaths[1]?.scope.block.type).toBe('FunctionDeclaration');
    traverse.cache.clear();
  });
});
