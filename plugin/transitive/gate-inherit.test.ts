// The gate with transitive inheritance and the per-scope new-package policy: the real analyzer
// (in process), the real diff and the real file store; only the registry is in memory.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { RULES_VERSION, analyzeTarball, diffPolicies } from '../../analyzer';
import { FileStore } from '../../policy-store/file-store';
import { integrityOf, makePackage } from '../../test-support/make-package';
import { parseConfig } from '../config';
import { GateError } from '../errors';
import { Gate } from '../gate';
import type { RegistrySource } from '../gate';
import { viewPackument } from '../packument';

const PLAIN = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
const SPAWNS = "const cp = require('child_process');\nmodule.exports = function run() {\n  return cp.execSync('id');\n};\n";
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

class MemoryRegistry implements RegistrySource {
  readonly packuments = new Map<string, { name: string; 'dist-tags': Record<string, string>; versions: Record<string, unknown> }>();
  readonly tarballs = new Map<string, Buffer>();

  async add(name: string, version: string, code: string, extra: Record<string, unknown> = {}): Promise<void> {
    const bytes = await makePackage({ name, version, main: 'index.js', ...extra }, { 'index.js': code });
    const file = `${name.split('/').pop() ?? name}-${version}.tgz`;
    const p = this.packuments.get(name) ?? { name, 'dist-tags': {}, versions: {} };
    p.versions[version] = { name, version, ...extra, dist: { tarball: `http://upstream.test/${name}/-/${file}`, integrity: integrityOf(bytes) } };
    p['dist-tags']['latest'] = version;
    this.packuments.set(name, p);
    this.tarballs.set(`${name}/${file}`, bytes);
  }

  async getPackument(name: string): Promise<unknown> {
    const p = this.packuments.get(name);
    if (p === undefined) throw new GateError('CAPGATE_NOT_FOUND', `no ${name}`);
    return JSON.parse(JSON.stringify(p)) as unknown;
  }

  async readTarball(name: string, filename: string): Promise<Buffer> {
    const b = this.tarballs.get(`${name}/${filename}`);
    if (b === undefined) throw new GateError('CAPGATE_NOT_FOUND', 'no tarball');
    return b;
  }
}

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-inherit-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function gateFor(registry: RegistrySource, raw: unknown = {}): Promise<Gate> {
  const store = new FileStore({ dir });
  await store.init();
  return new Gate({ config: parseConfig(raw), store, registry, analyzer: { analyze: (b) => analyzeTarball(b) }, diff: diffPolicies, rulesVersion: RULES_VERSION, logger });
}

async function decide(gate: Gate, name: string, version: string): Promise<{ kind: string; state: string | undefined; gained: readonly string[]; reason: string }> {
  const file = `${name.split('/').pop() ?? name}-${version}.tgz`;
  const out = await gate.checkTarball({ name, filename: file });
  const record = out.record;
  return { kind: out.kind, state: record?.state, gained: record?.diff.gained ?? [], reason: record?.reason ?? '' };
}

describe('Gate: transitive capabilities', () => {
  it('holds an update whose only change is a new dependency that spawns processes, naming it', async () => {
    const registry = new MemoryRegistry();
    await registry.add('spawner', '1.0.0', SPAWNS);
    await registry.add('parent', '1.0.0', PLAIN);
    await registry.add('parent', '1.1.0', PLAIN, { dependencies: { spawner: '^1.0.0' } });
    const gate = await gateFor(registry);
    const d = await decide(gate, 'parent', '1.1.0');
    expect(d).toMatchObject({ kind: 'refuse', state: 'held', gained: ['child-process'] });
    expect(d.reason).toMatch(/child-process \(index\.js:\d+ via spawner@1\.0\.0\)/);
  });

  it('allows a new dependency whose policy is known and harmless, and flags one that cannot be resolved', async () => {
    const registry = new MemoryRegistry();
    await registry.add('harmless', '2.0.0', PLAIN);
    await registry.add('parent', '1.0.0', PLAIN);
    await registry.add('parent', '1.1.0', PLAIN, { dependencies: { harmless: '^2.0.0' } });
    await registry.add('parent', '1.2.0', PLAIN, { dependencies: { harmless: '^2.0.0', missing: '^1.0.0' } });
    const gate = await gateFor(registry);
    expect(await decide(gate, 'parent', '1.1.0')).toMatchObject({ kind: 'serve', state: 'allowed', gained: [] });
    expect(await decide(gate, 'parent', '1.2.0')).toMatchObject({ kind: 'serve', state: 'flagged', gained: ['new-dependency'] });
  });

  it('applies the new-package policy of the package scope', async () => {
    const registry = new MemoryRegistry();
    await registry.add('@corp/tool', '1.0.0', SPAWNS);
    await registry.add('@else/tool', '1.0.0', SPAWNS);
    const gate = await gateFor(registry, { newPackage: { default: 'block', scopes: { '@corp': 'allow' } } });
    expect(await decide(gate, '@corp/tool', '1.0.0')).toMatchObject({ kind: 'serve', state: 'allowed' });
    expect(await decide(gate, '@else/tool', '1.0.0')).toMatchObject({ kind: 'refuse', state: 'held', gained: ['child-process'] });
  });

  it('counts a brand-new package\'s dependencies toward the new-package policy', async () => {
    const registry = new MemoryRegistry();
    await registry.add('spawner', '1.0.0', SPAWNS);
    await registry.add('fresh', '1.0.0', PLAIN, { dependencies: { spawner: '1.0.0' } });
    const gate = await gateFor(registry, { newPackage: 'block' });
    expect(await decide(gate, 'fresh', '1.0.0')).toMatchObject({ kind: 'refuse', state: 'held', gained: ['child-process'] });
  });

  it('decides ahead of the tarball request with warm(), once', async () => {
    const registry = new MemoryRegistry();
    await registry.add('parent', '1.0.0', PLAIN);
    await registry.add('parent', '1.1.0', SPAWNS);
    const gate = await gateFor(registry);
    const view = viewPackument(await registry.getPackument('parent'));
    const entry = view.versions.get('1.1.0');
    if (entry === undefined) throw new Error('no entry');
    await Promise.all([gate.warm({ name: 'parent', entry, view }), gate.warm({ name: 'parent', entry, view })]);
    expect(await decide(gate, 'parent', '1.1.0')).toMatchObject({ kind: 'refuse', state: 'held' });
  });
});
