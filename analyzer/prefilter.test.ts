import { parseSource } from './parse';
import { isCapabilitySpec, needsFullScan } from './prefilter';

function needs(src: string): boolean {
  const r = parseSource(src);
  if (!r.ok) throw new Error('parse');
  return needsFullScan(r.ast, { onString() {}, onTemplate() {}, onEdge() {} });
}

describe('needsFullScan', () => {
  it.each([
    'const a = require("./a"); module.exports = function f(x) { return a(x) + 1 };',
    'import { b } from "./b.js"; export default class C extends Error { constructor(m) { super(m); this.b = b } }',
    'exports.x = [1, 2, 3].map((n) => n * 2).filter(Boolean); const m = new Map(); JSON.stringify(m);',
    'if (typeof window !== "undefined") { console.log(window.innerWidth) } Object.keys(o); Array.isArray(a);',
    'function handler(module) { return module.buildInfo } process.nextTick(f); process.cwd(); require.resolve("./x");',
    'const p = require("path"); p.join(a, b); arr[i + 1] = arr[i]; obj[key] = 1;',
    'Error.captureStackTrace(this); new Promise((r) => setTimeout(r, 10));',
    // Built-ins and global objects handed on, or bound to a parameter: no detector can see them again.
    '(function (global, factory) { (global = typeof globalThis !== "undefined" ? globalThis : global || self, factory(global.acorn = {})); })(this, function (exports) {});',
    '(function (root) { root.ua = 1 })(typeof window === "object" ? window : this)',
    'o[schema.key] = Number; cast.type = Array; f(cond ? String : Boolean, x && Date)',
    'globalThis.Object.getOwnPropertyNames(x).map(f); new globalThis.Date(); typeof globalThis.Map; o.m = globalThis.Map',
    'try {} catch (e) { e = window }',
  ])('plain code skips the full pass: %s', (src) => {
    expect(needs(src)).toBe(false);
  });

  it.each([
    'require("child_process")',
    'require("node:fs").readFileSync("x")',
    'import os from "os"',
    'export * from "node:https"',
    'require(name)',
    'const r = require; r("x")',
    'f(require)',
    'import("x" + y)',
    'eval("1")',
    'new Function("x")',
    'Function("x")()',
    'fetch("/x")',
    'new XMLHttpRequest()',
    'navigator.sendBeacon("/x")',
    'window.fetch("/x")',
    'self["fe" + "tch"]("/x")',
    'globalThis[k]()',
    'const g = global; g.process',
    'process.env.X',
    'process["bin" + "ding"]("x")',
    'const p = process; p.env',
    'module.constructor._load("x")',
    'module.require("x")',
    'const m = module; m.constructor',
    'x.constructor.constructor("code")()',
    'x["constr" + "uctor"]["constr" + "uctor"]("code")()',
    'const c = "constructor"; x[c][c]("code")()',
    'setTimeout("alert(1)", 1)',
    'setTimeout(code, 1)',
    'XMLHttpRequest.prototype.open = f',
    'Array.prototype.map = f',
    'Object.defineProperty(window, "x", {})',
    'const A = Array; A.prototype.map = f',
    'while (!![]) {}',
    'a.push(a.shift())',
    'var _0x1f2e = 1',
    'x["\\x65val"]',
    'WebAssembly.compile(b)',
    'crypto.subtle',
    'Reflect.construct(F, [])',
    'require("./addon.node")',
    'require("bindings")("x")',
    // Aliases the engine follows, and the built-ins some detector reads even when handed on.
    'var now = cond ? performance : Date; now.x = 1',
    'const O = globalThis.Object; O.prototype.x = 1',
    'function f() { var g; g = globalThis; g.fetch = h }',
    'function f(g) { switch (k) { case 1: let g; g = globalThis; g.fetch = h } }',
    'function f(g) { class C { static { var g; g = globalThis; g.fetch = h } } }',
    'o.x = Function',
    'o.x = globalThis.setTimeout',
    'f(cond ? require : null)',
    'const { fetch } = cond ? window : self',
    // The sparing rules stand only where the scope crawl cannot fail (see needsFullScan).
    'let a; let a; o.x = Date',
    'o.x = Date; a' + '.b'.repeat(300),
  ])('capability-shaped code needs the full pass: %s', (src) => {
    expect(needs(src)).toBe(true);
  });
});

describe('isCapabilitySpec', () => {
  it('knows which specifiers matter', () => {
    expect(isCapabilitySpec('node:child_process')).toBe(true);
    expect(isCapabilitySpec('fs/promises')).toBe(true);
    expect(isCapabilitySpec('node:path')).toBe(false);
    expect(isCapabilitySpec('./lib/x.js')).toBe(false);
    expect(isCapabilitySpec('lodash')).toBe(false);
  });
});
