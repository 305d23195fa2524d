// Owns background analysis at packument time (issue 5): a bounded queue of versions to decide
// before their tarball is asked for, so held versions can be hidden from resolvers. Bounded by a
// global concurrency, a queue size and a wait limit; a version queued or running is not queued
// twice (the gate's single flight also joins a tarball request for it).
import type { GateLogger } from '../gate';

export interface BackgroundOptions {
  readonly concurrency: number;
  readonly queueSize: number;
  readonly maxWaitMs: number;
  readonly logger: Pick<GateLogger, 'debug'>;
  readonly now?: () => number;
}

interface Job {
  readonly key: string;
  readonly enqueuedAt: number;
  readonly run: () => Promise<void>;
}

export class BackgroundQueue {
  private readonly opts: BackgroundOptions;
  private readonly queue: Job[] = [];
  private readonly pending = new Set<string>();
  private running = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Counters for tests and logs. */
  readonly counts = { queued: 0, started: 0, dropped: 0, expired: 0 };

  constructor(opts: BackgroundOptions) {
    this.opts = opts;
  }

  /** Queues `run` under `key` unless it is already queued or running or the queue is full. True when queued. */
  enqueue(key: string, run: () => Promise<void>): boolean {
    if (this.closed || this.pending.has(key)) return false;
    if (this.queue.length >= this.opts.queueSize) {
      this.counts.dropped++;
      return false;
    }
    this.pending.add(key);
    this.queue.push({ key, enqueuedAt: this.now(), run });
    this.counts.queued++;
    this.pump();
    return true;
  }

  /** True when `key` is queued or running. */
  has(key: string): boolean {
    return this.pending.has(key);
  }

  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits; running jobs finish on their own. */
  close(): void {
    this.closed = true;
    for (const j of this.queue.splice(0)) this.pending.delete(j.key);
    this.settle();
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift();
      if (job === undefined) break;
      if (this.now() - job.enqueuedAt > this.opts.maxWaitMs) {
        this.pending.delete(job.key);
        this.counts.expired++;
        this.opts.logger.debug({ key: job.key }, 'capgate: background analysis of @{key} dropped (waited too long)');
        continue;
      }
      this.running++;
      this.counts.started++;
      void job
        .run()
        .catch((e: unknown) => this.opts.logger.debug({ key: job.key, err: e instanceof Error ? e.message : String(e) }, 'capgate: background analysis of @{key} failed: @{err}'))
        .finally(() => {
          this.running--;
          this.pending.delete(job.key);
          this.pump();
        });
    }
    this.settle();
  }

  private settle(): void {
    if (this.running !== 0 || this.queue.length !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }
}
