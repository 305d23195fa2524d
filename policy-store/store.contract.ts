// Owns the one contract suite every PolicyStore must pass (file store, PostgreSQL store, any later
// one). A store's own test file calls describeStoreContract with a factory for a fresh, empty store.
import type { CapabilityId, PackagePolicy, PolicyDiff } from '../analyzer/types';
import { PolicyStoreError } from './store';
import type { AlertEvent, DecisionRecord, PolicyStore, VersionState } from './store';

export interface StoreUnderTest {
  readonly store: PolicyStore;
  /** Removes everything the factory created (folder, schema). */
  cleanup(): Promise<void>;
}

/** A minimal valid policy. */
export function samplePolicy(name: string, version: string, capabilities: readonly CapabilityId[] = []): PackagePolicy {
  return {
    schema: 1,
    rulesVersion: 'test-1',
    name,
    version,
    capabilities: [...capabilities].sort(),
    evidence: Object.fromEntries(capabilities.map((c) => [c, [{ file: 'index.js', line: 1, column: 0, api: `${c}.api`, snippet: `use(${c})` }]])),
    keypaths: [],
    hosts: [],
    dependencies: {},
    installScripts: {},
    findings: [],
    stats: { files: 2, jsFiles: 1, bytes: 100 },
  };
}

export function sampleDiff(gained: readonly CapabilityId[], baseline: string | null): PolicyDiff {
  return {
    gained: [...gained],
    lost: [],
    decision: gained.length > 0 ? 'block' : 'allow',
    evidence: Object.fromEntries(gained.map((c) => [c, [{ file: 'lib/x.js', line: 3, column: 2, api: `${c}.api`, snippet: 'x()' }]])),
    baseline,
    details: { newKeypaths: [], newHosts: [], newDependencies: [], changedInstallScripts: [] },
  };
}

export function sampleDecision(name: string, version: string, state: VersionState, extra: Partial<Omit<DecisionRecord, 'createdAt' | 'updatedAt'>> = {}): Omit<DecisionRecord, 'createdAt' | 'updatedAt'> {
  const held = state === 'held' || state === 'denied' || state === 'approved';
  return {
    name,
    version,
    integrity: `sha512-${Buffer.from(`${name}@${version}`).toString('base64')}`,
    rulesVersion: 'test-1',
    state,
    automatic: held ? 'block' : state === 'flagged' ? 'flag' : 'allow',
    mode: 'enforce',
    baseline: '1.0.0',
    diff: sampleDiff(held ? ['child-process'] : [], '1.0.0'),
    by: state === 'approved' || state === 'denied' ? 'alice' : 'capgate',
    reason: held ? 'gained child-process' : '',
    ...extra,
  };
}

function sampleEvent(id: string, createdAt: string, name = 'left-pad', version = '1.3.0'): AlertEvent {
  return { id, type: 'held', createdAt, name, version, payload: { gained: ['child-process'], baseline: '1.2.0' } };
}

/** Names npm would refuse, or that try to leave the store's folder. */
export const INVALID_NAMES: readonly string[] = [
  '',
  '.',
  '..',
  '../x',
  '../../etc/passwd',
  '@scope/../../x',
  '@scope/..',
  '@scope/.',
  '@../x',
  '/etc/passwd',
  '/abs',
  'C:\\x',
  'a\\b',
  'a/b',
  '@scope/a/b',
  '@/x',
  '@scope/',
  '@scope',
  '%2e%2e',
  '%2e%2e%2fx',
  '@scope%2f..',
  'x\u0000y',
  ' x',
  'x ',
  '_x',
  '.x',
  'node_modules',
  'favicon.ico',
  'a'.repeat(215),
];

export const INVALID_VERSIONS: readonly string[] = ['', 'latest', 'v1.0.0', '1.0', '../1.0.0', '1.0.0/../../x', '/1.0.0', '1.0.0\u0000', ' 1.0.0', `1.0.0-${'a'.repeat(260)}`];

async function expectCode(promise: Promise<unknown>, code: PolicyStoreError['code']): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PolicyStoreError);
  expect((caught as PolicyStoreError).code).toBe(code);
}

/**
 * Registers the contract suite. `makeStore` must return a fresh, empty, uninitialised store; the
 * suite calls `init()` itself and `cleanup()` after each test.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`PolicyStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: PolicyStore;

    beforeEach(async () => {
      sut = await makeStore();
      store = sut.store;
      await Promise.all([store.init(), store.init()]); // concurrent init is safe
      await store.init();
    });

    afterEach(async () => {
      await store.close();
      await sut.cleanup();
    });

    describe('lifecycle', () => {
      it('is healthy after init', async () => {
        await expect(store.health()).resolves.toBeUndefined();
      });

      it('refuses work after close, and close is idempotent', async () => {
        await store.close();
        await store.close();
        await expectCode(store.getPolicy({ name: 'left-pad', version: '1.0.0' }), 'CAPGATE_POLICY_STORE_UNAVAILABLE');
      });
    });

    describe('policies', () => {
      it('round-trips a policy, scoped or not, and returns null for an unknown version', async () => {
        const policy = samplePolicy('@acme/widget', '2.1.0-beta.1', ['network', 'fs-read']);
        await store.putPolicy({ name: '@acme/widget', version: '2.1.0-beta.1', integrity: 'sha512-abc', policy });
        const got = await store.getPolicy({ name: '@acme/widget', version: '2.1.0-beta.1' });
        expect(got).toMatchObject({ name: '@acme/widget', version: '2.1.0-beta.1', integrity: 'sha512-abc', policy });
        expect(Number.isNaN(Date.parse(got?.createdAt ?? ''))).toBe(false);
        expect(await store.getPolicy({ name: '@acme/widget', version: '2.1.0' })).toBeNull();
        expect(await store.getPolicy({ name: 'widget', version: '2.1.0-beta.1' })).toBeNull();
      });

      it('overwrites a policy (re-analysis with new rules)', async () => {
        await store.putPolicy({ name: 'left-pad', version: '1.0.0', integrity: 'sha512-a', policy: samplePolicy('left-pad', '1.0.0') });
        await store.putPolicy({ name: 'left-pad', version: '1.0.0', integrity: 'sha512-a', policy: { ...samplePolicy('left-pad', '1.0.0', ['network']), rulesVersion: 'test-2' } });
        const got = await store.getPolicy({ name: 'left-pad', version: '1.0.0' });
        expect(got?.policy.rulesVersion).toBe('test-2');
        expect(got?.policy.capabilities).toEqual(['network']);
      });

      it('keeps names apart that differ only in case or scope (old npm names may have capitals)', async () => {
        await store.putPolicy({ name: 'JSONStream', version: '1.0.0', integrity: 'sha512-upper', policy: samplePolicy('JSONStream', '1.0.0') });
        await store.putPolicy({ name: 'jsonstream', version: '1.0.0', integrity: 'sha512-lower', policy: samplePolicy('jsonstream', '1.0.0') });
        await store.putPolicy({ name: '@a/jsonstream', version: '1.0.0', integrity: 'sha512-scoped', policy: samplePolicy('@a/jsonstream', '1.0.0') });
        expect((await store.getPolicy({ name: 'JSONStream', version: '1.0.0' }))?.integrity).toBe('sha512-upper');
        expect((await store.getPolicy({ name: 'jsonstream', version: '1.0.0' }))?.integrity).toBe('sha512-lower');
        expect((await store.getPolicy({ name: '@a/jsonstream', version: '1.0.0' }))?.integrity).toBe('sha512-scoped');
      });

      it('serialises concurrent writes of one key: the result is one of the written policies, whole', async () => {
        const writes = Array.from({ length: 12 }, (_, i) =>
          store.putPolicy({ name: 'racy', version: '1.0.0', integrity: `sha512-${i}`, policy: { ...samplePolicy('racy', '1.0.0'), rulesVersion: `r${i}` } }),
        );
        await Promise.all(writes);
        const got = await store.getPolicy({ name: 'racy', version: '1.0.0' });
        expect(got?.policy.rulesVersion).toBe(`r${(got?.integrity ?? '').slice('sha512-'.length)}`);
      });
    });

    describe('decisions', () => {
      it('stores a decision with timestamps and appends an audit entry with who, when and why', async () => {
        const at = new Date('2026-01-02T03:04:05.000Z');
        const rec = await store.setDecision({ record: sampleDecision('left-pad', '1.3.0', 'held'), at });
        expect(rec).toEqual({ ...sampleDecision('left-pad', '1.3.0', 'held'), createdAt: at.toISOString(), updatedAt: at.toISOString() });
        expect(await store.getDecision({ name: 'left-pad', version: '1.3.0' })).toEqual(rec);
        const audit = await store.listAudit({ name: 'left-pad' });
        expect(audit).toHaveLength(1);
        expect(audit[0]).toMatchObject({ at: at.toISOString(), name: 'left-pad', version: '1.3.0', action: 'held', by: 'capgate', reason: 'gained child-process' });
      });

      it('is idempotent: the same decision twice changes nothing and adds no audit entry', async () => {
        const first = await store.setDecision({ record: sampleDecision('left-pad', '1.3.0', 'held'), at: new Date('2026-01-01T00:00:00Z') });
        const second = await store.setDecision({ record: sampleDecision('left-pad', '1.3.0', 'held'), at: new Date('2026-01-05T00:00:00Z') });
        expect(second).toEqual(first);
        expect(await store.getDecision({ name: 'left-pad', version: '1.3.0' })).toEqual(first);
        expect(await store.listAudit({})).toHaveLength(1);
      });

      it('keeps createdAt when a reviewer changes the state, and audits the review', async () => {
        const t0 = new Date('2026-01-01T00:00:00Z');
        const t1 = new Date('2026-01-03T00:00:00Z');
        await store.setDecision({ record: sampleDecision('left-pad', '1.3.0', 'held'), at: t0 });
        const approved = await store.setDecision({ record: sampleDecision('left-pad', '1.3.0', 'approved', { by: 'alice', reason: 'expected: new build step' }), at: t1 });
        expect(approved.createdAt).toBe(t0.toISOString());
        expect(approved.updatedAt).toBe(t1.toISOString());
        expect(approved.automatic).toBe('block');
        const audit = await store.listAudit({ name: 'left-pad' });
        expect(audit.map((a) => a.action)).toEqual(['approved', 'held']);
        expect(audit[0]).toMatchObject({ by: 'alice', reason: 'expected: new build step', at: t1.toISOString() });
        expect(audit[0]!.id).toBeGreaterThan(audit[1]!.id);
      });

      it('returns null for an unknown decision and lists every version of one package only', async () => {
        expect(await store.getDecision({ name: 'left-pad', version: '9.9.9' })).toBeNull();
        await store.setDecision({ record: sampleDecision('left-pad', '1.0.0', 'allowed') });
        await store.setDecision({ record: sampleDecision('left-pad', '1.1.0', 'flagged') });
        await store.setDecision({ record: sampleDecision('@x/left-pad', '1.0.0', 'held') });
        const list = await store.listDecisions({ name: 'left-pad' });
        expect(list.map((d) => d.version).sort()).toEqual(['1.0.0', '1.1.0']);
        expect(await store.listDecisions({ name: 'nothing-here' })).toEqual([]);
      });

      it('lists by state, newest updatedAt first, with a limit, and follows state changes', async () => {
        await store.setDecision({ record: sampleDecision('a', '1.0.0', 'held'), at: new Date('2026-01-01T00:00:00Z') });
        await store.setDecision({ record: sampleDecision('b', '1.0.0', 'held'), at: new Date('2026-01-03T00:00:00Z') });
        await store.setDecision({ record: sampleDecision('@s/c', '1.0.0', 'held'), at: new Date('2026-01-02T00:00:00Z') });
        await store.setDecision({ record: sampleDecision('d', '1.0.0', 'allowed'), at: new Date('2026-01-04T00:00:00Z') });
        const held = await store.listByState({ state: 'held' });
        expect(held.map((d) => d.name)).toEqual(['b', '@s/c', 'a']);
        expect((await store.listByState({ state: 'held', limit: 2 })).map((d) => d.name)).toEqual(['b', '@s/c']);
        await store.setDecision({ record: sampleDecision('b', '1.0.0', 'denied', { reason: 'malware' }), at: new Date('2026-01-05T00:00:00Z') });
        expect((await store.listByState({ state: 'held' })).map((d) => d.name)).toEqual(['@s/c', 'a']);
        expect((await store.listByState({ state: 'denied' })).map((d) => `${d.name}@${d.version}:${d.reason}`)).toEqual(['b@1.0.0:malware']);
        expect(await store.listByState({ state: 'approved' })).toEqual([]);
      });

      it('serialises concurrent decisions: every one audited once with unique increasing ids', async () => {
        const writes = Array.from({ length: 10 }, (_, i) => store.setDecision({ record: sampleDecision(`p${i % 3}`, `1.0.${i}`, i % 2 === 0 ? 'held' : 'flagged') }));
        await Promise.all(writes);
        const audit = await store.listAudit({});
        expect(audit).toHaveLength(10);
        const ids = audit.map((a) => a.id);
        expect(new Set(ids).size).toBe(10);
        expect([...ids].sort((x, y) => y - x)).toEqual(ids);
        expect((await store.listByState({ state: 'held' })).length + (await store.listByState({ state: 'flagged' })).length).toBe(10);
      });

      it('gives each of many concurrent decisions its own record; the stored one of a key is its last audited', async () => {
        const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
        const same = await store.setDecision({ record: sampleDecision('c-same', '1.0.0', 'held'), at: at(0) });
        const calls = Array.from({ length: 20 }, (_, i) => ({ record: sampleDecision('c-many', `1.0.${i}`, i % 2 === 0 ? 'held' : 'flagged'), at: at(10 + i) }));
        calls.splice(5, 0, { record: sampleDecision('c-twice', '1.0.0', 'held'), at: at(40) });
        calls.splice(10, 0, { record: sampleDecision('c-same', '1.0.0', 'held'), at: at(41) }); // identical to the stored one
        calls.splice(15, 0, { record: sampleDecision('c-twice', '1.0.0', 'approved', { by: 'alice', reason: 'reviewed' }), at: at(42) });
        const results = await Promise.all(calls.map((c) => store.setDecision(c)));
        results.forEach((got, i) => {
          const call = calls[i]!;
          if (call.record.name === 'c-many') expect(got).toEqual({ ...call.record, createdAt: call.at.toISOString(), updatedAt: call.at.toISOString() });
          else if (call.record.name === 'c-same') expect(got).toEqual(same);
          else expect(got).toMatchObject({ state: call.record.state, by: call.record.by, updatedAt: call.at.toISOString() });
        });
        // The two decisions of c-twice ran one after the other (in either order): the later one kept
        // the earlier one's createdAt, has the newer audit entry, and is the one stored.
        const twice = await store.listAudit({ name: 'c-twice' });
        expect(twice).toHaveLength(2);
        const [newer, older] = twice.map((e) => results.find((r) => r.name === 'c-twice' && r.state === e.action)!);
        expect(newer?.createdAt).toBe(older?.updatedAt);
        expect(await store.getDecision({ name: 'c-twice', version: '1.0.0' })).toEqual(newer);
        expect(await store.listAudit({ name: 'c-same' })).toHaveLength(1);
        const audit = await store.listAudit({});
        expect(audit).toHaveLength(1 + 20 + 2);
        expect(new Set(audit.map((a) => a.id)).size).toBe(audit.length);
        for (const r of results.filter((d) => d.name === 'c-many')) expect(await store.getDecision({ name: r.name, version: r.version })).toEqual(r);
        expect((await store.listByState({ state: 'held' })).map((d) => `${d.name}@${d.version}`).sort()).toEqual(
          ['c-same@1.0.0', ...Array.from({ length: 10 }, (_, i) => `c-many@1.0.${2 * i}`)].sort(),
        );
      });

      it('calls decision listeners when the store offers them', async () => {
        if (!store.onDecisionChanged) return;
        const seen: string[] = [];
        const off = store.onDecisionChanged((n, v) => seen.push(`${n}@${v}`));
        await store.setDecision({ record: sampleDecision('@s/x', '1.0.0', 'held') });
        off();
        await store.setDecision({ record: sampleDecision('@s/x', '1.0.1', 'held') });
        expect(seen).toEqual(['@s/x@1.0.0']);
      });
    });

    describe('audit log', () => {
      it('appends entries with monotonic ids and lists newest first, by package, with a limit', async () => {
        const a = await store.appendAudit({ entry: { name: 'left-pad', version: '1.0.0', action: 'note', by: 'alice', reason: 'first' }, at: new Date('2026-02-01T00:00:00Z') });
        const b = await store.appendAudit({ entry: { name: '@s/x', version: '^1.0.0', action: 'scoped-approval', by: 'bob', reason: 'ok', details: { capability: 'network' } } });
        const c = await store.appendAudit({ entry: { name: 'left-pad', version: '1.0.1', action: 'note', by: 'carol', reason: '' } });
        expect(a.id).toBeLessThan(b.id);
        expect(b.id).toBeLessThan(c.id);
        expect(a.at).toBe('2026-02-01T00:00:00.000Z');
        expect((await store.listAudit({})).map((e) => e.id)).toEqual([c.id, b.id, a.id]);
        expect((await store.listAudit({ name: 'left-pad' })).map((e) => e.reason)).toEqual(['', 'first']);
        expect((await store.listAudit({ limit: 1 })).map((e) => e.id)).toEqual([c.id]);
        expect((await store.listAudit({ name: '@s/x' }))[0]).toEqual(b);
        expect(b.details).toEqual({ capability: 'network' });
      });
    });

    describe('key validation', () => {
      it.each(INVALID_NAMES.map((n) => [JSON.stringify(n).slice(0, 40), n]))('rejects the name %s everywhere', async (_label, bad) => {
        const code = 'CAPGATE_POLICY_STORE_INVALID_KEY';
        await expectCode(store.getPolicy({ name: bad, version: '1.0.0' }), code);
        await expectCode(store.putPolicy({ name: bad, version: '1.0.0', integrity: 'sha512-x', policy: samplePolicy('x', '1.0.0') }), code);
        await expectCode(store.getDecision({ name: bad, version: '1.0.0' }), code);
        await expectCode(store.setDecision({ record: sampleDecision(bad, '1.0.0', 'held') }), code);
        await expectCode(store.listDecisions({ name: bad }), code);
        await expectCode(store.listScopedApprovals({ name: bad }), code);
        await expectCode(store.addScopedApproval({ approval: { name: bad, range: '*', capability: 'network', expiresAt: null, by: 'a', reason: '' } }), code);
        await expectCode(store.appendAudit({ entry: { name: bad, version: '1.0.0', action: 'x', by: 'a', reason: '' } }), code);
        await expectCode(store.listAudit({ name: bad }), code);
        await expectCode(store.enqueueEvent({ event: sampleEvent('e-bad', new Date().toISOString(), bad), targets: ['t'] }), code);
        expect(await store.listAudit({})).toEqual([]);
      });

      it.each(INVALID_VERSIONS.map((v) => [JSON.stringify(v).slice(0, 40), v]))('rejects the version %s', async (_label, bad) => {
        const code = 'CAPGATE_POLICY_STORE_INVALID_KEY';
        await expectCode(store.getPolicy({ name: 'left-pad', version: bad }), code);
        await expectCode(store.putPolicy({ name: 'left-pad', version: bad, integrity: 'sha512-x', policy: samplePolicy('left-pad', '1.0.0') }), code);
        await expectCode(store.getDecision({ name: 'left-pad', version: bad }), code);
        await expectCode(store.setDecision({ record: sampleDecision('left-pad', bad, 'held') }), code);
      });

      it('accepts the odd but valid names npm has', async () => {
        for (const name of ['JSONStream', '@types/node', 'a', 'a.b-c_d', "left~pad!(x)*'", '@my-org/x.y', 'a'.repeat(214)]) {
          await store.putPolicy({ name, version: '1.0.0+build.5', integrity: 'sha512-x', policy: samplePolicy(name, '1.0.0') });
          expect((await store.getPolicy({ name, version: '1.0.0+build.5' }))?.name).toBe(name);
        }
      });

      it('rejects an unknown state, capability or range', async () => {
        await expectCode(store.listByState({ state: 'nope' as VersionState }), 'CAPGATE_POLICY_STORE_INVALID_KEY');
        await expectCode(store.listByState({ state: 'held', limit: -1 }), 'CAPGATE_POLICY_STORE_INVALID_KEY');
        await expectCode(store.listAudit({ limit: 1.5 }), 'CAPGATE_POLICY_STORE_INVALID_KEY');
        await expectCode(store.setDecision({ record: sampleDecision('x', '1.0.0', 'nope' as VersionState) }), 'CAPGATE_POLICY_STORE_INVALID_KEY');
        await expectCode(
          store.addScopedApproval({ approval: { name: 'x', range: '*', capability: 'teleport' as CapabilityId, expiresAt: null, by: 'a', reason: '' } }),
          'CAPGATE_POLICY_STORE_INVALID_KEY',
        );
        await expectCode(store.addScopedApproval({ approval: { name: 'x', range: 'not a range!', capability: 'network', expiresAt: null, by: 'a', reason: '' } }), 'CAPGATE_POLICY_STORE_INVALID_KEY');
      });
    });

    describe('scoped approvals', () => {
      it('round-trips approvals per package, expired ones included, oldest first', async () => {
        const a = await store.addScopedApproval({
          approval: { name: '@s/x', range: '^2.0.0', capability: 'network', expiresAt: '2026-06-01T00:00:00.000Z', by: 'alice', reason: 'telemetry endpoint' },
          at: new Date('2026-01-01T00:00:00Z'),
        });
        const b = await store.addScopedApproval({
          approval: { name: '@s/x', range: '*', capability: 'child-process', expiresAt: null, by: 'bob', reason: 'build' },
          at: new Date('2026-01-02T00:00:00Z'),
        });
        await store.addScopedApproval({ approval: { name: 'x', range: '*', capability: 'network', expiresAt: '2020-01-01T00:00:00.000Z', by: 'bob', reason: 'old' } });
        expect(a.id).not.toBe(b.id);
        expect(a).toMatchObject({ name: '@s/x', range: '^2.0.0', capability: 'network', expiresAt: '2026-06-01T00:00:00.000Z', by: 'alice', reason: 'telemetry endpoint', createdAt: '2026-01-01T00:00:00.000Z' });
        expect(await store.listScopedApprovals({ name: '@s/x' })).toEqual([a, b]);
        expect((await store.listScopedApprovals({ name: 'x' }))[0]?.expiresAt).toBe('2020-01-01T00:00:00.000Z');
        expect(await store.listScopedApprovals({ name: 'y' })).toEqual([]);
      });
    });

    describe('alert outbox', () => {
      const t0 = new Date('2026-03-01T00:00:00Z');
      const at = (ms: number): Date => new Date(t0.getTime() + ms);

      it('enqueues one delivery per target; the same event id twice is a no-op', async () => {
        const ev = sampleEvent('ev-1', t0.toISOString());
        await store.enqueueEvent({ event: ev, targets: ['slack', 'siem'] });
        await store.enqueueEvent({ event: ev, targets: ['slack', 'siem', 'third'] });
        expect(await store.outboxDepth()).toBe(2);
        const claimed = await store.claimDeliveries({ owner: 'A', limit: 10, leaseMs: 60_000, now: at(1) });
        expect(claimed.map((d) => d.target).sort()).toEqual(['siem', 'slack']);
        expect(claimed[0]).toEqual({ event: ev, target: claimed[0]!.target, attempts: 0, nextAttemptAt: claimed[0]!.nextAttemptAt, lastError: null });
      });

      it('gives a claim to one owner until its lease expires, then to another', async () => {
        await store.enqueueEvent({ event: sampleEvent('ev-1', t0.toISOString()), targets: ['slack'] });
        await store.enqueueEvent({ event: sampleEvent('ev-2', at(10).toISOString()), targets: ['slack'] });
        const a = await store.claimDeliveries({ owner: 'A', limit: 1, leaseMs: 1_000, now: at(100) });
        expect(a.map((d) => d.event.id)).toEqual(['ev-1']); // oldest due first
        const b = await store.claimDeliveries({ owner: 'B', limit: 10, leaseMs: 1_000, now: at(200) });
        expect(b.map((d) => d.event.id)).toEqual(['ev-2']);
        expect(await store.claimDeliveries({ owner: 'B', limit: 10, leaseMs: 1_000, now: at(500) })).toEqual([]);
        // A died: its lease runs out and B may take ev-1 over.
        const again = await store.claimDeliveries({ owner: 'B', limit: 10, leaseMs: 1_000, now: at(1_101) });
        expect(again.map((d) => d.event.id)).toEqual(['ev-1']);
        // A, no longer the owner, cannot complete it.
        await store.completeDelivery({ eventId: 'ev-1', target: 'slack', owner: 'A' });
        expect(await store.outboxDepth()).toBe(2);
        await store.completeDelivery({ eventId: 'ev-1', target: 'slack', owner: 'B' });
        await store.completeDelivery({ eventId: 'ev-2', target: 'slack', owner: 'B' });
        expect(await store.outboxDepth()).toBe(0);
        expect(await store.claimDeliveries({ owner: 'C', limit: 10, leaseMs: 1_000, now: at(100_000) })).toEqual([]);
        // Delivered events stay known: enqueueing one again is still a no-op.
        await store.enqueueEvent({ event: sampleEvent('ev-1', t0.toISOString()), targets: ['slack'] });
        expect(await store.outboxDepth()).toBe(0);
      });

      it('hands out disjoint deliveries to concurrent claimers', async () => {
        for (let i = 0; i < 6; i++) await store.enqueueEvent({ event: sampleEvent(`ev-${i}`, at(i).toISOString()), targets: ['t1', 't2'] });
        const results = await Promise.all(['A', 'B', 'C'].map((owner) => store.claimDeliveries({ owner, limit: 5, leaseMs: 60_000, now: at(1_000) })));
        const keys = results.flat().map((d) => `${d.event.id}/${d.target}`);
        expect(keys).toHaveLength(12);
        expect(new Set(keys).size).toBe(12);
      });

      it('records a failure, retries at nextAttemptAt, and releases the claim', async () => {
        await store.enqueueEvent({ event: sampleEvent('ev-1', t0.toISOString()), targets: ['hook'] });
        await store.claimDeliveries({ owner: 'A', limit: 10, leaseMs: 60_000, now: at(1) });
        await store.failDelivery({ eventId: 'ev-1', target: 'hook', owner: 'B', error: 'not mine', nextAttemptAt: at(2) }); // no-op
        await store.failDelivery({ eventId: 'ev-1', target: 'hook', owner: 'A', error: 'ECONNREFUSED', nextAttemptAt: at(30_000) });
        expect(await store.outboxDepth()).toBe(1);
        expect(await store.claimDeliveries({ owner: 'A', limit: 10, leaseMs: 60_000, now: at(29_999) })).toEqual([]);
        const retry = await store.claimDeliveries({ owner: 'B', limit: 10, leaseMs: 60_000, now: at(30_000) });
        expect(retry).toHaveLength(1);
        expect(retry[0]).toMatchObject({ target: 'hook', attempts: 1, lastError: 'ECONNREFUSED', nextAttemptAt: at(30_000).toISOString() });
        await store.completeDelivery({ eventId: 'ev-1', target: 'hook', owner: 'B' });
        expect(await store.outboxDepth()).toBe(0);
      });

      it('completes one target of an event without touching the others', async () => {
        await store.enqueueEvent({ event: sampleEvent('ev-1', t0.toISOString()), targets: ['a', 'b'] });
        await store.claimDeliveries({ owner: 'W', limit: 10, leaseMs: 60_000, now: at(1) });
        await store.completeDelivery({ eventId: 'ev-1', target: 'a', owner: 'W' });
        expect(await store.outboxDepth()).toBe(1);
        await store.failDelivery({ eventId: 'ev-1', target: 'b', owner: 'W', error: 'HTTP 500', nextAttemptAt: at(5) });
        expect((await store.claimDeliveries({ owner: 'W', limit: 10, leaseMs: 60_000, now: at(10) })).map((d) => d.target)).toEqual(['b']);
      });

      it('ignores completion of unknown deliveries', async () => {
        await store.completeDelivery({ eventId: 'nope', target: 'x', owner: 'A' });
        await store.failDelivery({ eventId: 'nope', target: 'x', owner: 'A', error: 'e', nextAttemptAt: at(1) });
        expect(await store.outboxDepth()).toBe(0);
      });
    });

    describe('analysis leases (optional API)', () => {
      it('gives a lease to one owner until it expires or is released', async () => {
        if (!store.acquireLease || !store.releaseLease) return;
        const t = new Date('2026-04-01T00:00:00Z');
        const later = (ms: number): Date => new Date(t.getTime() + ms);
        const key = 'left-pad@1.3.0 sha512-abc';
        expect(await store.acquireLease({ key, owner: 'A', ttlMs: 1_000, now: t })).toBe(true);
        expect(await store.acquireLease({ key, owner: 'B', ttlMs: 1_000, now: later(10) })).toBe(false);
        expect(await store.acquireLease({ key, owner: 'A', ttlMs: 1_000, now: later(500) })).toBe(true); // renewal
        expect(await store.acquireLease({ key, owner: 'B', ttlMs: 1_000, now: later(1_400) })).toBe(false);
        expect(await store.acquireLease({ key, owner: 'B', ttlMs: 1_000, now: later(1_501) })).toBe(true); // A died
        await store.releaseLease({ key, owner: 'A' }); // not A's any more: no-op
        expect(await store.acquireLease({ key, owner: 'C', ttlMs: 1_000, now: later(1_600) })).toBe(false);
        await store.releaseLease({ key, owner: 'B' });
        expect(await store.acquireLease({ key, owner: 'C', ttlMs: 1_000, now: later(1_600) })).toBe(true);
        expect(await store.acquireLease({ key: 'other', owner: 'B', ttlMs: 1_000, now: later(1_600) })).toBe(true);
      });

      it('lets exactly one of many concurrent callers take a lease', async () => {
        if (!store.acquireLease) return;
        const acquire = store.acquireLease.bind(store);
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => acquire({ key: 'k', owner: `o${i}`, ttlMs: 60_000 })));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('hands a lease released by its owner to the next caller at once, long before or just before it expires', async () => {
        if (!store.acquireLease || !store.releaseLease) return;
        // The real clock (no `now`): a store may treat a release differently by the lifetime left.
        expect(await store.acquireLease({ key: 'long', owner: 'A', ttlMs: 60_000 })).toBe(true);
        expect(await store.acquireLease({ key: 'long', owner: 'B', ttlMs: 60_000 })).toBe(false);
        await store.releaseLease({ key: 'long', owner: 'B' }); // not B's: no-op
        expect(await store.acquireLease({ key: 'long', owner: 'C', ttlMs: 60_000 })).toBe(false);
        await store.releaseLease({ key: 'long', owner: 'A' });
        expect(await store.acquireLease({ key: 'long', owner: 'B', ttlMs: 60_000 })).toBe(true);
        // Under two seconds left. Asking at a given `now` keeps it unexpired however slow the machine.
        const t0 = Date.now();
        expect(await store.acquireLease({ key: 'short', owner: 'A', ttlMs: 1_900, now: new Date(t0) })).toBe(true);
        await store.releaseLease({ key: 'short', owner: 'C' }); // not C's: no-op
        expect(await store.acquireLease({ key: 'short', owner: 'B', ttlMs: 60_000, now: new Date(t0 + 10) })).toBe(false);
        await store.releaseLease({ key: 'short', owner: 'A' });
        expect(await store.acquireLease({ key: 'short', owner: 'B', ttlMs: 60_000, now: new Date(t0 + 20) })).toBe(true);
      });
    });
  });
}
