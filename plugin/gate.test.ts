import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { manifestOf } from '../analyzer';
import { diffPolicies } from '../analyzer/diff';
import { DEFAULT_TIERS } from '../analyzer/types';
import type { CapabilityId, PackagePolicy, PolicyDiff } from '../analyzer/types';
import { FileStore } from '../policy-store/file-store';
import { integrityOf, makePackage } from '../test-support/make-package';
import { parseConfig } from './config';
import type { PluginConfig } from './config';
import { GateError } from './errors';
import { Gate } from './gate';
import type { DiffFn, GateLogger, RegistrySource, TarballAnalyzer } from './gate';

/**
 * Stand-ins at the edges only: the registry (an in-memory packument + tarballs), the analyzer
 * (reads the capabilities a fixture declares in package.json, so the test controls them) and the
 * diff (plain set difference with the default tiers). The store is the real file store.
 */
const CAPS_FIELD = 'x-test-capabilities';

class MemoryRegistry implements RegistrySource {
  readonly packuments = new Map<string, { name: string; versions: Record<string, unknown> }>();
  readonly tarballs = new Map<string, Buffer>();
  reads = 0;
  readsOf = new Map<string, number>();
  packumentFailure: GateError | null = null;

  async add(
    name: string,
    version: string,
    caps: CapabilityId[],
    opts: { integrity?: string | null; bytes?: Buffer; manifestName?: string; dependencies?: Record<string, string> } = {},
  ): Promise<Buffer> {
    const manifest = { name: opts.manifestName ?? name, version, [CAPS_FIELD]: caps, ...(opts.dependencies === undefined ? {} : { dependencies: opts.dependencies }) };
    const bytes = opts.bytes ?? (await makePackage(manifest));
    const file = `${name.split('/').pop() ?? name}-${version}.tgz`;
    const p = this.packuments.get(name) ?? { name, versions: {} };
    const integrity = opts.integrity === undefined ? integrityOf(bytes) : opts.integrity;
    p.versions[version] = { name, version, dist: { tarball: `http://upstream.test/${name}/-/${file}`, ...(integrity === null ? {} : { integrity }) } };
    this.packuments.set(name, p);
    this.tarballs.set(`${name}/${file}`, bytes);
    return bytes;
  }

  async getPackument(name: string): Promise<unknown> {
    if (this.packumentFailure !== null) throw this.packumentFailure;
    const p = this.packuments.get(name);
    if (p === undefined) throw new GateError('CAPGATE_NOT_FOUND', 'nope');
    return JSON.parse(JSON.stringify(p)) as unknown;
  }

  async readTarball(name: string, filename: string): Promise<Buffer> {
    this.reads++;
    this.readsOf.set(filename, (this.readsOf.get(filename) ?? 0) + 1);
    const b = this.tarballs.get(`${name}/${filename}`);
    if (b === undefined) throw new GateError('CAPGATE_NOT_FOUND', 'no tarball');
    return b;
  }
}

class DeclaredCapsAnalyzer implements TarballAnalyzer {
  calls = 0;
  gate: Promise<void> = Promise.resolve();
  /** What each call was for: name@version and whether it was a background job. */
  readonly jobs: { id: string; background: boolean }[] = [];
  /** Held analyses by name@version (released by resolving). */
  readonly holds = new Map<string, Promise<void>>();
  /** The live priority object of each background job, by name@version. */
  readonly priorities = new Map<string, { readonly background: boolean }>();
  pokes = 0;
  poke(): void {
    this.pokes++;
  }
  async analyze(bytes: Uint8Array, opts?: { background?: boolean | { readonly background: boolean } }): Promise<PackagePolicy> {
    this.calls++;
    await this.gate;
    let manifest: Record<string, unknown>;
    try {
      const tar = gunzipSync(bytes);
      const size = parseInt(tar.subarray(124, 136).toString('ascii').trim(), 8);
      manifest = JSON.parse(tar.subarray(512, 512 + size).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw Object.assign(new Error('corrupt archive'), { code: 'CAPGATE_ARCHIVE_CORRUPT', cause: e });
    }
    const caps = (manifest[CAPS_FIELD] as CapabilityId[]).slice().sort();
    const id = `${String(manifest['name'])}@${String(manifest['version'])}`;
    const bg = opts?.background;
    this.jobs.push({ id, background: typeof bg === 'object' ? bg.background : bg === true });
    if (typeof bg === 'object') this.priorities.set(id, bg);
    await this.holds.get(id);
    return {
      schema: 1,
      rulesVersion: 'r1',
      name: String(manifest['name']),
      version: String(manifest['version']),
      capabilities: caps,
      evidence: Object.fromEntries(caps.map((c) => [c, [{ file: 'index.js', line: 2, column: 0, api: c, snippet: c }]])),
      keypaths: [],
      hosts: [],
      dependencies: (manifest['dependencies'] as Record<string, string> | undefined) ?? {},
      installScripts: {},
      findings: [],
      stats: { files: 1, jsFiles: 0, bytes: bytes.length },
    };
  }
}

const setDiff: DiffFn = (baseline, next, opts) => {
  const approved = new Set(opts?.approvedCapabilities ?? []);
  const before = new Set(baseline?.capabilities ?? []);
  const gained = next.capabilities.filter((c) => !before.has(c) && !approved.has(c));
  const tier = (c: CapabilityId) => opts?.tiers?.[c] ?? DEFAULT_TIERS[c];
  let decision: PolicyDiff['decision'] = gained.some((c) => tier(c) === 'block') ? 'block' : gained.length > 0 ? 'flag' : 'allow';
  if (baseline === null) decision = opts?.newPackage === 'block' && decision !== 'allow' ? 'block' : decision === 'allow' ? 'allow' : 'flag';
  return {
    gained,
    lost: (baseline?.capabilities ?? []).filter((c) => !next.capabilities.includes(c)),
    decision,
    evidence: Object.fromEntries(gained.map((c) => [c, next.evidence[c] ?? []])),
    baseline: baseline?.version ?? null,
    details: { newKeypaths: [], newHosts: [], newDependencies: [], changedInstallScripts: [] },
  };
};

const quiet: GateLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe('Gate', () => {
  let dir: string;
  let store: FileStore;
  let registry: MemoryRegistry;
  let analyzer: DeclaredCapsAnalyzer;

  const gate = (config: Partial<Record<string, unknown>> = {}, rulesVersion = 'r1'): Gate =>
    new Gate({ config: parseConfig(config) as PluginConfig, store, registry, analyzer, diff: setDiff, rulesVersion, logger: quiet });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-gate-'));
    store = new FileStore({ dir });
    await store.init();
    registry = new MemoryRegistry();
    analyzer = new DeclaredCapsAnalyzer();
  });

  afterEach(async () => {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The recorded decision once the gate has none in progress for (name, version). */
  const recorded = async (g: Gate, name: string, version: string): Promise<unknown> => {
    await g.settled(name, version, 10_000);
    return store.getDecision({ name, version });
  };

  it('serves exactly the analyzed bytes of a benign update and records it', async () => {
    await registry.add('p', '1.0.0', []);
    const bytes = await registry.add('p', '1.1.0', ['fs-read']);
    const g = gate();
    const out = await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(out.kind).toBe('serve');
    if (out.kind !== 'serve') return;
    expect(out.bytes.equals(bytes)).toBe(true);
    // Nothing of the block tier: served once analysed, decided (against the baseline) right after.
    expect(out).toMatchObject({ pending: true, record: null });
    expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'flagged', baseline: '1.0.0', automatic: 'flag' });
    // the never-seen 1.0.0 was trusted on first use: its policy is stored, no decision for it
    expect(await store.getPolicy({ name: 'p', version: '1.0.0' })).not.toBeNull();
    expect(await store.getDecision({ name: 'p', version: '1.0.0' })).toBeNull();
  });

  it('names but does not analyse the baseline of a version that can gain nothing', async () => {
    await registry.add('p', '1.0.0', ['network']);
    await registry.add('p', '1.1.0', []);
    const g = gate();
    const out = await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    // It can never be refused: served at once, decided (allowed) right after.
    expect(out).toMatchObject({ kind: 'serve', pending: true, record: null });
    expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'allowed', baseline: '1.0.0', diff: { gained: [] } });
    expect(analyzer.calls).toBe(1);
    expect(await store.getPolicy({ name: 'p', version: '1.0.0' })).toBeNull();
  });

  it('holds an update that gains a block-tier capability, from the store after a restart too', async () => {
    await registry.add('p', '1.0.0', []);
    await registry.add('p', '1.1.0', ['child-process']);
    const out = await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(out).toMatchObject({ kind: 'refuse', version: '1.1.0', record: { state: 'held', baseline: '1.0.0', diff: { gained: ['child-process'] } } });
    const calls = analyzer.calls;
    const again = await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(again.kind).toBe('refuse');
    expect(analyzer.calls).toBe(calls);
  });

  it('answers a known decision without reading the packument again', async () => {
    await registry.add('p', '1.0.0', []);
    const g = gate();
    expect((await g.checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' })).kind).toBe('serve');
    await g.settled('p', '1.0.0', 10_000);
    registry.packumentFailure = new GateError('CAPGATE_UPSTREAM_UNAVAILABLE', 'uplink down');
    const again = await g.checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' });
    expect(again).toMatchObject({ kind: 'serve', record: { state: 'allowed' } });
    // a gate that never saw the packument must still read it
    await expect(gate().checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_UPSTREAM_UNAVAILABLE' });
  });

  it('reads the never-seen baseline while the new version is analysed, once', async () => {
    await registry.add('p', '1.0.0', []);
    await registry.add('p', '1.1.0', ['fs-read']);
    let release!: () => void;
    analyzer.gate = new Promise((r) => (release = r));
    const g = gate();
    const pending = g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    await new Promise((r) => setTimeout(r, 20));
    // Only the new version is being analysed, and the baseline's bytes are already here.
    expect(analyzer.calls).toBe(1);
    expect(registry.readsOf.get('p-1.0.0.tgz')).toBe(1);
    release();
    expect(await pending).toMatchObject({ kind: 'serve', pending: true });
    expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'flagged', baseline: '1.0.0' });
    expect(analyzer.calls).toBe(2);
    expect(registry.readsOf.get('p-1.0.0.tgz')).toBe(1);
  });

  it('checks early-read baseline bytes against their integrity like any other', async () => {
    const other = await makePackage({ name: 'p', version: '1.0.0', [CAPS_FIELD]: ['child-process'] });
    await registry.add('p', '1.0.0', [], { integrity: integrityOf(other) });
    await registry.add('p', '1.1.0', ['child-process']);
    const out = await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    // The baseline's bytes do not match its packument: it is not usable, so nothing is a baseline.
    expect(out).toMatchObject({ kind: 'refuse', record: { baseline: null, state: 'held' } });
    expect(await store.getPolicy({ name: 'p', version: '1.0.0' })).toBeNull();
  });

  it('runs one analysis for many concurrent requests', async () => {
    await registry.add('p', '1.0.0', []);
    let release!: () => void;
    analyzer.gate = new Promise((r) => (release = r));
    const g = gate();
    const all = Promise.all(Array.from({ length: 8 }, () => g.checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' })));
    await new Promise((r) => setTimeout(r, 20));
    release();
    const outs = await all;
    expect(outs.every((o) => o.kind === 'serve')).toBe(true);
    expect(analyzer.calls).toBe(1);
  });

  it('skips held and denied versions when picking the baseline', async () => {
    await registry.add('p', '1.0.0', []);
    await registry.add('p', '1.1.0', ['child-process']);
    await registry.add('p', '1.2.0', ['child-process']);
    const g = gate();
    expect((await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).kind).toBe('refuse');
    const out = await g.checkTarball({ name: 'p', filename: 'p-1.2.0.tgz' });
    expect(out).toMatchObject({ kind: 'refuse', record: { baseline: '1.0.0', diff: { gained: ['child-process'] } } });
  });

  it('compares with nothing, not with the lenient new-package policy, when no earlier version is usable', async () => {
    await registry.add('p', '1.0.0', [], { integrity: 'sha512-broken' });
    await registry.add('p', '1.1.0', ['child-process']);
    const out = await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(out).toMatchObject({ kind: 'refuse', record: { baseline: null, state: 'held' } });
  });

  it('flags a brand-new package with block-tier capabilities by default', async () => {
    await registry.add('fresh', '1.0.0', ['network']);
    const out = await gate().checkTarball({ name: 'fresh', filename: 'fresh-1.0.0.tgz' });
    expect(out).toMatchObject({ kind: 'serve', record: { state: 'flagged', baseline: null } });
  });

  it('refuses an integrity mismatch in every mode, and bytes whose package.json is another package', async () => {
    await registry.add('p', '1.0.0', [], { integrity: integrityOf(Buffer.from('something else')) });
    for (const config of [{}, { onError: 'allow' }, { mode: 'monitor' }]) {
      await expect(gate(config).checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_INTEGRITY_MISMATCH' });
    }
    await registry.add('q', '1.0.0', [], { manifestName: 'not-q' });
    await expect(gate().checkTarball({ name: 'q', filename: 'q-1.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_MANIFEST_MISMATCH' });
  });

  it('refuses a corrupt archive unless onError is allow', async () => {
    await registry.add('c', '1.0.0', [], { bytes: Buffer.from('not a tarball at all') });
    await expect(gate().checkTarball({ name: 'c', filename: 'c-1.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_CORRUPT' });
    const open = await gate({ onError: 'allow' }).checkTarball({ name: 'c', filename: 'c-1.0.0.tgz' });
    expect(open).toMatchObject({ kind: 'serve', record: null, failure: { code: 'CAPGATE_ARCHIVE_CORRUPT' } });
    expect(await store.getDecision({ name: 'c', version: '1.0.0' })).toBeNull();
  });

  it('refuses missing integrity unless onError is allow, which analyses the bytes anyway', async () => {
    await registry.add('p', '1.0.0', ['child-process'], { integrity: null });
    await expect(gate().checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_INTEGRITY_MISSING' });
    const out = await gate({ onError: 'allow' }).checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' });
    expect(out).toMatchObject({ kind: 'serve', record: { state: 'flagged' } });
    expect(analyzer.calls).toBe(1);
  });

  it('serves held versions in monitor mode and records what enforce would do', async () => {
    await registry.add('p', '1.0.0', []);
    await registry.add('p', '1.1.0', ['child-process']);
    const g = gate({ mode: 'monitor' });
    const out = await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    // Monitor mode never refuses: served once analysed, before the baseline is.
    expect(out).toMatchObject({ kind: 'serve', pending: true });
    expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'held', mode: 'monitor' });
  });

  it('resolves the version from dist.tarball and refuses unknown files', async () => {
    await registry.add('p', '1.0.0', []);
    await expect(gate().checkTarball({ name: 'p', filename: 'p-2.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_TARBALL_UNKNOWN' });
  });

  it('re-decides automatic decisions made under other rules, but keeps human ones', async () => {
    await registry.add('p', '1.0.0', []);
    await registry.add('p', '1.1.0', ['child-process']);
    const first = await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(first.kind).toBe('refuse');
    const calls = analyzer.calls;
    await gate({}, 'r2').checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(analyzer.calls).toBeGreaterThan(calls);
    const rec = await store.getDecision({ name: 'p', version: '1.1.0' });
    if (rec === null) throw new Error('no decision');
    const { createdAt: _c, updatedAt: _u, ...rest } = rec;
    await store.setDecision({ record: { ...rest, state: 'approved', by: 'alice', reason: 'expected' } });
    const after = await gate({}, 'r3').checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
    expect(after).toMatchObject({ kind: 'serve', record: { state: 'approved' } });
  });

  it('applies scoped approvals in force, not expired ones', async () => {
    await registry.add('p', '1.0.0', []);
    await registry.add('p', '1.1.0', ['child-process']);
    await registry.add('p', '1.2.0', ['child-process', 'network']);
    await store.addScopedApproval({ approval: { name: 'p', range: '^1.0.0', capability: 'child-process', expiresAt: null, by: 'alice', reason: 'build tool' } });
    await store.addScopedApproval({ approval: { name: 'p', range: '*', capability: 'network', expiresAt: '2000-01-01T00:00:00.000Z', by: 'alice', reason: 'old' } });
    expect(await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', record: { state: 'allowed' } });
    expect(await gate().checkTarball({ name: 'p', filename: 'p-1.2.0.tgz' })).toMatchObject({ kind: 'refuse', record: { diff: { gained: ['network'] } } });
  });

  it('applies per-package and per-scope tier overrides on top of the global tiers', async () => {
    for (const name of ['p', '@corp/tool', '@corp/special']) {
      await registry.add(name, '1.0.0', []);
      await registry.add(name, '1.1.0', ['child-process']);
    }
    const config = {
      tiers: { 'child-process': 'block' },
      packageTiers: { p: { 'child-process': 'flag' }, '@corp': { 'child-process': 'flag' }, '@corp/special': { 'child-process': 'block' } },
    };
    const g = gate(config);
    expect(await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: true });
    expect(await g.checkTarball({ name: '@corp/tool', filename: 'tool-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: true });
    expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'flagged' });
    expect(await recorded(g, '@corp/tool', '1.1.0')).toMatchObject({ state: 'flagged' });
    expect(await gate(config).checkTarball({ name: '@corp/special', filename: 'special-1.1.0.tgz' })).toMatchObject({ kind: 'refuse', record: { state: 'held' } });
  });

  it('maps an unreachable store to CAPGATE_STORE_UNAVAILABLE, and onError: allow serves verified bytes', async () => {
    await registry.add('p', '1.0.0', []);
    await store.close();
    await expect(gate().checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' })).rejects.toMatchObject({ code: 'CAPGATE_STORE_UNAVAILABLE' });
    const open = await gate({ onError: 'allow' }).checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' });
    expect(open).toMatchObject({ kind: 'serve', record: null, failure: { code: 'CAPGATE_STORE_UNAVAILABLE' } });
    store = new FileStore({ dir });
    await store.init();
  });
  describe('serving before the decision', () => {
    const hold = (id: string): (() => void) => {
      let release!: () => void;
      analyzer.holds.set(id, new Promise<void>((r) => (release = r)));
      return release;
    };

    it('serves a version with nothing of the block tier while its baseline is analysed in the background', async () => {
      await registry.add('p', '1.0.0', ['fs-read']);
      const bytes = await registry.add('p', '1.1.0', ['fs-read', 'env-read']);
      const releaseBaseline = hold('p@1.0.0');
      const g = gate();
      const out = await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
      expect(out).toMatchObject({ kind: 'serve', pending: true, record: null });
      if (out.kind === 'serve') expect(out.bytes.equals(bytes)).toBe(true);
      // Served while the baseline's analysis is still held, which went to the pool as background work.
      for (let i = 0; i < 100 && analyzer.jobs.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(analyzer.jobs).toEqual([
        { id: 'p@1.1.0', background: false },
        { id: 'p@1.0.0', background: true },
      ]);
      expect(await store.getDecision({ name: 'p', version: '1.1.0' })).toBeNull();
      releaseBaseline();
      expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'flagged', baseline: '1.0.0', diff: { gained: ['env-read'] } });
      // Known now: the next request answers from the decision.
      expect(await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: false, record: { state: 'flagged' } });
    });

    it('raises a background baseline job to foreground when a request comes to wait on it', async () => {
      await registry.add('p', '1.0.0', ['fs-read']);
      await registry.add('p', '1.1.0', ['fs-read']);
      const releaseBaseline = hold('p@1.0.0');
      const g = gate();
      expect(await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ pending: true });
      for (let i = 0; i < 100 && !analyzer.priorities.has('p@1.0.0'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(analyzer.priorities.get('p@1.0.0')).toEqual({ background: true });
      // The install also asks for 1.0.0 itself: its request now waits on that job.
      const old = g.checkTarball({ name: 'p', filename: 'p-1.0.0.tgz' });
      for (let i = 0; i < 100 && analyzer.pokes === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(analyzer.priorities.get('p@1.0.0')).toEqual({ background: false });
      expect(analyzer.pokes).toBe(1);
      releaseBaseline();
      expect(await old).toMatchObject({ kind: 'serve' });
      // One analysis of 1.0.0 for both needs.
      expect(analyzer.jobs.filter((j) => j.id === 'p@1.0.0')).toHaveLength(1);
    });

    it('waits for the baseline when the version has a block-tier capability (enforce)', async () => {
      await registry.add('p', '1.0.0', ['network']);
      await registry.add('p', '1.1.0', ['network']);
      const releaseBaseline = hold('p@1.0.0');
      const out = gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
      const early = await Promise.race([out, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
      expect(early).toBe('waiting');
      expect(analyzer.jobs).toEqual([
        { id: 'p@1.1.0', background: false },
        { id: 'p@1.0.0', background: false },
      ]);
      releaseBaseline();
      expect(await out).toMatchObject({ kind: 'serve', pending: false, record: { state: 'allowed', baseline: '1.0.0' } });
    });

    it('waits when a tier override makes one of its capabilities block for this package', async () => {
      await registry.add('p', '1.0.0', []);
      await registry.add('p', '1.1.0', ['fs-read']);
      const out = await gate({ packageTiers: { p: { 'fs-read': 'block' } } }).checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
      expect(out).toMatchObject({ kind: 'refuse', record: { state: 'held', diff: { gained: ['fs-read'] } } });
    });

    it('waits when the version has dependencies (what they pass on depends on the baseline)', async () => {
      await registry.add('dep', '1.0.0', ['child-process']);
      await registry.add('p', '1.0.0', ['fs-read']);
      await registry.add('p', '1.1.0', ['fs-read'], { dependencies: { dep: '^1.0.0' } });
      // The real diff (inherited capabilities of new dependencies), not the set difference stand-in.
      const g = new Gate({ config: parseConfig({}) as PluginConfig, store, registry, analyzer, diff: diffPolicies, rulesVersion: 'r1', logger: quiet });
      const out = await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
      // The new dependency can spawn processes: held, which serving early would have missed.
      expect(out).toMatchObject({ kind: 'refuse', record: { state: 'held', diff: { gained: ['child-process'] } } });
      expect(analyzer.jobs.every((j) => !j.background)).toBe(true);
    });

    describe('dependencies the same as the baseline declares (enforce)', () => {
      const withManifests = (read = true): Gate =>
        new Gate({
          config: parseConfig({}) as PluginConfig,
          store,
          registry,
          analyzer,
          diff: diffPolicies,
          rulesVersion: 'r1',
          logger: quiet,
          ...(read ? { manifestOf: (bytes: Buffer) => manifestOf(bytes) } : {}),
        });
      const waiting = async (out: Promise<unknown>): Promise<unknown> => Promise.race([out, new Promise((r) => setTimeout(() => r('waiting'), 100))]);

      beforeEach(async () => {
        await registry.add('dep', '1.0.0', ['child-process']);
        await registry.add('dep', '1.1.0', ['child-process']);
        await registry.add('p', '1.0.0', ['fs-read'], { dependencies: { dep: '^1.0.0' } });
      });

      it('serves the version before its baseline is analysed, then decides against that baseline', async () => {
        await registry.add('p', '1.1.0', ['fs-read', 'env-read'], { dependencies: { dep: '^1.0.0' } });
        const releaseBaseline = hold('p@1.0.0');
        const g = withManifests();
        expect(await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: true, record: null });
        for (let i = 0; i < 100 && analyzer.jobs.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
        expect(analyzer.jobs).toEqual([
          { id: 'p@1.1.0', background: false },
          { id: 'p@1.0.0', background: true },
        ]);
        releaseBaseline();
        expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'flagged', baseline: '1.0.0', diff: { gained: ['env-read'] } });
        // Nothing of the dependency was analysed: it is not new.
        expect(analyzer.jobs.map((j) => j.id)).toEqual(['p@1.1.0', 'p@1.0.0']);
      });

      it('serves early when a changed range resolves to the same version as before', async () => {
        // ^1.0.0 and ^1.1.0 both pick dep@1.1.0: nothing is passed on.
        await registry.add('p', '1.1.0', ['fs-read'], { dependencies: { dep: '^1.1.0' } });
        const releaseBaseline = hold('p@1.0.0');
        const g = withManifests();
        expect(await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: true });
        releaseBaseline();
        expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'allowed', baseline: '1.0.0', diff: { gained: [] } });
      });

      it.each([
        ['a dependency is new', { dep: '^1.0.0', other: '^1.0.0' }],
        ['a changed range resolves to another version', { dep: '~1.0.0' }],
      ])('waits when %s', async (_what, dependencies) => {
        await registry.add('p', '1.1.0', ['fs-read'], { dependencies });
        const releaseBaseline = hold('p@1.0.0');
        const out = withManifests().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
        expect(await waiting(out)).toBe('waiting');
        releaseBaseline();
        expect(await out).toMatchObject({ kind: 'serve', pending: false });
      });

      it('waits without a manifest reader', async () => {
        await registry.add('p', '1.1.0', ['fs-read'], { dependencies: { dep: '^1.0.0' } });
        const releaseBaseline = hold('p@1.0.0');
        const out = withManifests(false).checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
        expect(await waiting(out)).toBe('waiting');
        releaseBaseline();
        expect(await out).toMatchObject({ kind: 'serve', pending: false, record: { state: 'allowed', baseline: '1.0.0' } });
      });

      it('waits when a block-tier capability is there anyway', async () => {
        await registry.add('p', '1.1.0', ['fs-read', 'network'], { dependencies: { dep: '^1.0.0' } });
        const out = withManifests().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' });
        expect(await out).toMatchObject({ kind: 'refuse', record: { state: 'held', diff: { gained: ['network'] } } });
      });

      it("decides against the baseline's declared dependencies when its code cannot be analysed", async () => {
        await registry.add('p', '1.1.0', ['fs-read'], { dependencies: { dep: '^1.0.0' } });
        const broken = Promise.reject(Object.assign(new Error('worker died'), { code: 'CAPGATE_ANALYSIS_FAILED' }));
        broken.catch(() => undefined);
        analyzer.holds.set('p@1.0.0', broken);
        const g = withManifests();
        expect(await g.checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: true });
        // Served against 1.0.0's dependencies: kept as the baseline, its capabilities unknown (none),
        // so all of 1.1.0's count as gained, and nothing of the dependency (not new).
        expect(await recorded(g, 'p', '1.1.0')).toMatchObject({ state: 'flagged', baseline: '1.0.0', diff: { gained: ['fs-read'] } });
      });
    });

    it('types-only dependencies do not keep a version waiting', async () => {
      await registry.add('p', '1.0.0', []);
      await registry.add('p', '1.1.0', ['fs-read'], { dependencies: { '@types/node': '*' } });
      expect(await gate().checkTarball({ name: 'p', filename: 'p-1.1.0.tgz' })).toMatchObject({ kind: 'serve', pending: true });
    });
  });
});
