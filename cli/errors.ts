// Owns the CLI's error catalogue (docs/errors.md, "cli"): input it cannot read, wrong usage.
export const CLI_ERROR_CODES = ['CAPGATE_INPUT_UNREADABLE', 'CAPGATE_USAGE', 'CAPGATE_CLI_FAILED'] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  /** The input path concerned, when there is one. */
  readonly file?: string;

  constructor(code: CliErrorCode, message: string, details: { file?: string } = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    if (details.file !== undefined) this.file = details.file;
  }
}

export function isCliError(e: unknown): e is CliError {
  return e instanceof CliError;
}
