// Owns "one analysis per tarball across instances" (DESIGN.md "Scale"): before analysing, an
// instance takes the store's analysis lease for the tarball; the others wait for its result
// (woken by decision-change notifications, else polling with backoff) instead of analysing again.
// The holder renews the lease while it works, so a holder that dies (SIGKILL mid-analysis) stops
// renewing and its lease expires after `ttlMs`; a waiter then takes it over and does the work.
// Stores without leases (single instance) just run the work: the gate's in-process single-flight
// already shares one analysis between concurrent requests.
import { createHash } from 'node:crypto';
import type { PolicyStore } from '../../policy-store/store';

/** The store's optional lease API (policy-store/store.ts). */
export type LeaseStore = Pick<PolicyStore, 'acquireLease' | 'releaseLease'>;

/** What the coordinator reports (CapgateMetrics fits). */
export interface LeaseMetrics {
  leaseWaitStarted(): void;
  leaseWaitEnded(seconds: number, outcome: 'result' | 'takeover' | 'gave-up'): void;
}

export interface LeaseLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface LeaseCoordinatorOptions {
  readonly store: LeaseStore;
  /** Unique per process (cluster/instance.ts ownerIdOf). */
  readonly owner: string;
  /** Lifetime of a lease that is not renewed; the holder renews it every `ttlMs / 3`. */
  readonly ttlMs: number;
  /**
   * Longest wait on a live holder (it keeps renewing but never finishes); after it the waiter does
   * the work itself. Bounds a request even if another instance hangs.
   */
  readonly maxWaitMs: number;
  /** Poll interval bounds while waiting (default 50 ms doubling to 1000 ms). */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
  readonly metrics?: LeaseMetrics;
  readonly logger?: LeaseLogger;
  /** For tests. */
  readonly clock?: () => number;
}

/** One piece of work that should run once across instances. */
export interface OnceRequest<T> {
  /** Identifies the work, e.g. `decision:<name>@<version>#<integrity>`. */
  readonly key: string;
  /** Package the result belongs to: decision-change notifications for it wake the waiters. */
  readonly name: string;
  readonly version: string;
  /** The result if someone already produced it (undefined: not yet). */
  lookup(): Promise<T | undefined>;
  work(): Promise<T>;
}

/** Longest lease key the stores accept (policy-store/validate.ts assertLease). */
const MAX_KEY = 512;

export class LeaseCoordinator {
  private readonly o: LeaseCoordinatorOptions;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly clock: () => number;
  private readonly sleepers = new Map<string, Set<() => void>>();

  constructor(opts: LeaseCoordinatorOptions) {
    this.o = opts;
    this.minMs = Math.max(1, opts.pollMinMs ?? 50);
    this.maxMs = Math.max(this.minMs, opts.pollMaxMs ?? 1000);
    this.clock = opts.clock ?? Date.now;
  }

  get owner(): string {
    return this.o.owner;
  }

  /** A decision of (name, version) changed somewhere: wake whoever waits for it to look now. */
  notify(name: string, version: string): void {
    const set = this.sleepers.get(sleeperKey(name, version));
    if (set === undefined) return;
    for (const wake of [...set]) wake();
  }

  /**
   * Runs `work` unless another instance holds the lease for `key`; then waits for `lookup` to find
   * its result, or takes the lease over when the holder released it (failed) or stopped renewing
   * it (died), or after `maxWaitMs`.
   */
  async once<T>(req: OnceRequest<T>): Promise<T> {
    const { store } = this.o;
    if (store.acquireLease === undefined) return req.work();
    const key = leaseKey(req.key);
    const started = this.clock();
    let waiting = false;
    let delay = this.minMs;
    for (;;) {
      let held: boolean;
      try {
        held = await store.acquireLease({ key, owner: this.o.owner, ttlMs: this.o.ttlMs });
      } catch (e) {
        // Without the lease table the store is most likely down; the work reports that through
        // the gate's onError. Availability beats deduplication here: analysis is idempotent.
        this.o.logger?.warn({ key, err: message(e) }, 'capgate: cannot take the analysis lease (@{err}); analysing without it');
        if (waiting) this.ended(started, 'takeover');
        return req.work();
      }
      if (held) return this.holding(key, req, waiting ? started : null);
      if (!waiting) {
        waiting = true;
        this.o.metrics?.leaseWaitStarted();
        this.o.logger?.debug({ key }, 'capgate: another instance is analysing @{key}; waiting for its decision');
      }
      if (this.clock() - started >= this.o.maxWaitMs) {
        this.ended(started, 'gave-up');
        this.o.logger?.warn({ key, waitedMs: this.clock() - started }, 'capgate: gave up waiting @{waitedMs} ms for another instance on @{key}; analysing here');
        return req.work();
      }
      await this.pause(req.name, req.version, delay);
      delay = Math.min(this.maxMs, delay * 2);
      const found = await req.lookup();
      if (found !== undefined) {
        this.ended(started, 'result');
        return found;
      }
    }
  }

  /** Holds the lease (renewing it) while checking once more for a result, then working. */
  private async holding<T>(key: string, req: OnceRequest<T>, waitedSince: number | null): Promise<T> {
    const renewEvery = Math.max(10, Math.floor(this.o.ttlMs / 3));
    let renewing: Promise<void> | null = null;
    const timer = setInterval(() => {
      if (renewing !== null) return;
      renewing = this.renew(key).finally(() => (renewing = null));
    }, renewEvery);
    timer.unref();
    try {
      // Someone may have finished between the caller's last look and this lease (it released it).
      const found = await req.lookup();
      if (found !== undefined) {
        if (waitedSince !== null) this.ended(waitedSince, 'result');
        return found;
      }
      if (waitedSince !== null) {
        this.ended(waitedSince, 'takeover');
        this.o.logger?.warn({ key }, 'capgate: took over the analysis lease of @{key} (its holder released it without a result or stopped renewing it)');
      }
      return await req.work();
    } finally {
      clearInterval(timer);
      // A renewal still on its way would take the lease again after the release.
      await renewing;
      await this.o.store.releaseLease?.({ key, owner: this.o.owner }).catch((e: unknown) => {
        this.o.logger?.warn({ key, err: message(e) }, 'capgate: cannot release the analysis lease @{key} (@{err}); it expires by itself');
      });
    }
  }

  private async renew(key: string): Promise<void> {
    try {
      const still = await this.o.store.acquireLease?.({ key, owner: this.o.owner, ttlMs: this.o.ttlMs });
      if (still === false) this.o.logger?.warn({ key }, 'capgate: lost the analysis lease @{key} to another instance (this one was too slow to renew it)');
    } catch (e) {
      this.o.logger?.warn({ key, err: message(e) }, 'capgate: cannot renew the analysis lease @{key}: @{err}');
    }
  }

  private ended(started: number, outcome: 'result' | 'takeover' | 'gave-up'): void {
    this.o.metrics?.leaseWaitEnded((this.clock() - started) / 1000, outcome);
  }

  private pause(name: string, version: string, ms: number): Promise<void> {
    const k = sleeperKey(name, version);
    return new Promise<void>((resolve) => {
      let set = this.sleepers.get(k);
      if (set === undefined) this.sleepers.set(k, (set = new Set()));
      const wake = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.sleepers.get(k) === set) this.sleepers.delete(k);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }
}

/** The store's lease key: readable when short, a sha256 when name + version + integrity would not fit. */
export function leaseKey(key: string): string {
  if (key.length <= MAX_KEY) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function sleeperKey(name: string, version: string): string {
  return `${name}@${version}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
