// Owns the alerts module's error catalogue: stable codes callers branch on (docs/alerts.md lists them).

/** Every error code the alerts module raises. Documented in docs/alerts.md (a test checks it). */
export const ALERT_ERROR_CODES = ['CAPGATE_ALERT_CONFIG_INVALID', 'CAPGATE_ALERT_SIGNATURE_INVALID'] as const;

export type AlertErrorCode = (typeof ALERT_ERROR_CODES)[number];

/** A configuration or verification problem in the alerts module; `issues` lists every problem found. */
export class AlertError extends Error {
  readonly code: AlertErrorCode;
  readonly issues: readonly string[];
  constructor(code: AlertErrorCode, message: string, issues: readonly string[] = []) {
    super(issues.length > 0 ? `${message}:\n  - ${issues.join('\n  - ')}` : message);
    this.name = 'AlertError';
    this.code = code;
    this.issues = Object.freeze([...issues]);
  }
}

export function isAlertError(e: unknown): e is AlertError {
  return e instanceof AlertError;
}
