// Owns URL normalisation for the gate: which requests are tarball downloads, for which package
// and file, however the client spelled them.
//
// Verdaccio's own router (api/endpoint) runs after middleware plugins and rewrites scoped URLs
// there (@verdaccio/middleware encodeScopePackage: `/%40s/n` -> `/@s/n` -> `/@s%2Fn`), then matches
// `/:package/-/:filename` case-insensitively with an optional trailing slash and decodes every
// parameter. A gate that matched only the spelling it expects could be walked around, so this
// module accepts a superset: every path whose non-empty segments, each percent-decoded, read as
// `<name>/-/<file>` or `@scope/<name>/-/<file>`. Every request it classifies is answered by the gate
// and never reaches Verdaccio's tarball route.
import { validationUtils } from '@verdaccio/core';

export type TarballRequest =
  | { readonly kind: 'tarball'; readonly name: string; readonly filename: string }
  | { readonly kind: 'bad'; readonly reason: string };

/** Path of a request: query and fragment dropped; absolute-form request targets reduced to their path. */
export function requestPath(rawUrl: string): string {
  let url = rawUrl;
  if (!url.startsWith('/')) {
    try {
      url = new URL(url).pathname;
    } catch {
      return url;
    }
  }
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/** Splits a raw path into percent-decoded, non-empty segments; null when an escape is malformed. */
export function decodedSegments(path: string): string[] | null {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue; // double and trailing slashes
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      return null;
    }
  }
  return out;
}

/**
 * Classifies a request. Returns null for anything that is not a tarball download (it goes on to
 * Verdaccio), a `bad` result for a tarball-shaped request with an invalid name or encoding (400).
 */
export function parseTarballRequest(method: string | undefined, rawUrl: string | undefined): TarballRequest | null {
  if (method !== 'GET' && method !== 'HEAD') return null;
  if (rawUrl === undefined) return null;
  const path = requestPath(rawUrl);
  const rawSegments = path.split('/').filter((s) => s !== '');
  // Shape check on the raw segments first, so that unrelated URLs with odd escapes pass through.
  const dashAt = rawSegments.findIndex((s, i) => i > 0 && isDash(s));
  if (dashAt === -1 || dashAt !== rawSegments.length - 2 || dashAt > 2) return null;
  const segments = decodedSegments(path);
  if (segments === null) return { kind: 'bad', reason: 'malformed percent-encoding in the tarball URL' };
  let name: string;
  if (segments.length === 3) {
    name = segments[0] ?? '';
  } else if (segments.length === 4 && (segments[0] ?? '').startsWith('@')) {
    name = `${segments[0]}/${segments[1]}`;
  } else {
    return null;
  }
  const filename = segments[segments.length - 1] ?? '';
  if (name === '-' ) return null; // `/-/…` API routes such as `/-/v1/search`
  if (!isValidPackageName(name)) return { kind: 'bad', reason: `invalid package name ${JSON.stringify(name)}` };
  if (!validationUtils.validateName(filename)) return { kind: 'bad', reason: `invalid tarball file name ${JSON.stringify(filename)}` };
  return { kind: 'tarball', name, filename };
}

function isDash(rawSegment: string): boolean {
  if (rawSegment === '-') return true;
  try {
    return decodeURIComponent(rawSegment) === '-';
  } catch {
    return false;
  }
}

/**
 * A package name as Verdaccio accepts it (validatePackage) and that cannot climb out of a folder:
 * `name` or `@scope/name`, no `..`, no leading dot.
 */
export function isValidPackageName(name: string): boolean {
  if (name.length === 0 || name.length > 214) return false;
  const parts = name.split('/');
  if (parts.length > 2) return false;
  if (parts.length === 2 && !(parts[0] ?? '').startsWith('@')) return false;
  return validationUtils.validatePackage(name);
}
