// Owns input validation for the review API: package names (npm rules), versions (semver), reasons,
// scoped-approval bodies and the review path. Pure functions returning a reason string on failure.
import semver from 'semver';
import validateName from 'validate-npm-package-name';
import { isCapabilityId, type CapabilityId } from '../../analyzer/types';

export const MAX_REASON_LENGTH = 1000;
const MAX_NAME_LENGTH = 214;
const MAX_VERSION_LENGTH = 256;
const MAX_RANGE_LENGTH = 256;

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = <T>(error: string): Checked<T> => ({ ok: false, error });

/**
 * npm's rules for existing packages (validate-npm-package-name `validForOldPackages`: a proxy must
 * accept old names with capitals), plus: no name part may start with `.` (npm checks only the whole
 * name, so `@scope/..` would pass there and could address a parent folder).
 */
export function checkPackageName(name: string): Checked<string> {
  if (name.length === 0) return fail('package name is empty');
  if (name.length > MAX_NAME_LENGTH) return fail(`package name is longer than ${MAX_NAME_LENGTH} characters`);
  const result = validateName(name);
  if (!result.validForOldPackages) return fail(`invalid package name: ${(result.errors ?? ['not a valid npm name']).join('; ')}`);
  const parts = name.startsWith('@') ? name.slice(1).split('/') : [name];
  if (parts.some((p) => p.startsWith('.') || p.length === 0)) return fail('invalid package name: a part starts with "."');
  return { ok: true, value: name };
}

/** A strict semver version as npm publishes it (`semver.valid` must return it unchanged). */
export function checkVersion(version: string): Checked<string> {
  if (version.length === 0) return fail('version is empty');
  if (version.length > MAX_VERSION_LENGTH) return fail(`version is longer than ${MAX_VERSION_LENGTH} characters`);
  if (semver.valid(version) !== version) return fail('invalid version: not a semver version like 1.2.3');
  return { ok: true, value: version };
}

// C0/C1 controls, DEL, line/paragraph separators and bidi overrides ("Trojan Source", CVE-2021-42574):
// a reason is shown in the audit log and on the review page and must read as what it is.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** Optional free text, at most 1000 characters, printable only (no newlines, no bidi controls). */
export function checkReason(reason: unknown): Checked<string> {
  if (reason === undefined || reason === null) return { ok: true, value: '' };
  if (typeof reason !== 'string') return fail('reason must be a string');
  if (reason.length > MAX_REASON_LENGTH) return fail(`reason is longer than ${MAX_REASON_LENGTH} characters`);
  if (UNPRINTABLE.test(reason)) return fail('reason contains control or invisible formatting characters');
  return { ok: true, value: reason.trim() };
}

export interface ReviewScope {
  readonly range: string;
  readonly capabilities: readonly CapabilityId[];
  /** ISO-8601 or null (no expiry). */
  readonly expiresAt: string | null;
}

export interface ReviewBody {
  readonly decision: 'approve' | 'deny';
  readonly reason: string;
  readonly scope: ReviewScope | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{decision, reason?, scope?}`; scope only with approve: `{range, capabilities, expiresAt?}`. */
export function checkReviewBody(body: unknown, now: Date = new Date()): Checked<ReviewBody> {
  if (!isRecord(body)) return fail('body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (key !== 'decision' && key !== 'reason' && key !== 'scope') return fail(`unknown field "${key.slice(0, 40)}"`);
  }
  const decision = body['decision'];
  if (decision !== 'approve' && decision !== 'deny') return fail('decision must be "approve" or "deny"');
  const reason = checkReason(body['reason']);
  if (!reason.ok) return reason;
  const rawScope = body['scope'];
  if (rawScope === undefined || rawScope === null) return { ok: true, value: { decision, reason: reason.value, scope: null } };
  if (decision !== 'approve') return fail('scope is only allowed with "approve"');
  if (!isRecord(rawScope)) return fail('scope must be an object');
  for (const key of Object.keys(rawScope)) {
    if (key !== 'range' && key !== 'capabilities' && key !== 'expiresAt') return fail(`unknown scope field "${key.slice(0, 40)}"`);
  }
  const range = rawScope['range'];
  if (typeof range !== 'string' || range.length === 0 || range.length > MAX_RANGE_LENGTH || semver.validRange(range) === null) {
    return fail('scope.range must be a semver range such as ^1.0.0');
  }
  const caps = rawScope['capabilities'];
  if (!Array.isArray(caps) || caps.length === 0 || caps.length > 32) return fail('scope.capabilities must be a non-empty list of capability ids');
  const capabilities: CapabilityId[] = [];
  for (const c of caps as unknown[]) {
    if (!isCapabilityId(c)) return fail(`scope.capabilities: unknown capability ${JSON.stringify(c)?.slice(0, 60) ?? ''}`);
    if (!capabilities.includes(c)) capabilities.push(c);
  }
  let expiresAt: string | null = null;
  const rawExpiry = rawScope['expiresAt'];
  if (rawExpiry !== undefined && rawExpiry !== null) {
    if (typeof rawExpiry !== 'string' || rawExpiry.length > 40) return fail('scope.expiresAt must be an ISO-8601 date');
    const t = Date.parse(rawExpiry);
    if (Number.isNaN(t)) return fail('scope.expiresAt must be an ISO-8601 date');
    if (t <= now.getTime()) return fail('scope.expiresAt is in the past');
    expiresAt = new Date(t).toISOString();
  }
  return { ok: true, value: { decision, reason: reason.value, scope: { range, capabilities, expiresAt } } };
}

/**
 * The `<name>/<version>` tail of a review URL, as npm encodes names: `@scope%2fname/1.0.0`,
 * `%40scope%2Fname/1.0.0` or `@scope/name/1.0.0`; `name/1.0.0` unscoped. Each segment is
 * decoded once; anything else (extra segments, `..`, bad escapes) is refused.
 */
export function parseReviewPath(tail: string): Checked<{ name: string; version: string }> {
  if (tail.length > 600) return fail('path too long');
  const raw = tail.split('/');
  const segs: string[] = [];
  for (const s of raw) {
    try {
      segs.push(decodeURIComponent(s));
    } catch {
      return fail('malformed percent-encoding in path');
    }
  }
  let name: string;
  let version: string;
  if (segs.length === 2 && segs[0] !== undefined && segs[1] !== undefined) {
    [name, version] = [segs[0], segs[1]];
  } else if (segs.length === 3 && segs[0] !== undefined && segs[0].startsWith('@') && segs[1] !== undefined && segs[2] !== undefined) {
    [name, version] = [`${segs[0]}/${segs[1]}`, segs[2]];
  } else {
    return fail('expected /<name>/<version> (scoped names as @scope%2fname)');
  }
  const n = checkPackageName(name);
  if (!n.ok) return n;
  const v = checkVersion(version);
  if (!v.ok) return v;
  return { ok: true, value: { name, version } };
}

/** `name@version` as the CLI takes it (`@scope/name@1.0.0`). */
export function parseSpec(spec: string): Checked<{ name: string; version: string }> {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return fail(`expected <name>@<version>, got ${JSON.stringify(spec.slice(0, 100))}`);
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  const n = checkPackageName(name);
  if (!n.ok) return n;
  const v = checkVersion(version);
  if (!v.ok) return v;
  return { ok: true, value: { name, version } };
}
