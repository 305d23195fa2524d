import { decodeSource, parseFile, parseSource } from './parse';

describe('parseSource', () => {
  it.each([
    ['plain script', 'var a = 1; return a;'],
    ['ES module', 'import x from "y"; export default x;'],
    ['hashbang', '#!/usr/bin/env node\nconsole.log(1)'],
    ['JSX in .js', 'const el = <div className="a">{x}</div>;'],
    ['TypeScript in .js', 'function f(a: number): string { return String(a) } enum E { A }'],
    ['Flow in .js', '// @flow\ntype T = {| a: number |}; function f(x: ?string): T { return { a: 1 } }'],
    ['top-level await', 'await import("x")'],
  ])('%s parses', (_name, src) => {
    const r = parseSource(src);
    expect(r.ok).toBe(true);
  });

  it('recovers from errors rather than failing', () => {
    const r = parseSource('var a = 1; var a = 2; "use strict"; with (a) {}');
    expect(r.ok).toBe(true);
  });

  it('reports broken syntax as a ParseFailure', () => {
    const r = parseSource('function (');
    expect(r).toMatchObject({ ok: false, reason: 'syntax' });
  });

  it('turns a parser stack overflow into a too-deep failure', () => {
    const r = parseSource('x=' + '('.repeat(50000) + '1' + ')'.repeat(50000));
    expect(r).toMatchObject({ ok: false, reason: 'too-deep' });
  });
});

describe('decodeSource / parseFile', () => {
  it('strips a UTF-8 BOM', () => {
    expect(decodeSource(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('a');
  });
  it('decodes invalid UTF-8 leniently', () => {
    const text = decodeSource(Buffer.from([0x76, 0x61, 0x72, 0x20, 0x61, 0x3d, 0x27, 0xff, 0xfe, 0x27, 0x3b]));
    expect(text).toBe("var a='\ufffd\ufffd';");
    expect(parseFile(Buffer.from([0xef, 0xbb, 0xbf, 0x76, 0x61, 0x72, 0x20, 0x61, 0x3b, 0x2f, 0x2f, 0xff])).ok).toBe(true);
  });
});
