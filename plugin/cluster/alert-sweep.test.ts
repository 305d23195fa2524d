// Tests alert-sweep.ts with the real file store, the real alert dispatcher and a real HTTP receiver:
// an alert whose enqueue was lost (a process killed after storing the decision) is enqueued by the
// sweep and delivered once; sweeping again never sends it twice.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { AlertDispatcher } from '../../alerts/dispatcher';
import { heldRecord } from '../../alerts/test-records';
import { TestReceiver } from '../../alerts/test-receiver';
import { FileStore } from '../../policy-store/file-store';
import type { DecisionRecord } from '../../policy-store/store';
import { sweepAlerts } from './alert-sweep';

let dir: string;
let store: FileStore;
let receiver: TestReceiver;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-sweep-'));
  store = new FileStore({ dir });
  await store.init();
  receiver = new TestReceiver();
  await receiver.start();
});

afterEach(async () => {
  await receiver.stop();
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function draft(over: Partial<DecisionRecord>): Omit<DecisionRecord, 'createdAt' | 'updatedAt'> {
  const { createdAt: _c, updatedAt: _u, ...rest } = heldRecord(over);
  return rest;
}

it('enqueues the lost alert of a recent decision once, delivers it once, and never again', async () => {
  const now = new Date('2026-11-25T10:00:00.000Z');
  // Stored, but the process died before enqueueing its alert.
  await store.setDecision({ record: draft({ name: 'lost-alert', version: '2.0.0' }), at: new Date(now.getTime() - 60_000) });
  // Too old for the window: left alone.
  await store.setDecision({ record: draft({ name: 'old-alert', version: '1.0.0' }), at: new Date(now.getTime() - 48 * 3600_000) });
  // Allowed decisions raise no alert.
  await store.setDecision({ record: { ...draft({ name: 'fine', version: '1.0.0' }), state: 'allowed', automatic: 'allow' }, at: now });

  const alerts = new AlertDispatcher({ store, targets: [{ id: 'hook', kind: 'json', url: `${receiver.url}/hook`, events: ['held', 'flagged', 'approved', 'denied'] }], now: () => now });
  expect(await sweepAlerts({ store, alerts, now: () => now }, { windowMs: 24 * 3600_000, limit: 100 })).toBe(1);
  expect(await store.outboxDepth()).toBe(1);
  // A second sweep (another instance, or the next round) finds the event there already.
  await sweepAlerts({ store, alerts, now: () => now }, { windowMs: 24 * 3600_000, limit: 100 });
  expect(await store.outboxDepth()).toBe(1);
  expect(await alerts.deliverDue()).toBe(1);
  expect(await store.outboxDepth()).toBe(0);
  // Delivered events stay recorded: sweeping again sends nothing.
  await sweepAlerts({ store, alerts, now: () => now }, { windowMs: 24 * 3600_000, limit: 100 });
  expect(await store.outboxDepth()).toBe(0);
  expect(await alerts.deliverDue()).toBe(0);
  expect(receiver.received.map((r) => JSON.parse(r.body) as { name: string; type: string })).toEqual([expect.objectContaining({ name: 'lost-alert', type: 'held' })]);
});
