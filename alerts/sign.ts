// Owns webhook signing: HMAC-SHA256 over `${timestamp}.${body}`, and its verification for receivers.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AlertError } from './errors';

export const SIGNATURE_HEADER = 'X-Capgate-Signature';
export const EVENT_ID_HEADER = 'X-Capgate-Event-Id';
export const EVENT_TYPE_HEADER = 'X-Capgate-Event';

/** Default tolerance for a signature's timestamp: receivers refuse older (replayed) requests. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The `X-Capgate-Signature` value for `body` sent at `timestamp` (unix seconds): `t=<t>,v1=<hex>`. */
export function signBody(secret: string, body: string, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('timestamp must be unix seconds');
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Checks a received `X-Capgate-Signature` against the raw request body (the exact bytes, before any
 * JSON parsing). Accepts several `v1=` values (key rotation), compares in constant time, and refuses
 * timestamps further than `toleranceSeconds` from `now` (replay protection).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { now?: Date; toleranceSeconds?: number } = {},
): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'missing signature header' };
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === null) return { ok: false, reason: 'no timestamp in signature header' };
  if (candidates.length === 0) return { ok: false, reason: 'no v1 signature in header' };
  const nowSec = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSec - timestamp) > tolerance) return { ok: false, reason: 'timestamp outside tolerance' };
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  for (const c of candidates) {
    if (timingSafeEqual(expected, Buffer.from(c, 'hex'))) return { ok: true, timestamp };
  }
  return { ok: false, reason: 'signature mismatch' };
}

/** Like verifySignature, but throws AlertError CAPGATE_ALERT_SIGNATURE_INVALID. */
export function assertValidSignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { now?: Date; toleranceSeconds?: number } = {},
): void {
  const check = verifySignature(secret, header, body, opts);
  if (!check.ok) throw new AlertError('CAPGATE_ALERT_SIGNATURE_INVALID', `webhook signature invalid: ${check.reason}`);
}
