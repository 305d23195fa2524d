import { createHash } from 'node:crypto';
import { expectedDigest, matchesDigest, sha512Sri } from './integrity';

const bytes = Buffer.from('tarball bytes');
const sha512 = sha512Sri(bytes);
const sha1 = createHash('sha1').update(bytes).digest('hex');

describe('integrity', () => {
  it('verifies a sha512 SRI and prefers it over sha1', () => {
    const r = expectedDigest(`sha1-${Buffer.from(sha1, 'hex').toString('base64')} ${sha512}`, sha1);
    expect(r.ok && r.expected.algorithm).toBe('sha512');
    expect(r.ok && matchesDigest(bytes, r.expected)).toBe(true);
    expect(r.ok && matchesDigest(Buffer.from('other'), r.expected)).toBe(false);
  });

  it('falls back to the sha1 shasum only when there is no integrity at all', () => {
    const r = expectedDigest(null, sha1);
    expect(r.ok && r.expected.sri.startsWith('sha1-')).toBe(true);
    expect(r.ok && matchesDigest(bytes, r.expected)).toBe(true);
  });

  it.each([
    ['sha1-only integrity', 'sha1-AAAA', sha1],
    ['truncated sha512', 'sha512-AAAA', null],
    ['not base64', 'sha512-@@@', null],
    ['nothing', null, null],
    ['bad shasum', null, 'xyz'],
  ])('refuses %s', (_label, integrity, shasum) => {
    expect(expectedDigest(integrity, shasum).ok).toBe(false);
  });
});
