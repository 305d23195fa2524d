// Two gates standing for two instances: each with its own store object on one file-store folder
// (as two processes would open it), its own lease coordinator (its own owner), the real analyzer
// and the real diff, and one in-memory registry for both. Counts analyses across both.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeTarball, diffPolicies, RULES_VERSION } from '../../analyzer';
import type { PackagePolicy } from '../../analyzer/types';
import { FileStore } from '../../policy-store/file-store';
import { integrityOf, makePackage } from '../../test-support/make-package';
import { parseConfig } from '../config';
import { GateError } from '../errors';
import { Gate } from '../gate';
import type { GateLogger, RegistrySource, TarballAnalyzer } from '../gate';
import { LeaseCoordinator } from './lease';

class MemoryRegistry implements RegistrySource {
  private readonly packuments = new Map<string, { name: string; versions: Record<string, unknown> }>();
  private readonly tarballs = new Map<string, Buffer>();
  async add(name: string, version: string, index: string, dependencies: Record<string, string> = {}): Promise<void> {
    const bytes = await makePackage({ name, version, main: 'index.js', dependencies }, { 'index.js': index });
    const file = `${name}-${version}.tgz`;
    const p = this.packuments.get(name) ?? { name, versions: {} };
    p.versions[version] = { name, version, dependencies, dist: { tarball: `http://upstream.test/${name}/-/${file}`, integrity: integrityOf(bytes) } };
    this.packuments.set(name, p);
    this.tarballs.set(`${name}/${file}`, bytes);
  }
  async getPackument(name: string): Promise<unknown> {
    const p = this.packuments.get(name);
    if (p === undefined) throw new GateError('CAPGATE_NOT_FOUND', 'no such package');
    return JSON.parse(JSON.stringify(p)) as unknown;
  }
  async readTarball(name: string, filename: string): Promise<Buffer> {
    const b = this.tarballs.get(`${name}/${filename}`);
    if (b === undefined) throw new GateError('CAPGATE_NOT_FOUND', 'no tarball');
    return b;
  }
}

/** The real analyzer, counted, optionally held until released. */
class CountingAnalyzer implements TarballAnalyzer {
  readonly analysed: string[] = [];
  hold: Promise<void> = Promise.resolve();
  started: () => void = () => undefined;
  async analyze(bytes: Uint8Array): Promise<PackagePolicy> {
    const policy = await analyzeTarball(bytes);
    this.analysed.push(`${policy.name}@${policy.version}`);
    this.started();
    await this.hold;
    return policy;
  }
}

const quiet: GateLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const PLAIN = 'module.exports = 1;\n';
const SPAWNS = "require('child_process').execFileSync('id');\n";

let dir: string;
let stores: FileStore[];
let registry: MemoryRegistry;
let analyzer: CountingAnalyzer;

function gate(store: FileStore, owner: string): Gate {
  const coordinator = new LeaseCoordinator({ store, owner, ttlMs: 2000, maxWaitMs: 60_000, pollMinMs: 10, pollMaxMs: 100 });
  return new Gate({ config: parseConfig({}, {}), store, registry, analyzer, diff: diffPolicies, rulesVersion: RULES_VERSION, logger: quiet, coordinator });
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-gate-cluster-'));
  stores = [new FileStore({ dir }), new FileStore({ dir })];
  for (const s of stores) await s.init();
  registry = new MemoryRegistry();
  analyzer = new CountingAnalyzer();
});

afterEach(async () => {
  for (const s of stores) await s.close();
  await fs.rm(dir, { recursive: true, force: true });
});

it('the same new tarball asked of both instances at once is analysed once; both answer the same decision', async () => {
  await registry.add('once', '1.0.0', PLAIN);
  const [a, b] = [gate(stores[0] as FileStore, 'a'), gate(stores[1] as FileStore, 'b')];
  let release!: () => void;
  analyzer.hold = new Promise((r) => (release = r));
  const started = new Promise<void>((r) => (analyzer.started = r));
  const first = a.checkTarball({ name: 'once', filename: 'once-1.0.0.tgz' });
  await started; // a holds the lease and is analysing
  const second = b.checkTarball({ name: 'once', filename: 'once-1.0.0.tgz' });
  release();
  const [ra, rb] = await Promise.all([first, second]);
  expect(analyzer.analysed).toEqual(['once@1.0.0']);
  expect(ra.kind).toBe('serve');
  expect(rb.kind).toBe('serve');
  // A version that can gain nothing is served before its decision is stored (record null,
  // pending); whichever instance answered with a record answered the one decision on record.
  await a.settled('once', '1.0.0', 10_000);
  const stored = await stores[0]?.getDecision({ name: 'once', version: '1.0.0' });
  expect(stored).toMatchObject({ state: 'allowed' });
  for (const r of [ra, rb]) if (r.kind === 'serve' && r.record !== null) expect(r.record).toEqual(stored);
});

it('a version analysed as a baseline on one instance is not analysed again for its own decision on the other', async () => {
  await registry.add('based', '1.0.0', PLAIN);
  await registry.add('based', '1.1.0', SPAWNS);
  const [a, b] = [gate(stores[0] as FileStore, 'a'), gate(stores[1] as FileStore, 'b')];
  const held = await a.checkTarball({ name: 'based', filename: 'based-1.1.0.tgz' });
  expect(held.kind).toBe('refuse');
  expect(analyzer.analysed.sort()).toEqual(['based@1.0.0', 'based@1.1.0']);
  const old = await b.checkTarball({ name: 'based', filename: 'based-1.0.0.tgz' });
  expect(old.kind).toBe('serve');
  expect(analyzer.analysed).toHaveLength(2);
});

it('a dependency analysed for its dependent is not analysed again when its own tarball is asked for', async () => {
  await registry.add('leaf', '1.0.0', SPAWNS);
  await registry.add('parent', '1.0.0', PLAIN, { leaf: '^1.0.0' });
  await registry.add('parent', '1.1.0', PLAIN, { leaf: '^1.0.0', other: '^1.0.0' });
  await registry.add('other', '1.0.0', PLAIN);
  const [a, b] = [gate(stores[0] as FileStore, 'a'), gate(stores[1] as FileStore, 'b')];
  await a.checkTarball({ name: 'parent', filename: 'parent-1.1.0.tgz' });
  // The new dependency was analysed to see what parent@1.1.0 inherits from it.
  expect(analyzer.analysed).toContain('other@1.0.0');
  for (const [name, file] of [['leaf', 'leaf-1.0.0.tgz'], ['other', 'other-1.0.0.tgz'], ['parent', 'parent-1.0.0.tgz']] as const) {
    await b.checkTarball({ name, filename: file });
  }
  // Every tarball exactly once across both, whatever analysed it first.
  expect([...analyzer.analysed].sort()).toEqual(['leaf@1.0.0', 'other@1.0.0', 'parent@1.0.0', 'parent@1.1.0']);
});
