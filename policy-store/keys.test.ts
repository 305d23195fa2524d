// Tests keys.ts: npm name rules, strict versions, and the file-name encoding.
import { encodeSegment, packageNameProblem, versionProblem } from './keys';
import { INVALID_NAMES, INVALID_VERSIONS } from './store.contract';

describe('packageNameProblem', () => {
  it.each(['left-pad', '@types/node', 'JSONStream', "a~b!c(d)*'", 'a'.repeat(214), '@a/b.c'])('accepts %s', (name) => {
    expect(packageNameProblem(name)).toBeNull();
  });
  it.each(INVALID_NAMES.map((n) => [JSON.stringify(n).slice(0, 40), n]))('rejects %s', (_label, name) => {
    expect(packageNameProblem(name)).toEqual(expect.any(String));
  });
  it('rejects non-strings', () => {
    expect(packageNameProblem(undefined)).toEqual(expect.any(String));
    expect(packageNameProblem(42)).toEqual(expect.any(String));
  });
});

describe('versionProblem', () => {
  it.each(['1.0.0', '0.0.0-alpha.1', '1.2.3-RC.1+build.7', '10.20.30+sha.abc'])('accepts %s', (v) => {
    expect(versionProblem(v)).toBeNull();
  });
  it.each(INVALID_VERSIONS.map((v) => [JSON.stringify(v).slice(0, 40), v]))('rejects %s', (_label, v) => {
    expect(versionProblem(v)).toEqual(expect.any(String));
  });
});

describe('encodeSegment', () => {
  it('keeps lowercase names readable and escapes everything else', () => {
    expect(encodeSegment('left-pad')).toBe('left-pad');
    expect(encodeSegment('@types/node')).toBe('%40types%2fnode');
    expect(encodeSegment('JSONStream')).toBe('%4a%53%4f%4e%53tream');
    expect(encodeSegment('..')).toBe('%2e.');
  });
  it('is injective over names that differ only in case, scope or escaping', () => {
    const inputs = ['a', 'A', '@a/b', '%40a%2fb', 'a%2fb', 'b', '@a/B', 'x'.repeat(300), `${'x'.repeat(299)}y`, '%%'];
    const out = inputs.map(encodeSegment);
    expect(new Set(out).size).toBe(inputs.length);
  });
  it('bounds the length and never yields a separator', () => {
    for (const value of ['Z'.repeat(214), '/'.repeat(300), '\\..\\..', 'é'.repeat(200)]) {
      const seg = encodeSegment(value);
      expect(seg.length).toBeLessThanOrEqual(180);
      expect(seg).toMatch(/^[a-z0-9._~%-]+$/);
      expect(seg.startsWith('.')).toBe(false);
    }
  });
});
