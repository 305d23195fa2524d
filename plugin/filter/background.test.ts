import { BackgroundQueue } from './background';

const logger = { debug: () => undefined };

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('BackgroundQueue', () => {
  it('runs at most `concurrency` jobs at once, dedupes keys, and drops beyond the queue size', async () => {
    const q = new BackgroundQueue({ concurrency: 1, queueSize: 2, maxWaitMs: 60_000, logger });
    const first = deferred();
    let running = 0;
    let peak = 0;
    const job = (d?: Promise<void>) => async () => {
      running++;
      peak = Math.max(peak, running);
      await d;
      running--;
    };
    expect(q.enqueue('a', job(first.promise))).toBe(true);
    expect(q.enqueue('a', job())).toBe(false);
    expect(q.enqueue('b', job())).toBe(true);
    expect(q.enqueue('c', job())).toBe(true);
    expect(q.enqueue('d', job())).toBe(false);
    expect(q.counts.dropped).toBe(1);
    first.resolve();
    await q.idle();
    expect(peak).toBe(1);
    expect(q.counts.started).toBe(3);
    expect(q.has('a')).toBe(false);
  });

  it('drops jobs that waited longer than maxWaitMs and survives a failing job', async () => {
    let now = 0;
    const q = new BackgroundQueue({ concurrency: 1, queueSize: 10, maxWaitMs: 100, logger, now: () => now });
    const first = deferred();
    const ran: string[] = [];
    q.enqueue('slow', async () => {
      await first.promise;
      throw new Error('boom');
    });
    q.enqueue('stale', async () => void ran.push('stale'));
    now = 1000;
    first.resolve();
    await q.idle();
    expect(ran).toEqual([]);
    expect(q.counts.expired).toBe(1);
    q.enqueue('fresh', async () => void ran.push('fresh'));
    await q.idle();
    expect(ran).toEqual(['fresh']);
  });
});
