import { parseSource } from './parse';
import traverseModule, { type NodePath } from '@babel/traverse';
import type * as t from '@babel/types';
import { foldString, hasAlnumEscape } from './fold';
import { scanSource } from './scan';
import { DETECTORS } from './detectors/index';

type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

/** Folds the argument of the last `sink(...)` call in the source. */
function foldSink(src: string): { value: string; obfuscated: boolean } | undefined {
  const r = parseSource(src);
  if (!r.ok) throw new Error('parse');
  let out: { value: string; obfuscated: boolean } | undefined;
  traverse(r.ast, {
    CallExpression(path: NodePath<t.CallExpression>) {
      if (path.node.callee.type === 'Identifier' && path.node.callee.name === 'sink') out = foldString(path.node.arguments[0], path.scope);
    },
  });
  return out;
}

describe('foldString', () => {
  it.each([
    ['"a" + "b"', 'ab', true],
    ['"./lib/" + "x"', './lib/x', false],
    ['`x${1 + 2}y`', 'x3y', true],
    ['String.fromCharCode(104, 105)', 'hi', true],
    ['["h", "i"].join("")', 'hi', true],
    ['"ih".split("").reverse().join("")', 'hi', true],
    ['Buffer.from("aGk=", "base64").toString()', 'hi', true],
    ['Buffer.from("6869", "hex").toString("utf8")', 'hi', true],
    ['atob("aGk=")', 'hi', true],
    ['"\\x68i"', 'hi', true],
    ['"hi"', 'hi', false],
    ['(0x68).toString(36)', '2w', true],
    ['"hello".slice(0, 2)', 'he', true],
  ])('%s -> %s', (expr, value, obfuscated) => {
    expect(foldSink(`sink(${expr})`)).toEqual({ value, obfuscated });
  });

  it('follows constants and small helper functions', () => {
    expect(foldSink('const p = "chi"; const d = (h) => Buffer.from(h, "hex").toString(); sink(d("6c64") + p)')?.value).toBe('ldchi');
  });

  it('folds __dirname paths to relative paths, not obfuscation', () => {
    expect(foldSink('sink(__dirname + "/x")')).toEqual({ value: './x', obfuscated: false });
    const scan = scanSource('index.js', 'const path = require("path"); require(path.join(__dirname, "lib", "x.js"))', DETECTORS);
    expect(scan.edges).toContain('./lib/x.js');
    expect(scan.dynamicRequire).toBe(false);
    expect(scan.hits.map((h) => h.capability)).not.toContain('obfuscation');
  });

  it('does not fold what is not constant', () => {
    expect(foldSink('sink(process.argv[2])')).toBeUndefined();
    expect(foldSink('let v = "a"; v = "b"; sink(v)')).toBeUndefined();
    expect(foldSink('function f(x) { sink(x) }')).toBeUndefined();
  });

  it('does not use shadowed decoders', () => {
    expect(foldSink('const atob = (s) => s; sink(atob("aGk="))')?.value).toBe('aGk=');
    expect(foldSink('function g(String) { sink(String.fromCharCode(104)) }')).toBeUndefined();
  });

  it('is bounded', () => {
    expect(foldSink('sink("a".repeat(1e9))')).toBeUndefined();
  });
});

describe('hasAlnumEscape', () => {
  it('flags letters and digits spelled as escapes, not control characters', () => {
    expect(hasAlnumEscape('"\\x63"')).toBe(true);
    expect(hasAlnumEscape('"\\u0041"')).toBe(true);
    expect(hasAlnumEscape('"\\x1b[0m\\u00a0\\n"')).toBe(false);
  });
});
