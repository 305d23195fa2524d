// Owns the CLI's diagnostics: plain lines on stderr, level from CAPGATE_LOG_LEVEL (LavaMoat log.js habit).
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** Reads CAPGATE_LOG_LEVEL (silent|error|warn|info|debug, default warn); an unknown value falls back to warn, with a warning. */
export function createLogger(env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const raw = (env['CAPGATE_LOG_LEVEL'] ?? '').trim().toLowerCase();
  const known = (LOG_LEVELS as readonly string[]).includes(raw);
  const level: LogLevel = known ? (raw as LogLevel) : 'warn';
  const rank = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (message: string): void => {
    if (LOG_LEVELS.indexOf(l) <= rank) write(`capgate: ${l}: ${message}\n`);
  };
  const logger: Logger = { level, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  if (raw !== '' && !known) logger.warn(`unknown CAPGATE_LOG_LEVEL ${JSON.stringify(raw)}; using warn (one of ${LOG_LEVELS.join(', ')})`);
  return logger;
}
