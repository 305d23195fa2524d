// Owns checking tarball bytes against the packument's record: the strongest sha512 of an SRI
// string (npm's dist.integrity), or the sha1 dist.shasum when that is all the packument has.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The expected digest of a tarball and the key the gate files its decision under. */
export interface ExpectedDigest {
  readonly algorithm: 'sha512' | 'sha1';
  readonly digest: Buffer;
  /** Canonical SRI (`sha512-…` or `sha1-…`): part of the decision key. */
  readonly sri: string;
}

export type DigestResult = { ok: true; expected: ExpectedDigest } | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Picks what to verify against. sha512 SRI entries win; a dist.integrity with only weaker
 * algorithms is "odd" and refused (npm itself prefers sha512), unless a sha1 shasum is the only
 * record at all.
 */
export function expectedDigest(integrity: string | null, shasum: string | null): DigestResult {
  if (integrity !== null && integrity.trim() !== '') {
    for (const token of integrity.trim().split(/\s+/)) {
      const m = /^sha512-([^?]+)(\?.*)?$/.exec(token);
      if (m === null) continue;
      const b64 = m[1] ?? '';
      if (!BASE64.test(b64)) continue;
      const digest = Buffer.from(b64, 'base64');
      if (digest.length !== 64) continue;
      return { ok: true, expected: { algorithm: 'sha512', digest, sri: `sha512-${digest.toString('base64')}` } };
    }
    return { ok: false, reason: `dist.integrity has no valid sha512 entry (${clip(integrity)})` };
  }
  if (shasum !== null && /^[0-9a-fA-F]{40}$/.test(shasum)) {
    const digest = Buffer.from(shasum, 'hex');
    return { ok: true, expected: { algorithm: 'sha1', digest, sri: `sha1-${digest.toString('base64')}` } };
  }
  if (shasum !== null) return { ok: false, reason: `dist.shasum is not a sha1 hex digest (${clip(shasum)})` };
  return { ok: false, reason: 'the packument has neither dist.integrity nor dist.shasum for this version' };
}

export function matchesDigest(bytes: Uint8Array, expected: ExpectedDigest): boolean {
  const actual = createHash(expected.algorithm).update(bytes).digest();
  return actual.length === expected.digest.length && timingSafeEqual(actual, expected.digest);
}

/** sha512 SRI of bytes (what npm would compute). */
export function sha512Sri(bytes: Uint8Array): string {
  return 'sha512-' + createHash('sha512').update(bytes).digest('base64');
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}
