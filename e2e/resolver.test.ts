// Resolver-friendly gating end to end (issue 5): the real `capgate serve` (metadata filter and
// tarball gate) in front of a real upstream Verdaccio, driven by the real npm client. Held versions
// disappear from packuments once background analysis has decided them, so `npm install pkg` takes
// the last allowed version; approval brings them back at once; a lockfile naming a hidden version
// still gets the gate's 403 and reason; a new dependency that spawns processes holds its parent.
import { integrityOf, makePackage } from '../test-support/make-package';
import { removeTempDirs, startGated } from './support/gated';
import { writePinnedLockfile } from './support/lockfile';
import type { Gated } from './support/gated';
import { makeProject } from './support/npm';
import type { Project } from './support/npm';
import { requestJson, startUpstream } from './support/upstream';
import type { Upstream } from './support/upstream';

jest.setTimeout(240_000);

const REVIEWER = { name: 'reva', password: 'reva-password-1' };
const PLAIN = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
const NETWORK = "const https = require('https');\nmodule.exports = function add(a, b) {\n  https.get('https://example.invalid/ping');\n  return a + b;\n};\n";
const SPAWNS = "const cp = require('child_process');\nmodule.exports = function run() {\n  return cp.execSync('id');\n};\n";

let upstream: Upstream;
let gated: Gated;
let savedReviewers: string | undefined;
const tarballs = new Map<string, Buffer>();

async function publish(name: string, version: string, code: string, extra: Record<string, unknown> = {}): Promise<void> {
  const bytes = await makePackage({ name, version, main: 'index.js', license: 'MIT', ...extra }, { 'index.js': code });
  tarballs.set(`${name}@${version}`, bytes);
  await upstream.publish(bytes);
}

interface Packument {
  readonly versions: Record<string, unknown>;
  readonly 'dist-tags': Record<string, string>;
}

async function packument(name: string): Promise<Packument> {
  const r = await requestJson('GET', `${gated.url}${name.replace('/', '%2f')}`);
  expect(r.status).toBe(200);
  return r.body as Packument;
}

/** Waits (bounded) until the gate has a decision for name@version; returns its record. */
async function decisionOf(name: string, version: string): Promise<Record<string, unknown>> {
  const until = Date.now() + 120_000;
  for (;;) {
    const r = await requestJson('GET', `${gated.url}-/capgate/v1/policies/${name.replace('/', '%2f')}/${version}`);
    const body = r.body as Record<string, unknown> | null;
    if (r.status === 200 && body !== null && typeof body['state'] === 'string') return body;
    if (Date.now() > until) throw new Error(`no decision for ${name}@${version}: ${r.status} ${JSON.stringify(r.body)}\n${gated.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A project whose lockfile pins name@version (resolved through the gated registry), as a teammate's commit would. */
async function lockedProject(pins: readonly { name: string; version: string }[]): Promise<Project> {
  const project = await makeProject(gated.url);
  await writePinnedLockfile(
    project.dir,
    gated.url,
    pins.map((p) => {
      const bytes = tarballs.get(`${p.name}@${p.version}`);
      if (bytes === undefined) throw new Error(`no fixture ${p.name}@${p.version}`);
      return { ...p, integrity: integrityOf(bytes) };
    }),
  );
  return project;
}

beforeAll(async () => {
  upstream = await startUpstream();
  await publish('netpkg', '1.0.0', PLAIN);
  await publish('netpkg', '1.1.0', NETWORK);
  await publish('spawner', '1.0.0', SPAWNS);
  await publish('parentdep', '1.0.0', PLAIN);
  await publish('parentdep', '1.1.0', PLAIN, { dependencies: { spawner: '^1.0.0' } });
  savedReviewers = process.env['CAPGATE_REVIEWERS'];
  process.env['CAPGATE_REVIEWERS'] = REVIEWER.name; // `capgate serve` reads it (docs/review.md)
  gated = await startGated({ upstream: upstream.url });
});

afterAll(async () => {
  if (savedReviewers === undefined) delete process.env['CAPGATE_REVIEWERS'];
  else process.env['CAPGATE_REVIEWERS'] = savedReviewers;
  await gated?.stop();
  await upstream?.close();
  await removeTempDirs();
});

describe('resolver-friendly gating with the real npm client', () => {
  it('hides an update that gains network once analysed: `npm install netpkg` takes the previous version', async () => {
    // The first packument request shows every version (nothing decided yet) and starts the analysis.
    const before = await packument('netpkg');
    expect(Object.keys(before.versions).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(before['dist-tags']['latest']).toBe('1.1.0');
    expect(await decisionOf('netpkg', '1.1.0')).toMatchObject({ state: 'held', gained: expect.arrayContaining(['network']) });

    const after = await packument('netpkg');
    expect(Object.keys(after.versions)).toEqual(['1.0.0']);
    expect(after['dist-tags']['latest']).toBe('1.0.0');

    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'netpkg']);
    expect(r.code).toBe(0);
    expect(await project.readJson('node_modules/netpkg/package.json')).toMatchObject({ version: '1.0.0' });
    const ranged = await makeProject(gated.url);
    expect((await ranged.npm(['install', 'netpkg@^1'])).code).toBe(0);
    expect(await ranged.readJson('node_modules/netpkg/package.json')).toMatchObject({ version: '1.0.0' });
  });

  it('refuses a lockfile that pins the hidden version with the gate reason, not a 404', async () => {
    expect(await decisionOf('netpkg', '1.1.0')).toMatchObject({ state: 'held' });
    const project = await lockedProject([{ name: 'netpkg', version: '1.1.0' }]);
    const r = await project.npm(['ci']);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('E403');
    expect(r.output).toContain('netpkg@1.1.0 is held');
    expect(r.output).toContain('network');
    expect(r.output).not.toContain('E404');
    expect(await project.exists('node_modules/netpkg')).toBe(false);
  });

  it('shows the update again as soon as a reviewer approves it: `npm install netpkg@latest` takes it', async () => {
    const added = await requestJson('PUT', `${gated.url}-/user/org.couchdb.user:${REVIEWER.name}`, { name: REVIEWER.name, password: REVIEWER.password });
    expect(added.status).toBe(201);
    const token = (added.body as { token?: string }).token;
    expect(typeof token).toBe('string');
    const approved = await requestJson('POST', `${gated.url}-/capgate/v1/reviews/netpkg/1.1.0`, { decision: 'approve', reason: 'pings our status page' }, token);
    expect(approved.status).toBe(200);

    const after = await packument('netpkg');
    expect(Object.keys(after.versions).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(after['dist-tags']['latest']).toBe('1.1.0');
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'netpkg@latest']);
    expect(r.code).toBe(0);
    expect(await project.readJson('node_modules/netpkg/package.json')).toMatchObject({ version: '1.1.0' });
  });

  it('holds an update whose only change is a new dependency that spawns processes, naming the dependency', async () => {
    // npm sees 1.1.0 (undecided versions stay visible) and asks for its tarball: the gate decides.
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'parentdep@1.1.0']);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('E403');
    expect(r.output).toContain('parentdep@1.1.0 is held');
    expect(r.output).toMatch(/child-process \(index\.js:\d+ via spawner@1\.0\.0\)/);
    const record = await decisionOf('parentdep', '1.1.0');
    expect(record).toMatchObject({ state: 'held', baseline: '1.0.0', gained: ['child-process'] });
    // The dependency's policy is known, so it is not also a `new-dependency` flag.
    expect(record['gained']).not.toContain('new-dependency');

    // Once decided it is hidden: a plain install falls back to 1.0.0.
    const again = await makeProject(gated.url);
    expect((await again.npm(['install', 'parentdep'])).code).toBe(0);
    expect(await again.readJson('node_modules/parentdep/package.json')).toMatchObject({ version: '1.0.0' });
  });

  it('shows every version of a package whose versions are all allowed', async () => {
    await publish('untouched', '1.0.0', PLAIN);
    await publish('untouched', '1.0.1', PLAIN);
    const viaGate = await requestJson('GET', `${gated.url}untouched`);
    expect(viaGate.status).toBe(200);
    const body = viaGate.body as Packument;
    expect(Object.keys(body.versions).sort()).toEqual(['1.0.0', '1.0.1']);
    expect(body['dist-tags']['latest']).toBe('1.0.1');
  });
});
