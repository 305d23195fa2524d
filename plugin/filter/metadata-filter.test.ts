import { DecisionIndex } from './decision-index';
import { MetadataFilter, newestUndecided } from './metadata-filter';
import { unfilteredOf, unfilteredSource } from './bypass';
import type { DecisionRecord, PolicyStore, VersionState } from '../../policy-store/store';

const INTEGRITY = (v: string): string => `sha512-${Buffer.from(v.padEnd(64, '.')).toString('base64')}`;
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function packument(versions: string[], latest: string): { name: string; versions: Record<string, unknown>; 'dist-tags': Record<string, string>; time: Record<string, string> } {
  return {
    name: 'pkg',
    versions: Object.fromEntries(versions.map((v) => [v, { name: 'pkg', version: v, dist: { tarball: `http://x/pkg/-/pkg-${v}.tgz`, integrity: INTEGRITY(v) } }])),
    'dist-tags': { latest },
    time: Object.fromEntries(versions.map((v) => [v, '2026-01-01T00:00:00.000Z'])),
  };
}

class FakeStore {
  records: Pick<DecisionRecord, 'version' | 'state' | 'integrity' | 'rulesVersion'>[] = [];
  calls = 0;
  failing = false;
  async listDecisions(): Promise<DecisionRecord[]> {
    this.calls++;
    if (this.failing) throw new Error('store down');
    return this.records as DecisionRecord[];
  }
  set(version: string, state: VersionState, rulesVersion = 'r1'): void {
    this.records = [...this.records.filter((r) => r.version !== version), { version, state, integrity: INTEGRITY(version), rulesVersion }];
  }
}

function setup(mode: 'enforce' | 'monitor' = 'enforce'): { store: FakeStore; index: DecisionIndex; filter: MetadataFilter; undecided: string[][] } {
  const store = new FakeStore();
  const index = new DecisionIndex(store as unknown as Pick<PolicyStore, 'listDecisions'>, 100);
  const undecided: string[][] = [];
  const filter = new MetadataFilter({ index, mode, rulesVersion: 'r1', maxBackgroundVersions: 3, onUndecided: (_n, _p, v) => undecided.push([...v]), logger });
  return { store, index, filter, undecided };
}

describe('MetadataFilter', () => {
  it('returns the very object for a package no decision touches, and asks the store once', async () => {
    const { store, filter } = setup();
    const p = packument(['1.0.0', '1.1.0'], '1.1.0');
    expect(await filter.filterMetadata(p)).toBe(p);
    expect(await filter.filterMetadata(p)).toBe(p);
    expect(store.calls).toBe(1);
  });

  it('hides held and denied versions and repoints latest; approval shows them again once invalidated', async () => {
    const { store, index, filter } = setup();
    store.set('1.0.0', 'allowed');
    store.set('1.1.0', 'held');
    store.set('1.2.0', 'denied');
    const p = packument(['1.0.0', '1.1.0', '1.2.0'], '1.2.0');
    const out = await filter.filterMetadata(p);
    expect(Object.keys(out.versions)).toEqual(['1.0.0']);
    expect(out['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(Object.keys(out.time)).toEqual(['1.0.0']);
    store.set('1.1.0', 'approved');
    index.invalidate('pkg');
    const again = await filter.filterMetadata(p);
    expect(Object.keys(again.versions)).toEqual(['1.0.0', '1.1.0']);
    expect(again['dist-tags']).toEqual({ latest: '1.1.0' });
  });

  it('does not hide a decision made on other bytes or (when automatic) under other rules', async () => {
    const { store, filter } = setup();
    store.records = [
      { version: '1.1.0', state: 'held', integrity: INTEGRITY('other'), rulesVersion: 'r1' },
      { version: '1.2.0', state: 'held', integrity: INTEGRITY('1.2.0'), rulesVersion: 'r0' },
    ];
    const p = packument(['1.0.0', '1.1.0', '1.2.0'], '1.2.0');
    expect(await filter.filterMetadata(p)).toBe(p);
  });

  it('keeps the unfiltered packument for the gate (never serialised), and hides nothing in monitor mode', async () => {
    const enforce = setup();
    enforce.store.set('1.1.0', 'held');
    const p = packument(['1.0.0', '1.1.0'], '1.1.0');
    const out = await enforce.filter.filterMetadata(p);
    expect(Object.keys(out.versions)).toEqual(['1.0.0']);
    expect(unfilteredOf(out)).toBe(p);
    expect(unfilteredOf(p)).toBe(p);
    expect(JSON.stringify(out)).not.toContain('1.1.0');
    expect(unfilteredOf({ ...out })).not.toBe(p);
    const monitor = setup('monitor');
    monitor.store.set('1.1.0', 'held');
    expect(await monitor.filter.filterMetadata(p)).toBe(p);
  });

  it('serves the packument unchanged when the store fails (the tarball gate still decides)', async () => {
    const { store, filter } = setup();
    store.failing = true;
    const p = packument(['1.0.0'], '1.0.0');
    expect(await filter.filterMetadata(p)).toBe(p);
  });

  it('asks for background analysis of the newest undecided versions only, once per state', async () => {
    const { store, filter, undecided } = setup();
    store.set('1.1.0', 'allowed');
    const p = packument(['1.0.0', '1.1.0', '1.2.0', '1.3.0', '2.0.0-beta.1', '1.4.0', '1.5.0'], '1.5.0');
    await filter.filterMetadata(p);
    await filter.filterMetadata(p);
    expect(undecided).toEqual([['1.5.0', '1.4.0', '1.3.0']]);
  });
});

describe('newestUndecided', () => {
  it('keeps the newest `max` among versions newer than the newest decided one, with tagged prereleases', () => {
    const p = { ...packument(['1.0.0', '1.1.0', '2.0.0-rc.1', '0.9.0'], '1.1.0'), 'dist-tags': { latest: '1.1.0', next: '2.0.0-rc.1' } };
    expect(newestUndecided(p, new Map(), 'r1', 2)).toEqual(['2.0.0-rc.1', '1.1.0']);
    const decided = new Map([['1.1.0', { state: 'allowed' as const, integrity: INTEGRITY('1.1.0'), rulesVersion: 'r1' }]]);
    expect(newestUndecided(p, decided, 'r1', 5)).toEqual(['2.0.0-rc.1']);
  });
});

describe('MetadataFilter and the gate\'s own reads', () => {
  it('starts no background analysis for a packument the gate itself is reading', async () => {
    const { filter, undecided } = setup();
    const p = packument(['1.0.0', '1.1.0'], '1.1.0');
    const source = unfilteredSource({
      getPackument: async () => filter.filterMetadata(p),
      readTarball: async () => Buffer.alloc(0),
    });
    expect(await source.getPackument('pkg', undefined)).toBe(p);
    expect(undecided).toEqual([]);
    await filter.filterMetadata(p);
    expect(undecided).toEqual([['1.1.0', '1.0.0']]);
  });
});
