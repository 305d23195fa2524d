// Owns what every capgate subcommand shares: where output goes, and how trouble is reported (exit 2).
import { isAnalyzerError } from '../analyzer/errors';
import { isCliError } from './errors';
import type { Logger } from './log';

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly log: Logger;
}

/** Default time budget of one analysis in the CLI (a big package takes well under a second). */
export const DEFAULT_CLI_TIMEOUT_MS = 60_000;

/**
 * Prints a failure as `capgate: error: CODE: message` on stderr (and, with --json, as
 * `{"error": {"code", "message"}}` on stdout) and returns exit code 2.
 */
export function reportTrouble(e: unknown, opts: { json?: boolean }, io: CommandIo): number {
  let code = 'CAPGATE_CLI_FAILED';
  let message = e instanceof Error ? e.message : String(e);
  if (isAnalyzerError(e) || isCliError(e)) code = e.code;
  else if (e instanceof Error && e.stack) io.log.debug(e.stack);
  if (isAnalyzerError(e) && e.file !== undefined && !message.includes(e.file)) message += ` (${e.file})`;
  io.log.error(`${code}: ${message}`);
  if (opts.json) io.stdout(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  return 2;
}
