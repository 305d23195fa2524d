// Tests the cluster facade's small parts: instance ids, the store choice, the test-only delay and
// invalidation fan-out (against the real file store's change notifications).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '../../policy-store/file-store';
import { sampleDecision } from '../../policy-store/store.contract';
import type { PackagePolicy } from '../../analyzer/types';
import { delayedForTests, instanceIdOf, ownerIdOf, selectedStoreType, subscribeInvalidation } from '.';

describe('instance ids', () => {
  it('prefers the config, then CAPGATE_INSTANCE_ID, then host:pid; owners are unique per call', () => {
    expect(instanceIdOf('gate-a', { CAPGATE_INSTANCE_ID: 'env' })).toBe('gate-a');
    expect(instanceIdOf(null, { CAPGATE_INSTANCE_ID: 'env' })).toBe('env');
    expect(instanceIdOf(null, {})).toBe(`${os.hostname()}:${process.pid}`);
    expect(ownerIdOf('gate-a')).toMatch(/^gate-a\/[0-9a-f]{8}$/);
    expect(ownerIdOf('gate-a')).not.toBe(ownerIdOf('gate-a'));
  });
});

describe('selectedStoreType', () => {
  it('keeps the config unless CAPGATE_STORE says otherwise; DATABASE_URL alone switches nothing', () => {
    expect(selectedStoreType('file', { DATABASE_URL: 'postgres://x' })).toBe('file');
    expect(selectedStoreType('file', { CAPGATE_STORE: 'postgres' })).toBe('postgres');
    expect(selectedStoreType('postgres', { CAPGATE_STORE: 'file' })).toBe('file');
    expect(() => selectedStoreType('file', { CAPGATE_STORE: 'mysql' })).toThrow(/CAPGATE_STORE: expected "file" or "postgres"/);
  });
});

describe('delayedForTests', () => {
  const policy = { name: 'p' } as unknown as PackagePolicy;
  const analyzer = { analyze: async () => policy };
  it('is ignored unless NODE_ENV is test, and for values that are not milliseconds', () => {
    const warnings: string[] = [];
    const logger = { warn: (_o: object, m: string) => void warnings.push(m) };
    expect(delayedForTests(analyzer, { CAPGATE_TEST_ANALYSIS_DELAY_MS: '50', NODE_ENV: 'production' }, logger)).toBe(analyzer);
    expect(delayedForTests(analyzer, { CAPGATE_TEST_ANALYSIS_DELAY_MS: 'soon', NODE_ENV: 'test' }, logger)).toBe(analyzer);
    expect(delayedForTests(analyzer, { NODE_ENV: 'test' }, logger)).toBe(analyzer);
    expect(warnings).toHaveLength(2);
  });
  it('delays every analysis under NODE_ENV=test', async () => {
    const slowed = delayedForTests(analyzer, { CAPGATE_TEST_ANALYSIS_DELAY_MS: '1', NODE_ENV: 'test' });
    expect(slowed).not.toBe(analyzer);
    await expect(slowed.analyze(new Uint8Array())).resolves.toBe(policy);
  });
});

describe('subscribeInvalidation', () => {
  it('drops the version from every cache when another process (a second store on the folder) changes a decision', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-invalidate-'));
    const mine = new FileStore({ dir });
    const theirs = new FileStore({ dir });
    await mine.init();
    await theirs.init();
    const seen: string[] = [];
    let counted = 0;
    const unsubscribe = subscribeInvalidation({
      store: mine,
      targets: [
        () => {
          throw new Error('a broken cache');
        },
        (name, version) => void seen.push(`${name}@${version}`),
      ],
      onInvalidated: () => void counted++,
      logger: { warn: () => undefined, debug: () => undefined },
    });
    try {
      await theirs.setDecision({ record: sampleDecision('left-pad', '1.3.0', 'approved') });
      for (let i = 0; i < 200 && !seen.includes('left-pad@1.3.0'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(seen).toContain('left-pad@1.3.0');
      expect(counted).toBeGreaterThanOrEqual(1);
    } finally {
      unsubscribe();
      await mine.close();
      await theirs.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('is a no-op for a store that reports no changes', () => {
    const unsubscribe = subscribeInvalidation({ store: {}, targets: [() => undefined] });
    expect(() => unsubscribe()).not.toThrow();
  });
});

describe('plugin config of the cluster, reviewers and alerts blocks', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- keep this file's imports to the cluster facade
  const { parseConfig } = require('../config') as typeof import('../config');
  it('defaults, and reads cluster, reviewers (plus CAPGATE_REVIEWERS) and alert targets', () => {
    const d = parseConfig(undefined, {});
    expect(d.cluster).toEqual({ instanceId: null, leaseTtlMs: 15_000, cacheTtlMs: 60_000 });
    expect(d.metrics).toBe(true);
    expect(d.alerts.targets).toEqual([]);
    const c = parseConfig(
      {
        publicUrl: 'https://npm.example.internal',
        cluster: { instanceId: 'gate-a', leaseTtlMs: 3000, cacheTtlMs: 5000 },
        reviewers: { users: ['alice'] },
        alerts: { targets: [{ id: 'siem', kind: 'json', url: 'http://127.0.0.1:9/hook' }] },
        metrics: false,
      },
      { CAPGATE_REVIEWERS: 'bob' },
    );
    expect(c.cluster).toEqual({ instanceId: 'gate-a', leaseTtlMs: 3000, cacheTtlMs: 5000 });
    expect(c.reviewers.users).toEqual(['alice', 'bob']);
    expect(c.alerts.publicUrl).toBe('https://npm.example.internal');
    expect(c.alerts.targets.map((t) => t.id)).toEqual(['siem']);
    expect(c.metrics).toBe(false);
  });
  it('reports every problem at once', () => {
    expect(() =>
      parseConfig({ cluster: { leaseTtlMs: 5, instanceId: 'has space', x: 1 }, reviewers: { groups: ['$all'] }, alerts: { targets: [{ id: 'bad id', url: 'ftp://x' }] }, metrics: 'yes' }, {}),
    ).toThrow(/cluster\.x[\s\S]*instanceId[\s\S]*leaseTtlMs[\s\S]*metrics[\s\S]*\$all[\s\S]*capgate\.alerts\.targets\[0\]/);
  });
});
