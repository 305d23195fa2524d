import { createHmac } from 'node:crypto';
import { assertValidSignature, signBody, verifySignature } from './sign';

const secret = 'test-secret-0123456789';
const body = '{"id":"abc","type":"held"}';

describe('signBody / verifySignature', () => {
  it('is HMAC-SHA256 over `${t}.${body}` in the documented format', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signBody(secret, body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies a fresh signature and refuses tampering, wrong keys and replays', () => {
    const now = new Date(1700000000 * 1000);
    const header = signBody(secret, body, 1700000000);
    expect(verifySignature(secret, header, body, { now })).toEqual({ ok: true, timestamp: 1700000000 });
    expect(verifySignature(secret, header, body.replace('held', 'denied'), { now })).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySignature('other-secret-0123456789', header, body, { now })).toEqual({ ok: false, reason: 'signature mismatch' });
    const later = new Date((1700000000 + 301) * 1000);
    expect(verifySignature(secret, header, body, { now: later })).toEqual({ ok: false, reason: 'timestamp outside tolerance' });
    // The timestamp is signed too: moving it forward breaks the signature.
    const moved = header.replace('t=1700000000', 't=1700000300');
    expect(verifySignature(secret, moved, body, { now: later })).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('accepts one good signature among several (key rotation) and rejects malformed headers', () => {
    const now = new Date(1700000000 * 1000);
    const good = signBody(secret, body, 1700000000).split(',')[1] ?? '';
    expect(verifySignature(secret, `t=1700000000,v1=${'0'.repeat(64)},${good}`, body, { now }).ok).toBe(true);
    expect(verifySignature(secret, undefined, body).ok).toBe(false);
    expect(verifySignature(secret, 'v1=abc', body, { now })).toEqual({ ok: false, reason: 'no timestamp in signature header' });
    expect(verifySignature(secret, 't=1700000000,v1=zz', body, { now })).toEqual({ ok: false, reason: 'no v1 signature in header' });
    expect(() => assertValidSignature(secret, 'garbage', body)).toThrow(expect.objectContaining({ code: 'CAPGATE_ALERT_SIGNATURE_INVALID' }));
  });
});
