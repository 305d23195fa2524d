// Owns closing the gap between a decision and its alert: the gate stores a decision, then enqueues
// its alert event; an instance killed between the two writes would lose the event. Every instance
// with alert targets therefore re-enqueues the events of recent held, flagged, approved and denied
// decisions, at start-up (last 24 h) and then periodically (the last few intervals). Event ids are
// derived from the decision (alerts/event.ts alertEventId) and the outbox keeps delivered events,
// so re-enqueueing an event that exists, pending or delivered, is a no-op: nothing is sent twice.
import type { AlertEventType, DecisionRecord, PolicyStore } from '../../policy-store/store';

export interface SweepAlerts {
  notify(type: AlertEventType, record: DecisionRecord): Promise<boolean>;
}

export interface SweepDeps {
  readonly store: Pick<PolicyStore, 'listByState'>;
  readonly alerts: SweepAlerts;
  readonly logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  readonly now?: () => Date;
}

const STATES: readonly AlertEventType[] = ['held', 'flagged', 'approved', 'denied'];

/**
 * Enqueues (idempotently) the alert of every decision in an alerting state updated within
 * `windowMs`, at most `limit` per state (newest first). Returns how many it looked at.
 */
export async function sweepAlerts(deps: SweepDeps, opts: { windowMs: number; limit: number }): Promise<number> {
  const since = (deps.now?.() ?? new Date()).getTime() - opts.windowMs;
  let seen = 0;
  for (const state of STATES) {
    const records = await deps.store.listByState({ state, limit: opts.limit });
    for (const r of records) {
      if (Date.parse(r.updatedAt) < since) break; // newest first
      seen++;
      await deps.alerts.notify(state, r);
    }
  }
  return seen;
}

/** Sweeps now (24 h back), then every `intervalMs` (three intervals back). Returns stop. */
export function startAlertSweep(deps: SweepDeps, opts: { intervalMs?: number; firstWindowMs?: number; limit?: number } = {}): () => void {
  const intervalMs = opts.intervalMs ?? 5 * 60_000;
  const limit = opts.limit ?? 200;
  let running = false;
  const run = (windowMs: number): void => {
    if (running) return;
    running = true;
    sweepAlerts(deps, { windowMs, limit })
      .then((n) => deps.logger?.debug({ decisions: n }, 'capgate alerts: re-checked the events of @{decisions} recent decisions'))
      .catch((e: unknown) => deps.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'capgate alerts: could not re-check recent decisions: @{err}'))
      .finally(() => (running = false));
  };
  run(opts.firstWindowMs ?? 24 * 3600_000);
  const timer = setInterval(() => run(3 * intervalMs), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
