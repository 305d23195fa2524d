// Owns key validation and encoding: which package names and versions a store accepts, and how a
// name or version becomes one file-name segment that cannot escape the store's folder.
import { createHash } from 'node:crypto';
import semver from 'semver';
import { PolicyStoreError } from './store';

/** npm's limit (validate-npm-package-name `maxLength`). */
export const MAX_NAME_LENGTH = 214;
/** semver's own MAX_LENGTH. */
export const MAX_VERSION_LENGTH = 256;
/** Longest encoded segment written as is; longer ones are shortened with a hash (filesystems cap a name at 255 bytes). */
const MAX_SEGMENT_LENGTH = 180;

// npm rules as validate-npm-package-name applies them to existing packages ("validForOldPackages"):
// a registry proxy must accept old names with capitals or `~!*'()`, so the new-package-only rules
// (lowercase, no core-module names) are not applied. Stricter than npm on one point: no part of a
// scoped name may start with `.` (npm only checks the whole name, so `@scope/..` would pass there).
const BLACKLIST = new Set(['node_modules', 'favicon.ico']);
const SCOPED = /^@([^/]+)\/([^/]+)$/;

function invalid(message: string): PolicyStoreError {
  return new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', message);
}

function isUrlSafePart(part: string): boolean {
  return part.length > 0 && encodeURIComponent(part) === part && !part.startsWith('.');
}

/** Why `name` is not a valid npm package name, or null when it is. */
export function packageNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'package name must be a string';
  if (name.length === 0) return 'package name is empty';
  if (name.length > MAX_NAME_LENGTH) return `package name is longer than ${MAX_NAME_LENGTH} characters`;
  if (name.startsWith('.') || name.startsWith('_')) return 'package name cannot start with "." or "_"';
  if (name.trim() !== name) return 'package name cannot have leading or trailing spaces';
  if (BLACKLIST.has(name.toLowerCase())) return `package name "${name}" is not allowed`;
  const scoped = SCOPED.exec(name);
  if (scoped) {
    const [, scope = '', pkg = ''] = scoped;
    if (!isUrlSafePart(scope) || !isUrlSafePart(pkg)) return 'scoped package name has characters that are not URL-safe or a part starting with "."';
    return null;
  }
  if (name.startsWith('@')) return 'scoped package name must be @scope/name';
  if (!isUrlSafePart(name)) return 'package name has characters that are not URL-safe';
  return null;
}

/** Why `version` is not a strict semver version (as npm publishes), or null when it is. */
export function versionProblem(version: unknown): string | null {
  if (typeof version !== 'string') return 'version must be a string';
  if (version.length === 0) return 'version is empty';
  if (version.length > MAX_VERSION_LENGTH) return `version is longer than ${MAX_VERSION_LENGTH} characters`;
  // Strict semver, build metadata kept (semver.valid would strip it, and old packuments have it).
  const parsed = semver.parse(version);
  if (parsed === null || `${parsed.version}${parsed.build.length > 0 ? `+${parsed.build.join('.')}` : ''}` !== version) {
    return 'version is not a valid semver version';
  }
  return null;
}

/** Throws CAPGATE_POLICY_STORE_INVALID_KEY unless `name` is a valid npm package name. */
export function assertPackageName(name: unknown): asserts name is string {
  const problem = packageNameProblem(name);
  if (problem !== null) throw invalid(`${problem}: ${JSON.stringify(String(name).slice(0, 300))}`);
}

/** Throws CAPGATE_POLICY_STORE_INVALID_KEY unless `version` is a valid semver version. */
export function assertVersion(version: unknown): asserts version is string {
  const problem = versionProblem(version);
  if (problem !== null) throw invalid(`${problem}: ${JSON.stringify(String(version).slice(0, 300))}`);
}

/** Throws CAPGATE_POLICY_STORE_INVALID_KEY unless `range` is a valid semver range. */
export function assertRange(range: unknown): asserts range is string {
  if (typeof range !== 'string' || range.length === 0 || range.length > MAX_VERSION_LENGTH || semver.validRange(range) === null) {
    throw invalid(`not a valid semver range: ${JSON.stringify(String(range).slice(0, 300))}`);
  }
}

/** Throws CAPGATE_POLICY_STORE_INVALID_KEY unless `value` is a non-empty string of at most `max` characters without control characters. */
export function assertText(what: string, value: unknown, max: number, allowEmpty = false): asserts value is string {
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw invalid(`${what} is empty`);
  if (value.length > max) throw invalid(`${what} is longer than ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) throw invalid(`${what} contains control characters`);
}

/**
 * One file-name segment for any string: `[a-z0-9._~-]` kept, every other byte `%xx` (so capitals are
 * escaped too and two names never collide on a case-insensitive filesystem). The result never
 * contains a separator, never starts with `.` (callers only encode names and versions, which cannot),
 * and is injective; a segment longer than 180 characters becomes a prefix plus `%%` and a sha256 (plain
 * encoding never writes `%%`, so that stays injective too).
 */
export function encodeSegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9._~-]/.test(ch) ? ch : `%${byte.toString(16).padStart(2, '0')}`;
  }
  if (out.startsWith('.')) out = `%2e${out.slice(1)}`;
  if (out.length > MAX_SEGMENT_LENGTH) {
    out = `${out.slice(0, 100)}%%${createHash('sha256').update(value).digest('hex')}`;
  }
  return out;
}
