import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../policy-store/file-store';
import type { AlertEvent } from '../policy-store/store';
import { parseWebhookTargets, type WebhookTarget } from './config';
import { AlertDispatcher, type DeliveryResult } from './dispatcher';
import { createAlertEvent } from './event';
import { verifySignature } from './sign';
import { heldRecord } from './test-records';
import { TestReceiver, waitUntil } from './test-receiver';

const SECRET = 'receiver-secret-0123456789';

function events(n: number, type: AlertEvent['type'] = 'held'): AlertEvent[] {
  return Array.from({ length: n }, (_, i) => createAlertEvent(type, heldRecord({ version: `1.1.${i}` })));
}

function targetsFor(receiver: TestReceiver, extra: unknown[] = []): readonly WebhookTarget[] {
  return parseWebhookTargets([
    { id: 'siem', kind: 'json', url: `${receiver.url}/json`, secret: SECRET },
    { id: 'chat', kind: 'slack', url: `${receiver.url}/slack` },
    ...extra,
  ]);
}

/** Fast retries so the tests do not wait minutes; the schedule itself is tested in backoffMs. */
const FAST = { backoff: { baseMs: 10, maxMs: 100 }, pollMs: 20, timeoutMs: 2000 } as const;

describe('AlertDispatcher with a FileStore and a real receiver', () => {
  let dir: string;
  const stores: FileStore[] = [];
  const dispatchers: AlertDispatcher[] = [];
  let receiver: TestReceiver;

  async function openStore(): Promise<FileStore> {
    const s = new FileStore({ dir });
    await s.init();
    stores.push(s);
    return s;
  }

  function dispatcher(store: FileStore, targets: readonly WebhookTarget[], onResult?: (r: DeliveryResult) => void, extra: Partial<ConstructorParameters<typeof AlertDispatcher>[0]> = {}): AlertDispatcher {
    const d = new AlertDispatcher({ store, targets, ...FAST, ...(onResult === undefined ? {} : { onResult }), ...extra });
    dispatchers.push(d);
    return d;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capgate-alerts-'));
    receiver = new TestReceiver();
    await receiver.start();
  });

  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    for (const s of stores.splice(0)) await s.close();
    await receiver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps events while the receiver is down and delivers each once it is back, signed and deduplicable', async () => {
    await receiver.stop(); // down; the port is remembered
    const store = await openStore();
    const failures = new Map<string, number>();
    const d = dispatcher(store, targetsFor(receiver), (r) => {
      if (!r.ok) failures.set(`${r.eventId}/${r.target}`, (failures.get(`${r.eventId}/${r.target}`) ?? 0) + 1);
    });
    d.start();
    const evs = events(5);
    for (const e of evs) expect(await d.enqueue(e)).toBe(true);
    // Enqueueing the same event again (a re-decided request, a retry upstream) is a no-op.
    expect(await d.enqueue(evs[0] as AlertEvent)).toBe(true);

    await waitUntil('two failed attempts per delivery', () => failures.size === 10 && [...failures.values()].every((n) => n >= 2));
    expect(await store.outboxDepth()).toBe(10);
    expect(receiver.received).toHaveLength(0);

    await receiver.start(); // back on the same port
    await waitUntil('outbox drained', async () => (await store.outboxDepth()) === 0);

    for (const e of evs) {
      expect(receiver.countFor('/json', e.id)).toBe(1);
      expect(receiver.countFor('/slack', e.id)).toBe(1);
    }
    expect(receiver.received).toHaveLength(10);
    expect(receiver.concurrentDuplicates).toEqual([]);
    // Receivers can deduplicate: the id is in the header and the body, and equal for every copy.
    for (const r of receiver.received.filter((x) => x.path === '/json')) {
      const body = JSON.parse(r.body) as { id: string; type: string; name: string };
      expect(body.id).toBe(r.eventId);
      expect(body.type).toBe('held');
      const sig = r.headers['x-capgate-signature'];
      expect(verifySignature(SECRET, typeof sig === 'string' ? sig : undefined, r.body)).toEqual(expect.objectContaining({ ok: true }));
      expect(Number(r.headers['x-capgate-delivery-attempt'])).toBeGreaterThanOrEqual(3);
    }
    for (const r of receiver.received.filter((x) => x.path === '/slack')) {
      expect(r.headers['x-capgate-signature']).toBeUndefined();
      const body = JSON.parse(r.body) as { text: string; blocks: unknown[] };
      expect(body.text).toContain('@acme/left-pad@1.1.');
      expect(body.blocks.length).toBeGreaterThan(0);
    }
  });

  it('survives a restart: a new dispatcher on a new store instance delivers what the old one could not', async () => {
    await receiver.stop();
    const storeA = await openStore();
    let failed = 0;
    const a = dispatcher(storeA, targetsFor(receiver), (r) => {
      if (!r.ok) failed++;
    });
    a.start();
    const evs = events(3);
    for (const e of evs) await a.enqueue(e);
    await waitUntil('failed attempts before the restart', () => failed >= 6);
    await a.stop();
    await storeA.close();

    await receiver.start();
    const storeB = await openStore();
    expect(await storeB.outboxDepth()).toBe(6);
    const b = dispatcher(storeB, targetsFor(receiver));
    b.start();
    await waitUntil('outbox drained after restart', async () => (await storeB.outboxDepth()) === 0);
    for (const e of evs) {
      expect(receiver.countFor('/json', e.id)).toBe(1);
      expect(receiver.countFor('/slack', e.id)).toBe(1);
    }
  });

  it('takes over a delivery whose claim holder died once its lease expires', async () => {
    const store = await openStore();
    const targets = targetsFor(receiver);
    const [e] = events(1);
    if (e === undefined) throw new Error('no event');
    await store.enqueueEvent({ event: e, targets: ['siem'] });
    // A process claims it and dies without completing or failing. While its lease runs, nobody
    // else may take it.
    const claimed = await store.claimDeliveries({ owner: 'dead-process', limit: 10, leaseMs: 60_000 });
    expect(claimed).toHaveLength(1);
    const d = dispatcher(store, targets);
    expect(await d.deliverDue()).toBe(0);
    expect(receiver.received).toHaveLength(0);
    // An hour later (the dispatcher's clock, no waiting) the lease has run out and it takes over.
    const later = dispatcher(store, targets, undefined, { now: () => new Date(Date.now() + 3_600_000) });
    expect(await later.deliverDue()).toBe(1);
    expect(receiver.countFor('/json', e.id)).toBe(1);
    expect(await store.outboxDepth()).toBe(0);
    // The dead owner's late completion is a no-op; nothing is delivered twice.
    await store.completeDelivery({ eventId: e.id, target: 'siem', owner: 'dead-process' });
    d.start();
    expect(await d.deliverDue()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('never delivers the same event to the same target concurrently from two dispatchers', async () => {
    receiver.delayMs = 30;
    const store = await openStore();
    const targets = targetsFor(receiver);
    const d1 = dispatcher(store, targets, undefined, { owner: 'worker-1' });
    const d2 = dispatcher(store, targets, undefined, { owner: 'worker-2' });
    const evs = events(8);
    for (const [i, e] of evs.entries()) await (i % 2 === 0 ? d1 : d2).enqueue(e);
    d1.start();
    d2.start();
    await waitUntil('outbox drained by two dispatchers', async () => (await store.outboxDepth()) === 0);
    expect(receiver.concurrentDuplicates).toEqual([]);
    for (const e of evs) {
      expect(receiver.countFor('/json', e.id)).toBe(1);
      expect(receiver.countFor('/slack', e.id)).toBe(1);
    }
  });

  it('never delivers twice from two store instances on the same folder in one process', async () => {
    receiver.delayMs = 30;
    const s1 = await openStore();
    const s2 = await openStore();
    const targets = targetsFor(receiver);
    const d1 = dispatcher(s1, targets, undefined, { owner: 'instance-1' });
    const d2 = dispatcher(s2, targets, undefined, { owner: 'instance-2' });
    const evs = events(8);
    for (const [i, e] of evs.entries()) await (i % 2 === 0 ? d1 : d2).enqueue(e);
    d1.start();
    d2.start();
    await waitUntil('outbox drained by two store instances', async () => (await s1.outboxDepth()) === 0);
    expect(receiver.concurrentDuplicates).toEqual([]);
    for (const e of evs) {
      expect(receiver.countFor('/json', e.id)).toBe(1);
      expect(receiver.countFor('/slack', e.id)).toBe(1);
    }
  });

  it('shares one outbox between two registry processes without double delivery', async () => {
    receiver.delayMs = 30;
    const store = await openStore();
    const d1 = dispatcher(store, targetsFor(receiver), undefined, { owner: 'process-1' });
    const evs = events(8);
    for (const e of evs) await d1.enqueue(e);
    const child = fork(join(__dirname, 'test-child-dispatcher.js'), [dir, receiver.url, 'process-2'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    child.send('go');
    d1.start();
    await waitUntil('outbox drained by two processes', async () => (await store.outboxDepth()) === 0);
    expect(await exited).toBe(0);
    expect(receiver.concurrentDuplicates).toEqual([]);
    for (const e of evs) {
      expect(receiver.countFor('/json', e.id)).toBe(1);
      expect(receiver.countFor('/slack', e.id)).toBe(1);
    }
  });

  it('retries a receiver that hangs or answers 500, and enqueue does not wait for it', async () => {
    receiver.mode = 'hang';
    const store = await openStore();
    const results: DeliveryResult[] = [];
    const d = dispatcher(store, targetsFor(receiver).filter((t) => t.id === 'siem'), (r) => results.push(r), { timeoutMs: 100 });
    d.start();
    const [e] = events(1);
    if (e === undefined) throw new Error('no event');
    expect(await d.enqueue(e)).toBe(true);
    await waitUntil('a timed-out attempt', () => results.some((r) => !r.ok && /no response within 100 ms/.test(r.error ?? '')));
    receiver.mode = 'error';
    await waitUntil('an HTTP 500 attempt', () => results.some((r) => !r.ok && r.status === 500));
    expect(receiver.received).toHaveLength(0);
    receiver.mode = 'ok';
    await waitUntil('a successful attempt', () => results.some((r) => r.ok));
    expect(await store.outboxDepth()).toBe(0);
    expect(receiver.countFor('/json', e.id)).toBe(1);
    const attempts = results.map((r) => r.attempt);
    expect(attempts).toEqual([...attempts].sort((x, y) => x - y));
    expect(results.at(-1)).toEqual(expect.objectContaining({ ok: true, status: 204 }));
  });

  it('sends each target only the event types it asked for', async () => {
    const store = await openStore();
    const targets = parseWebhookTargets([
      { id: 'held-only', kind: 'json', url: `${receiver.url}/held`, events: ['held'] },
      { id: 'decisions', kind: 'json', url: `${receiver.url}/decisions`, events: ['approved', 'denied'] },
    ]);
    const d = dispatcher(store, targets);
    d.start();
    const held = createAlertEvent('held', heldRecord());
    const approved = createAlertEvent('approved', heldRecord({ state: 'approved', by: 'alice', updatedAt: '2026-11-25T10:00:00.000Z' }));
    await d.enqueue(held);
    await d.enqueue(approved);
    await waitUntil('delivered', async () => (await store.outboxDepth()) === 0);
    expect(receiver.received.map((r) => `${r.path} ${r.eventId}`).sort()).toEqual([`/decisions ${approved.id}`, `/held ${held.id}`].sort());
  });

  it('never throws into the caller when the store is gone', async () => {
    const store = await openStore();
    const warnings: string[] = [];
    const d = dispatcher(store, targetsFor(receiver), undefined, { logger: { warn: (_o, msg) => warnings.push(msg) } });
    await store.close();
    const [e] = events(1);
    if (e === undefined) throw new Error('no event');
    await expect(d.enqueue(e)).resolves.toBe(false);
    await expect(d.deliverDue()).resolves.toBe(0);
    expect(warnings).toEqual(['capgate alerts: could not enqueue event', 'capgate alerts: could not claim deliveries']);
  });
});

describe('backoff', () => {
  it('doubles from the base, is capped, and jitters within 50..100 %', () => {
    const store = {} as FileStore;
    const lo = new AlertDispatcher({ store, targets: [], random: () => 0 });
    const hi = new AlertDispatcher({ store, targets: [], random: () => 0.999999 });
    expect([1, 2, 3, 4].map((a) => lo.backoffMs(a))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => hi.backoffMs(a))).toEqual([1000, 2000, 4000, 8000]);
    expect(hi.backoffMs(50)).toBe(300_000);
    expect(lo.backoffMs(50)).toBe(150_000);
  });
});
