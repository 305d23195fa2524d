// Owns alert delivery: enqueue into the store's durable outbox, and a loop that claims due deliveries,
// POSTs them, and completes or reschedules them with capped exponential backoff and jitter.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { AlertEvent, AlertEventType, DecisionRecord, OutboxDelivery, PolicyStore } from '../policy-store/store';
import { targetsFor, type WebhookTarget } from './config';
import { createAlertEvent } from './event';
import { renderJsonBody, renderSlackBody } from './payload';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signBody } from './sign';
import { sendWebhook, type WebhookSender } from './http-send';

/** The narrow logger the dispatcher needs (Verdaccio's pino logger fits). */
export interface AlertLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
  debug?(obj: Record<string, unknown>, msg: string): void;
}

/** What happened to one delivery attempt (for metrics and tests). */
export interface DeliveryResult {
  readonly eventId: string;
  readonly target: string;
  /** Attempt number, 1-based. */
  readonly attempt: number;
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
  /** When the next attempt is due (failures only). */
  readonly nextAttemptAt?: Date;
}

export interface AlertDispatcherOptions {
  readonly store: PolicyStore;
  readonly targets: readonly WebhookTarget[];
  /** Claim owner id; unique per process (default host:pid:random). */
  readonly owner?: string;
  /** Transport (default: node http/https, see http-send.ts). */
  readonly send?: WebhookSender;
  /** Retry delays: min(maxMs, baseMs * 2^(attempt-1)), then jittered to 50..100 %. Default 1 s .. 5 min. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Claim lease; must outlive a request (default 2 × timeout + 5 s). */
  readonly leaseMs?: number;
  /** Deliveries claimed per round (default 20) and sent at once (default 4). */
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Idle poll interval for due retries and other instances' events (default 2 s). */
  readonly pollMs?: number;
  /** Base URL of the registry, for review links in events (`<publicUrl>/-/capgate/ui/`). */
  readonly publicUrl?: string;
  readonly logger?: AlertLogger;
  readonly onResult?: (r: DeliveryResult) => void;
  /** For tests: jitter source in [0, 1). */
  readonly random?: () => number;
  /** For tests: the clock used for claims and retry times (default the system clock). */
  readonly now?: () => Date;
}

const noopLogger: AlertLogger = { warn: () => undefined };

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.length > 300 ? msg.slice(0, 300) : msg;
}

/**
 * Delivers alert events at least once to every configured target. Nothing here throws into the
 * caller: a receiver that is down, slow or failing only delays its own deliveries.
 */
export class AlertDispatcher {
  readonly owner: string;
  private readonly store: PolicyStore;
  private readonly targets: ReadonlyMap<string, WebhookTarget>;
  private readonly targetList: readonly WebhookTarget[];
  private readonly send: WebhookSender;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly publicUrl: string | null;
  private readonly logger: AlertLogger;
  private readonly onResult: ((r: DeliveryResult) => void) | null;
  private readonly random: () => number;
  private readonly now: () => Date;

  private running = false;
  private busy = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;

  constructor(opts: AlertDispatcherOptions) {
    this.store = opts.store;
    this.targetList = opts.targets;
    this.targets = new Map(opts.targets.map((t) => [t.id, t]));
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.send = opts.send ?? sendWebhook;
    this.baseMs = Math.max(1, opts.backoff?.baseMs ?? 1000);
    this.maxMs = Math.max(this.baseMs, opts.backoff?.maxMs ?? 5 * 60 * 1000);
    this.timeoutMs = Math.max(1, opts.timeoutMs ?? 10_000);
    this.leaseMs = Math.max(opts.leaseMs ?? 2 * this.timeoutMs + 5000, this.timeoutMs + 1000);
    this.batchSize = Math.max(1, opts.batchSize ?? 20);
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.pollMs = Math.max(10, opts.pollMs ?? 2000);
    this.publicUrl = opts.publicUrl === undefined ? null : opts.publicUrl.replace(/\/+$/, '');
    this.logger = opts.logger ?? noopLogger;
    this.onResult = opts.onResult ?? null;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? ((): Date => new Date());
  }

  /** Review page link for a version (null without publicUrl). */
  reviewUrl(name: string, version: string): string | null {
    if (this.publicUrl === null) return null;
    return `${this.publicUrl}/-/capgate/ui/#${encodeURIComponent(`${name}@${version}`)}`;
  }

  /**
   * Writes the event to the outbox for every target that wants its type, then kicks delivery.
   * Resolves false (and logs) when the store write failed; never rejects.
   */
  async enqueue(event: AlertEvent): Promise<boolean> {
    const ids = targetsFor(this.targetList, event.type);
    if (ids.length === 0) return true;
    try {
      await this.store.enqueueEvent({ event, targets: ids });
    } catch (e) {
      this.logger.warn({ eventId: event.id, type: event.type, pkg: event.name, version: event.version, error: errorText(e) }, 'capgate alerts: could not enqueue event');
      return false;
    }
    this.kick();
    return true;
  }

  /** createAlertEvent + enqueue, with the review link when publicUrl is set. */
  async notify(type: AlertEventType, record: DecisionRecord, extra: Readonly<Record<string, unknown>> = {}): Promise<boolean> {
    let event: AlertEvent;
    try {
      const link = this.reviewUrl(record.name, record.version);
      event = createAlertEvent(type, record, link === null ? extra : { reviewUrl: link, ...extra });
    } catch (e) {
      this.logger.warn({ pkg: record.name, version: record.version, error: errorText(e) }, 'capgate alerts: could not build event');
      return false;
    }
    return this.enqueue(event);
  }

  /** Starts the delivery loop (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Runs a delivery round soon (after an enqueue). No-op when stopped. */
  kick(): void {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops the loop and waits for the round in flight (its claims complete or fail normally). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.current !== null) await this.current;
  }

  /** One round by hand (tests, CLI): claims due deliveries and attempts them; returns how many. */
  async deliverDue(): Promise<number> {
    return this.round();
  }

  private schedule(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.loop();
    }, ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    const run = async (): Promise<void> => {
      let claimed = 0;
      do {
        this.again = false;
        claimed = await this.round();
      } while (this.running && (claimed >= this.batchSize || this.again));
    };
    this.current = run();
    try {
      await this.current;
    } finally {
      this.current = null;
      this.busy = false;
    }
    if (this.running) this.schedule(this.pollMs);
  }

  private async round(): Promise<number> {
    let batch: OutboxDelivery[];
    try {
      batch = await this.store.claimDeliveries({ owner: this.owner, limit: this.batchSize, leaseMs: this.leaseMs, now: this.now() });
    } catch (e) {
      this.logger.warn({ error: errorText(e) }, 'capgate alerts: could not claim deliveries');
      return 0;
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const d = batch[next++];
        if (d !== undefined) await this.attempt(d);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batch.length) }, worker));
    return batch.length;
  }

  /** Delay before attempt `attempt + 1` after `attempt` failures (capped exponential, 50..100 % jitter). */
  backoffMs(attempt: number): number {
    const exp = this.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30);
    const capped = Math.min(this.maxMs, exp);
    return Math.round(capped / 2 + (capped / 2) * this.random());
  }

  private async attempt(d: OutboxDelivery): Promise<void> {
    const attempt = d.attempts + 1;
    const ids = { eventId: d.event.id, target: d.target };
    const target = this.targets.get(d.target);
    let ok = false;
    let status: number | undefined;
    let error: string | undefined;
    if (target === undefined) {
      error = 'target is no longer configured';
    } else {
      const body = target.kind === 'slack' ? renderSlackBody(d.event) : renderJsonBody(d.event);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'capgate-alerts/1',
        [EVENT_ID_HEADER]: d.event.id,
        [EVENT_TYPE_HEADER]: d.event.type,
        'X-Capgate-Delivery-Attempt': String(attempt),
      };
      if (target.kind === 'json' && target.secret !== undefined) {
        headers[SIGNATURE_HEADER] = signBody(target.secret, body, Math.floor(this.now().getTime() / 1000));
      }
      try {
        const res = await this.send({ url: target.url, headers, body, timeoutMs: this.timeoutMs });
        status = res.status;
        ok = res.status >= 200 && res.status < 300;
        if (!ok) error = `HTTP ${res.status}`;
      } catch (e) {
        error = errorText(e);
      }
    }
    if (ok) {
      try {
        await this.store.completeDelivery({ ...ids, owner: this.owner });
      } catch (e) {
        // The receiver has it; if the mark is lost the event is sent again (at-least-once, same id).
        this.logger.warn({ ...ids, error: errorText(e) }, 'capgate alerts: delivered but could not mark it');
      }
      this.logger.debug?.({ ...ids, attempt, status }, 'capgate alerts: delivered');
      this.report({ ...ids, attempt, ok: true, ...(status === undefined ? {} : { status }) });
      return;
    }
    const delay = target === undefined ? this.maxMs : this.backoffMs(attempt);
    const nextAttemptAt = new Date(this.now().getTime() + delay);
    const why = error ?? 'failed';
    try {
      await this.store.failDelivery({ ...ids, owner: this.owner, error: why, nextAttemptAt });
    } catch (e) {
      this.logger.warn({ ...ids, error: errorText(e) }, 'capgate alerts: could not record a failed delivery (its lease will expire)');
    }
    // Target id, never the URL: a Slack URL is a credential.
    this.logger.warn({ ...ids, attempt, error: why, retryInMs: delay }, 'capgate alerts: delivery failed, will retry');
    this.report({ ...ids, attempt, ok: false, error: why, nextAttemptAt, ...(status === undefined ? {} : { status }) });
  }

  private report(r: DeliveryResult): void {
    if (this.onResult === null) return;
    try {
      this.onResult(r);
    } catch {
      // A listener's bug must not stop delivery.
    }
  }
}
