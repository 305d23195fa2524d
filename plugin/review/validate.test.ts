import { checkPackageName, checkReason, checkReviewBody, checkVersion, parseReviewPath, parseSpec } from './validate';

describe('checkPackageName', () => {
  it.each(['left-pad', '@acme/left-pad', 'JSONStream', 'a.b', '@a/b.c', 'x_y'])('accepts %s', (n) => {
    expect(checkPackageName(n)).toEqual({ ok: true, value: n });
  });
  it.each(['', '.hidden', '_private', '..', '../etc', '@acme/..', '@acme/.x', '@/x', '@acme', 'a/b', 'a b', 'a\u0000b', '/etc/passwd', 'node_modules', 'x'.repeat(215), '@acme/%2e%2e', 'a\\b'])(
    'refuses %j',
    (n) => {
      expect(checkPackageName(n).ok).toBe(false);
    },
  );
});

describe('checkVersion', () => {
  it.each(['1.0.0', '1.0.0-beta.1', '0.0.0-0'])('accepts %s', (v) => expect(checkVersion(v).ok).toBe(true));
  // npm publishes versions normalised by semver, which drops build metadata.
  it.each(['', '1.0', 'v1.0.0', '1.0.0+build.5', '^1.0.0', ' 1.0.0', '1.0.0/../x', '9'.repeat(300)])('refuses %j', (v) => expect(checkVersion(v).ok).toBe(false));
});

describe('checkReason', () => {
  it('accepts absent, trims, caps at 1000 printable characters', () => {
    expect(checkReason(undefined)).toEqual({ ok: true, value: '' });
    expect(checkReason('  ok then  ')).toEqual({ ok: true, value: 'ok then' });
    expect(checkReason('é'.repeat(1000)).ok).toBe(true);
    expect(checkReason('x'.repeat(1001)).ok).toBe(false);
  });
  it.each(['a\nb', 'a\rb', 'tab\there', 'bell\u0007', 'del\u007f', 'c1\u0085', 'rlo\u202e', 'isolate\u2066', 'ls\u2028', 'bom\ufeff'])('refuses %j', (r) => {
    expect(checkReason(r).ok).toBe(false);
  });
});

describe('checkReviewBody', () => {
  const now = new Date('2026-11-25T00:00:00Z');
  it('normalises a scoped approval', () => {
    expect(checkReviewBody({ decision: 'approve', reason: 'r', scope: { range: '^1.0.0', capabilities: ['network', 'network'], expiresAt: '2027-01-01' } }, now)).toEqual({
      ok: true,
      value: { decision: 'approve', reason: 'r', scope: { range: '^1.0.0', capabilities: ['network'], expiresAt: '2027-01-01T00:00:00.000Z' } },
    });
    expect(checkReviewBody({ decision: 'deny' }, now)).toEqual({ ok: true, value: { decision: 'deny', reason: '', scope: null } });
  });
  it.each([
    [null, 'body must be a JSON object'],
    [{ decision: 'approve', extra: 1 }, 'unknown field "extra"'],
    [{ decision: 'deny', scope: { range: '*', capabilities: ['network'] } }, 'scope is only allowed with "approve"'],
    [{ decision: 'approve', scope: { range: '*', capabilities: [] } }, 'scope.capabilities must be a non-empty list of capability ids'],
    [{ decision: 'approve', scope: { range: '*', capabilities: ['network'], expiresAt: '2020-01-01' } }, 'scope.expiresAt is in the past'],
  ])('refuses %j: %s', (body, message) => {
    expect(checkReviewBody(body, now)).toEqual({ ok: false, error: message });
  });
});

describe('parseReviewPath / parseSpec', () => {
  it('decodes npm spellings once', () => {
    expect(parseReviewPath('@acme%2fleft-pad/1.0.0')).toEqual({ ok: true, value: { name: '@acme/left-pad', version: '1.0.0' } });
    expect(parseReviewPath('%40acme%2Fleft-pad/1.0.0')).toEqual({ ok: true, value: { name: '@acme/left-pad', version: '1.0.0' } });
    expect(parseReviewPath('@acme/left-pad/1.0.0')).toEqual({ ok: true, value: { name: '@acme/left-pad', version: '1.0.0' } });
    expect(parseReviewPath('left-pad/1.0.0')).toEqual({ ok: true, value: { name: 'left-pad', version: '1.0.0' } });
  });
  it.each(['..%2f..%2fetc/1.0.0', '%252e%252e/1.0.0', 'a/b/1.0.0', '%E0%A4%A/1.0.0', 'left-pad', 'left-pad/1.0.0/', '@acme%2f..%2f..%2fx/1.0.0'])('refuses %j', (p) => {
    expect(parseReviewPath(p).ok).toBe(false);
  });
  it('splits name@version at the last @', () => {
    expect(parseSpec('@acme/left-pad@1.2.3')).toEqual({ ok: true, value: { name: '@acme/left-pad', version: '1.2.3' } });
    expect(parseSpec('left-pad@1.2.3')).toEqual({ ok: true, value: { name: 'left-pad', version: '1.2.3' } });
    expect(parseSpec('left-pad').ok).toBe(false);
    expect(parseSpec('@acme/left-pad').ok).toBe(false);
    expect(parseSpec('left-pad@latest').ok).toBe(false);
  });
});
