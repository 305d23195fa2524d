// Owns the plugin's error catalogue: one stable code per way the gate can refuse or fail.
// Callers branch on `code`, never on `message` (fastify lib/errors.js, pacote isDataCorruptionError).

/** Every code the plugin answers or throws with. The HTTP status of each lives in http-errors.ts. */
export const GATE_ERROR_CODES = [
  'CAPGATE_CONFIG_INVALID',
  'CAPGATE_HELD',
  'CAPGATE_DENIED',
  'CAPGATE_BAD_REQUEST',
  'CAPGATE_ACCESS_DENIED',
  'CAPGATE_UNAUTHENTICATED',
  'CAPGATE_NOT_FOUND',
  'CAPGATE_TARBALL_UNKNOWN',
  'CAPGATE_TARBALL_AMBIGUOUS',
  'CAPGATE_TARBALL_TOO_LARGE',
  'CAPGATE_INTEGRITY_MISSING',
  'CAPGATE_INTEGRITY_MISMATCH',
  'CAPGATE_MANIFEST_MISMATCH',
  'CAPGATE_ARCHIVE_CORRUPT',
  'CAPGATE_ARCHIVE_LIMIT',
  'CAPGATE_ANALYSIS_FAILED',
  'CAPGATE_ANALYSIS_TIMEOUT',
  'CAPGATE_STORE_UNAVAILABLE',
  'CAPGATE_UPSTREAM_UNAVAILABLE',
  'CAPGATE_INTERNAL',
] as const;

export type GateErrorCode = (typeof GATE_ERROR_CODES)[number];

/** What each code means, in words an operator (and the docs test) can check. */
export const GATE_ERROR_DESCRIPTIONS: Readonly<Record<GateErrorCode, string>> = Object.freeze({
  CAPGATE_CONFIG_INVALID: 'the plugin configuration is invalid (every issue is listed)',
  CAPGATE_HELD: 'the version gained block-tier capabilities and waits for a review',
  CAPGATE_DENIED: 'a reviewer denied the version',
  CAPGATE_BAD_REQUEST: 'malformed package name, version or URL encoding',
  CAPGATE_ACCESS_DENIED: "Verdaccio's package access rules refuse this user",
  CAPGATE_UNAUTHENTICATED: "Verdaccio's package access rules need a logged-in user",
  CAPGATE_NOT_FOUND: 'the package, version or policy is unknown',
  CAPGATE_TARBALL_UNKNOWN: 'no version in the packument has this tarball file name',
  CAPGATE_TARBALL_AMBIGUOUS: 'several versions in the packument share this tarball file name',
  CAPGATE_TARBALL_TOO_LARGE: 'the tarball exceeds the configured size limit',
  CAPGATE_INTEGRITY_MISSING: 'the packument has no usable integrity (sha512 SRI or sha1 shasum) for the version',
  CAPGATE_INTEGRITY_MISMATCH: "the tarball bytes do not match the packument's integrity",
  CAPGATE_MANIFEST_MISMATCH: "the tarball's package.json name or version differs from the packument",
  CAPGATE_ARCHIVE_CORRUPT: 'the tarball is not a readable gzipped tar',
  CAPGATE_ARCHIVE_LIMIT: 'the tarball exceeds the analyzer limits (entries, sizes, ratio)',
  CAPGATE_ANALYSIS_FAILED: 'the analysis worker crashed or ran out of memory',
  CAPGATE_ANALYSIS_TIMEOUT: 'the analysis took longer than the configured timeout',
  CAPGATE_STORE_UNAVAILABLE: 'the policy store cannot be reached or read',
  CAPGATE_UPSTREAM_UNAVAILABLE: 'the uplink registry (or the storage) could not provide the packument or tarball',
  CAPGATE_INTERNAL: 'an unexpected error in the plugin',
});

/** An error the gate turns into an HTTP answer (or throws at start-up, for the config). */
export class GateError extends Error {
  readonly code: GateErrorCode;
  /** Structured fields for the JSON answer and the log line (cacache's `expected`/`found` style). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: GateErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GateError';
    this.code = code;
    this.details = details;
  }
}

export function isGateError(e: unknown): e is GateError {
  return e instanceof GateError;
}

/** The plugin configuration failed validation; `issues` lists every problem at once. */
export class ConfigError extends GateError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super('CAPGATE_CONFIG_INVALID', `capgate: invalid plugin configuration:\n  - ${issues.join('\n  - ')}`, { issues });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
