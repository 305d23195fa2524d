// Owns the analyzer's error catalogue: one class, stable codes, structured fields (docs/errors.md).
// Hostile *entries* are findings, not errors; these codes are for input the analyzer cannot read at
// all (corrupt archive, a limit hit) and for infrastructure failures (timeout, a crashed worker).

/** Stable error codes. Callers branch on `code`, never on `message`. Documented in docs/errors.md. */
export const ANALYZER_ERROR_CODES = [
  'CAPGATE_ARCHIVE_CORRUPT',
  'CAPGATE_ARCHIVE_LIMIT',
  'CAPGATE_ANALYSIS_TIMEOUT',
  'CAPGATE_ANALYSIS_FAILED',
] as const;

export type AnalyzerErrorCode = (typeof ANALYZER_ERROR_CODES)[number];

/** Structured fields an AnalyzerError may carry (cacache's `expected`/`found` habit). */
export interface AnalyzerErrorDetails {
  /** For CAPGATE_ARCHIVE_LIMIT: the TarLimits key that was exceeded, e.g. `maxUnpackedSize`. */
  readonly limit?: string;
  /** The limit's value. */
  readonly expected?: number;
  /** What the archive had (a size, a count, a depth) when it was refused. */
  readonly found?: number;
  /** The archive path concerned, when there is one. */
  readonly file?: string;
  /** For CAPGATE_ANALYSIS_TIMEOUT: the time budget in milliseconds. */
  readonly timeoutMs?: number;
}

/** One-line description of every code; docs/errors.md must document each (checked by a test). */
export const ANALYZER_ERROR_DESCRIPTIONS: Readonly<Record<AnalyzerErrorCode, string>> = Object.freeze({
  CAPGATE_ARCHIVE_CORRUPT: 'The bytes are not a readable gzipped tar archive (not gzip, corrupt, or truncated).',
  CAPGATE_ARCHIVE_LIMIT: 'The archive exceeds one of the unpacking limits (TarLimits); `limit` names which one.',
  CAPGATE_ANALYSIS_TIMEOUT: 'The analysis did not finish within its time budget; its worker was terminated.',
  CAPGATE_ANALYSIS_FAILED: 'The analysis crashed (worker out of memory, stack overflow, unexpected exception).',
});

/** The one error class of the analyzer. `name` is `AnalyzerError`; `code` is stable. */
export class AnalyzerError extends Error {
  override readonly name = 'AnalyzerError';
  readonly code: AnalyzerErrorCode;
  readonly limit?: string;
  readonly expected?: number;
  readonly found?: number;
  readonly file?: string;
  readonly timeoutMs?: number;

  constructor(code: AnalyzerErrorCode, message: string, details: AnalyzerErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    if (details.limit !== undefined) this.limit = details.limit;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.found !== undefined) this.found = details.found;
    if (details.file !== undefined) this.file = details.file;
    if (details.timeoutMs !== undefined) this.timeoutMs = details.timeoutMs;
  }

  /** Plain data for crossing a worker boundary or printing as JSON. */
  toJSON(): SerializedAnalyzerError {
    const out: { -readonly [K in keyof SerializedAnalyzerError]: SerializedAnalyzerError[K] } = {
      name: 'AnalyzerError',
      code: this.code,
      message: this.message,
    };
    if (this.limit !== undefined) out.limit = this.limit;
    if (this.expected !== undefined) out.expected = this.expected;
    if (this.found !== undefined) out.found = this.found;
    if (this.file !== undefined) out.file = this.file;
    if (this.timeoutMs !== undefined) out.timeoutMs = this.timeoutMs;
    return out;
  }
}

/** The JSON form of an AnalyzerError. */
export interface SerializedAnalyzerError extends AnalyzerErrorDetails {
  readonly name: 'AnalyzerError';
  readonly code: AnalyzerErrorCode;
  readonly message: string;
}

export function isAnalyzerErrorCode(value: unknown): value is AnalyzerErrorCode {
  return typeof value === 'string' && (ANALYZER_ERROR_CODES as readonly string[]).includes(value);
}

/**
 * True for an AnalyzerError, including one that crossed a realm or a structured clone (a worker
 * boundary keeps `name`, `code` and `message` but not the prototype), like pacote's isDataCorruptionError.
 */
export function isAnalyzerError(e: unknown): e is AnalyzerError {
  if (e instanceof AnalyzerError) return true;
  if (typeof e !== 'object' || e === null) return false;
  const o = e as { name?: unknown; code?: unknown; message?: unknown };
  return o.name === 'AnalyzerError' && isAnalyzerErrorCode(o.code) && typeof o.message === 'string';
}

/** Rebuilds a real AnalyzerError from its serialized form (or returns null when `value` is not one). */
export function reviveAnalyzerError(value: unknown): AnalyzerError | null {
  if (value instanceof AnalyzerError) return value;
  if (!isAnalyzerError(value)) return null;
  const v = value as unknown as SerializedAnalyzerError;
  const details: { -readonly [K in keyof AnalyzerErrorDetails]: AnalyzerErrorDetails[K] } = {};
  if (typeof v.limit === 'string') details.limit = v.limit;
  if (typeof v.expected === 'number') details.expected = v.expected;
  if (typeof v.found === 'number') details.found = v.found;
  if (typeof v.file === 'string') details.file = v.file;
  if (typeof v.timeoutMs === 'number') details.timeoutMs = v.timeoutMs;
  return new AnalyzerError(v.code, v.message, details);
}
