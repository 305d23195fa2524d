// Tests lease.ts against real stores: the file store (several processes on one folder) always, and
// PostgreSQL when DATABASE_URL is set (a fresh schema per run, dropped after). Two coordinators with
// different owners stand for two instances.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { FileStore } from '../../policy-store/file-store';
import { PostgresStore } from '../../policy-store/postgres-store';
import type { PolicyStore } from '../../policy-store/store';
import { LeaseCoordinator, leaseKey } from './lease';
import type { LeaseCoordinatorOptions, LeaseStore } from './lease';

interface Recorder {
  waits: number;
  ended: string[];
}

function recorder(): Recorder & LeaseCoordinatorOptions['metrics'] {
  const r = {
    waits: 0,
    ended: [] as string[],
    leaseWaitStarted: () => void r.waits++,
    leaseWaitEnded: (_s: number, outcome: string) => void r.ended.push(outcome),
  };
  return r;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function describeLeases(kind: string, open: () => Promise<{ store: PolicyStore; done: () => Promise<void> }>): void {
  describe(`LeaseCoordinator on the ${kind} store`, () => {
    let store: PolicyStore;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ store, done } = await open());
    });
    afterEach(async () => {
      await done();
    });

    const coordinator = (owner: string, extra: Partial<LeaseCoordinatorOptions> = {}): LeaseCoordinator =>
      new LeaseCoordinator({ store, owner, ttlMs: 2000, maxWaitMs: 120_000, pollMinMs: 10, pollMaxMs: 100, ...extra });

    it('runs the work once, then releases the lease for anyone', async () => {
      const c = coordinator('one');
      let runs = 0;
      const v = await c.once({ key: 'decision:k1', name: 'k1', version: '1.0.0', lookup: async () => undefined, work: async () => ++runs });
      expect(v).toBe(1);
      expect(await store.acquireLease?.({ key: 'decision:k1', owner: 'someone-else', ttlMs: 1000 })).toBe(true);
    });

    it('releases only after a renewal still on its way, so the lease ends free', async () => {
      // A slow renewal (the store's lock busy) is in flight when the work ends.
      let renewals = 0;
      const renewalStarted = deferred<void>();
      const letRenewalFinish = deferred<void>();
      const renewalDone = deferred<void>();
      const slow: LeaseStore = {
        releaseLease: async (p) => store.releaseLease?.(p),
        acquireLease: async (p) => {
        const first = (await store.acquireLease?.(p)) ?? false;
        if (renewals++ === 1) {
          renewalStarted.resolve();
          await letRenewalFinish.promise;
          const again = (await store.acquireLease?.(p)) ?? false;
          renewalDone.resolve();
          return again;
        }
        return first;
        },
      };
      const c = new LeaseCoordinator({ store: slow, owner: 'one', ttlMs: 60, maxWaitMs: 120_000, pollMinMs: 10, pollMaxMs: 100 });
      const out = c.once({
        key: 'decision:renew',
        name: 'renew',
        version: '1.0.0',
        lookup: async () => undefined,
        work: async () => {
          await renewalStarted.promise;
          setTimeout(() => letRenewalFinish.resolve(), 50);
          return 'done';
        },
      });
      expect(await out).toBe('done');
      await renewalDone.promise;
      expect(await store.acquireLease?.({ key: 'decision:renew', owner: 'someone-else', ttlMs: 1000 })).toBe(true);
    });

    it('a second instance waits for the holder and takes its result instead of working', async () => {
      const results = new Map<string, string>();
      const gate = deferred<void>();
      const started = deferred<void>();
      const c1 = coordinator('first');
      const m2 = recorder();
      const c2 = coordinator('second', { metrics: m2 });
      const lookup = async (): Promise<string | undefined> => results.get('k2');
      const first = c1.once({
        key: 'decision:k2',
        name: 'k2',
        version: '1.0.0',
        lookup,
        work: async () => {
          started.resolve();
          await gate.promise;
          results.set('k2', 'by-first');
          return 'by-first';
        },
      });
      await started.promise;
      let secondWorked = false;
      const second = c2.once({ key: 'decision:k2', name: 'k2', version: '1.0.0', lookup, work: async () => ((secondWorked = true), 'by-second') });
      gate.resolve();
      expect(await first).toBe('by-first');
      expect(await second).toBe('by-first');
      expect(secondWorked).toBe(false);
      expect(m2.waits).toBe(1);
      expect(m2.ended).toEqual(['result']);
    });

    it('a holder that died (never renews) loses the lease after its ttl, and a waiter takes the work over', async () => {
      expect(await store.acquireLease?.({ key: 'decision:k3', owner: 'dead', ttlMs: 300 })).toBe(true);
      const m = recorder();
      const c = coordinator('alive', { metrics: m });
      const v = await c.once({ key: 'decision:k3', name: 'k3', version: '1.0.0', lookup: async () => undefined, work: async () => 'taken-over' });
      expect(v).toBe('taken-over');
      expect(m.waits).toBe(1);
      expect(m.ended).toEqual(['takeover']);
    });

    it('a holder whose work failed releases the lease: the waiter does the work itself', async () => {
      const started = deferred<void>();
      const fail = deferred<void>();
      const c1 = coordinator('failing');
      const m2 = recorder();
      const c2 = coordinator('next', { metrics: m2 });
      const first = c1.once({
        key: 'decision:k4',
        name: 'k4',
        version: '1.0.0',
        lookup: async () => undefined,
        work: async () => {
          started.resolve();
          await fail.promise;
          throw Object.assign(new Error('analysis failed'), { code: 'CAPGATE_ANALYSIS_FAILED' });
        },
      });
      const firstOutcome = first.then(
        () => 'resolved',
        (e: unknown) => (e as { code?: string }).code,
      );
      await started.promise;
      const second = c2.once({ key: 'decision:k4', name: 'k4', version: '1.0.0', lookup: async () => undefined, work: async () => 'second' });
      fail.resolve();
      expect(await firstOutcome).toBe('CAPGATE_ANALYSIS_FAILED');
      expect(await second).toBe('second');
      expect(m2.ended).toEqual(['takeover']);
    });

    it('the holder renews its lease while it works: nobody takes over a slow but live holder', async () => {
      const results = new Map<string, string>();
      const c1 = coordinator('slow', { ttlMs: 1000 });
      const c2 = coordinator('impatient', { ttlMs: 1000 });
      const started = deferred<void>();
      const lookup = async (): Promise<string | undefined> => results.get('k5');
      const first = c1.once({
        key: 'decision:k5',
        name: 'k5',
        version: '1.0.0',
        lookup,
        work: async () => {
          started.resolve();
          // Three lease lifetimes: only renewals keep the lease.
          await new Promise((r) => setTimeout(r, 3000));
          results.set('k5', 'slow');
          return 'slow';
        },
      });
      await started.promise;
      let stolen = false;
      const second = await c2.once({ key: 'decision:k5', name: 'k5', version: '1.0.0', lookup, work: async () => ((stolen = true), 'stolen') });
      expect(await first).toBe('slow');
      expect(second).toBe('slow');
      expect(stolen).toBe(false);
    });

    it('a decision-change notification wakes a waiter without waiting for the next poll', async () => {
      const results = new Map<string, string>();
      const started = deferred<void>();
      const finish = deferred<void>();
      const c1 = coordinator('holder');
      // Polls only every 10 minutes: without the notification this test would time out.
      const c2 = coordinator('sleeper', { pollMinMs: 600_000, pollMaxMs: 600_000, maxWaitMs: 3_600_000 });
      const lookup = async (): Promise<string | undefined> => results.get('k6');
      const first = c1.once({
        key: 'decision:k6',
        name: 'k6',
        version: '2.0.0',
        lookup,
        work: async () => {
          started.resolve();
          await finish.promise;
          results.set('k6', 'done');
          return 'done';
        },
      });
      await started.promise;
      const second = c2.once({ key: 'decision:k6', name: 'k6', version: '2.0.0', lookup, work: async () => 'not-me' });
      // Let the sleeper find the lease taken and go to sleep.
      await new Promise((r) => setTimeout(r, 200));
      finish.resolve();
      await first;
      c2.notify('k6', '1.0.0'); // another version: wakes nobody
      c2.notify('k6', '2.0.0');
      expect(await second).toBe('done');
    }, 20_000);

    it('gives up on a holder that never finishes after maxWaitMs and works itself', async () => {
      const never = deferred<string>();
      const started = deferred<void>();
      const c1 = coordinator('stuck');
      const m2 = recorder();
      const c2 = coordinator('gives-up', { maxWaitMs: 300, metrics: m2 });
      const first = c1.once({
        key: 'decision:k7',
        name: 'k7',
        version: '1.0.0',
        lookup: async () => undefined,
        work: async () => {
          started.resolve();
          return never.promise;
        },
      });
      await started.promise;
      expect(await c2.once({ key: 'decision:k7', name: 'k7', version: '1.0.0', lookup: async () => undefined, work: async () => 'myself' })).toBe('myself');
      expect(m2.ended).toEqual(['gave-up']);
      never.resolve('late');
      await first;
    });
  });
}

describeLeases('file', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-lease-'));
  const store = new FileStore({ dir });
  await store.init();
  return {
    store,
    done: async () => {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});

const url = process.env['DATABASE_URL'];
if (url === undefined || url === '') {
  console.warn('\n*** lease.test: DATABASE_URL is not set, so leases on PostgreSQL were NOT tested. ***\n');
} else {
  describeLeases('postgres', async () => {
    const schema = `capgate_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const store = new PostgresStore({ url, schema });
    await store.init();
    return {
      store,
      done: async () => {
        await store.close();
        const admin = new Pool({ connectionString: url, max: 1 });
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      },
    };
  });
}

describe('LeaseCoordinator without a lease-capable store', () => {
  it('just runs the work', async () => {
    const store: Pick<PolicyStore, 'acquireLease' | 'releaseLease'> = {};
    const c = new LeaseCoordinator({ store, owner: 'x', ttlMs: 1000, maxWaitMs: 1000 });
    expect(await c.once({ key: 'k', name: 'n', version: '1.0.0', lookup: async () => 'never', work: async () => 'ran' })).toBe('ran');
  });

  it('works without the lease when the store cannot take it (the store being down is reported by the work)', async () => {
    const store: Pick<PolicyStore, 'acquireLease' | 'releaseLease'> = {
      acquireLease: async () => {
        throw new Error('connection refused');
      },
      releaseLease: async () => undefined,
    };
    const warnings: string[] = [];
    const c = new LeaseCoordinator({ store, owner: 'x', ttlMs: 1000, maxWaitMs: 1000, logger: { warn: (_o, m) => void warnings.push(m), debug: () => undefined } });
    expect(await c.once({ key: 'k', name: 'n', version: '1.0.0', lookup: async () => undefined, work: async () => 'ran' })).toBe('ran');
    expect(warnings).toHaveLength(1);
  });
});

describe('leaseKey', () => {
  it('keeps short keys readable and hashes keys the stores would refuse', () => {
    expect(leaseKey('decision:a@1.0.0#sha512-x')).toBe('decision:a@1.0.0#sha512-x');
    const long = `decision:${'a'.repeat(214)}@1.0.0-${'b'.repeat(250)}#sha512-${'c'.repeat(88)}`;
    const k = leaseKey(long);
    expect(k).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(leaseKey(long)).toBe(k);
  });
});
