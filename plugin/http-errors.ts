// Owns the one table from error code to HTTP status (Verdaccio error-utils.ts style).
// Content refusals are 403 so that npm prints the `error` field at once instead of retrying;
// 503 is kept for infrastructure the client can reasonably retry (store, uplink).
import type { GateErrorCode } from './errors';

export const HTTP_STATUS_BY_CODE: Readonly<Record<GateErrorCode, number>> = Object.freeze({
  CAPGATE_CONFIG_INVALID: 500,
  CAPGATE_HELD: 403,
  CAPGATE_DENIED: 403,
  CAPGATE_BAD_REQUEST: 400,
  CAPGATE_ACCESS_DENIED: 403,
  CAPGATE_UNAUTHENTICATED: 401,
  CAPGATE_NOT_FOUND: 404,
  CAPGATE_TARBALL_UNKNOWN: 404,
  CAPGATE_TARBALL_AMBIGUOUS: 403,
  CAPGATE_TARBALL_TOO_LARGE: 403,
  CAPGATE_INTEGRITY_MISSING: 403,
  CAPGATE_INTEGRITY_MISMATCH: 403,
  CAPGATE_MANIFEST_MISMATCH: 403,
  CAPGATE_ARCHIVE_CORRUPT: 403,
  CAPGATE_ARCHIVE_LIMIT: 403,
  CAPGATE_ANALYSIS_FAILED: 403,
  CAPGATE_ANALYSIS_TIMEOUT: 403,
  CAPGATE_STORE_UNAVAILABLE: 503,
  CAPGATE_UPSTREAM_UNAVAILABLE: 503,
  CAPGATE_INTERNAL: 500,
});

export function statusFor(code: GateErrorCode): number {
  return HTTP_STATUS_BY_CODE[code];
}
