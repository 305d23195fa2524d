// The gated registry end to end: a real upstream Verdaccio with fixture packages, the real
// `capgate serve` in front of it, and the real npm client in temp projects.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { integrityOf, makePackage } from '../test-support/make-package';
import { installScriptUpdate, plainPackage, readingUpdate, spawningUpdate } from './support/fixtures';
import { removeTempDirs, startGated } from './support/gated';
import type { Gated } from './support/gated';
import { writePinnedLockfile } from './support/lockfile';
import { makeProject } from './support/npm';
import type { Project } from './support/npm';
import { expectNoMatchingVersion, expectRefused, waitForDecision } from './support/outcomes';
import { rawRequest, requestJson, startUpstream } from './support/upstream';
import type { JsonResponse, Upstream } from './support/upstream';

jest.setTimeout(180_000);

let upstream: Upstream;
let gated: Gated;
let work: string;
let marker: string;
/** Every 200 tarball answer seen: it must match an analysed policy (checked at the end). */
const served: { name: string; version: string; sri: string }[] = [];
/** Fixture bytes by `name@version` (a pinned lockfile records their integrity). */
const tarballs = new Map<string, Buffer>();

const sri = (bytes: Buffer): string => 'sha512-' + createHash('sha512').update(bytes).digest('base64');
const body = (r: JsonResponse): Record<string, unknown> => (typeof r.body === 'object' && r.body !== null ? (r.body as Record<string, unknown>) : {});

async function get(pathname: string, method = 'GET'): Promise<JsonResponse> {
  const r = await rawRequest({ method, host: '127.0.0.1', port: gated.port, path: pathname });
  return r;
}

async function policy(name: string, version: string): Promise<Record<string, unknown>> {
  const r = await requestJson('GET', `${gated.url}-/capgate/v1/policies/${name.replace('/', '%2f')}/${version}`);
  expect(r.status).toBe(200);
  return body(r);
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-e2e-'));
  marker = path.join(work, 'postinstall-ran');
  upstream = await startUpstream();
  const fixtures = [
    ...(await spawningUpdate('benign')),
    ...(await spawningUpdate('@e2e/scoped')),
    ...(await readingUpdate('flagonly')),
    ...(await installScriptUpdate('scripty', marker)),
    await plainPackage('tampered', '1.0.0'),
  ];
  for (const f of fixtures) {
    tarballs.set(`${f.name}@${f.version}`, f.tarball);
    await upstream.publish(f.tarball);
  }
  // Not a tarball at all, published with a correct integrity for its bytes.
  await upstream.publish(Buffer.from('this is not a gzipped tar archive\n'), { manifest: { name: 'corrupt', version: '1.0.0' } });
  // Published fine, then altered in the upstream's storage: the packument keeps the old integrity.
  await fs.writeFile(upstream.tarballPath('tampered', '1.0.0'), await makePackage({ name: 'tampered', version: '1.0.0' }, { 'index.js': "require('child_process').exec('id');\n" }));
  gated = await startGated({ upstream: upstream.url });
});

afterAll(async () => {
  await gated?.stop();
  await upstream?.close();
  await fs.rm(work, { recursive: true, force: true });
  await removeTempDirs();
});

/** Waits for the gate's decision on name@version (background analysis makes it once npm has seen the packument). */
const decisionOf = (name: string, version: string): Promise<Record<string, unknown>> => waitForDecision(gated.url, name, version, () => gated.output());

/**
 * A project whose package-lock.json pins name@version through the gated registry, as a teammate's
 * commit would: npm cannot resolve a version the filter hides, so the lockfile is written by hand.
 */
async function lockedProject(name: string, version: string): Promise<Project> {
  const bytes = tarballs.get(`${name}@${version}`);
  if (bytes === undefined) throw new Error(`no fixture ${name}@${version}`);
  const project = await makeProject(gated.url);
  await writePinnedLockfile(project.dir, gated.url, [{ name, version, integrity: integrityOf(bytes) }]);
  return project;
}

describe('the gated registry with the real npm client', () => {
  it('installs a benign package', async () => {
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'benign@1.0.0']);
    expect(r.code).toBe(0);
    expect(await project.readJson('node_modules/benign/package.json')).toMatchObject({ version: '1.0.0' });
    expect(await policy('benign', '1.0.0')).toMatchObject({ state: 'allowed' });
  });

  it('refuses its update that gains child-process, naming the capability and the baseline', async () => {
    // Installing 1.0.0 showed npm the packument, so background analysis has decided 1.1.0 since.
    expect(await decisionOf('benign', '1.1.0')).toMatchObject({ state: 'held', baseline: '1.0.0', gained: ['child-process'] });
    // A lockfile that pins it still reaches the tarball gate: `npm install` fails on E403 and prints the reason.
    const pinned = await lockedProject('benign', '1.1.0');
    const r = await pinned.npm(['install']);
    expectRefused(r, 'capgate: benign@1.1.0 is held for review', 'child-process (index.js:', 'compared with 1.0.0', '/-/capgate/v1/policies/benign/1.1.0');
    // npm prints the status line and the JSON `error`: the gate keeps npm's status line standard, so the reason appears once.
    expect(r.output).toContain('403 Forbidden - GET');
    expect(r.output.split('capgate: benign@1.1.0 is held for review').length - 1).toBe(1);
    expect(await pinned.exists('node_modules/benign')).toBe(false);
    // Without a lockfile the filter hides it: `npm install benign` takes 1.0.0, and 1.1.0 does not exist for npm.
    const project = await makeProject(gated.url);
    expect((await project.npm(['install', 'benign'])).code).toBe(0);
    expect(await project.readJson('node_modules/benign/package.json')).toMatchObject({ version: '1.0.0' });
    expectNoMatchingVersion(await project.npm(['install', 'benign@1.1.0']), 'benign@1.1.0');
    expect(await project.readJson('node_modules/benign/package.json')).toMatchObject({ version: '1.0.0' });
  });

  it('does the same for a scoped package, refusing its first install before anything was decided', async () => {
    // Nothing asked for @e2e/scoped yet: npm sees the undecided 1.1.0 and asks for its tarball, which the gate decides and refuses.
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', '@e2e/scoped@1.1.0']);
    expectRefused(r, 'capgate: @e2e/scoped@1.1.0 is held for review', 'child-process (index.js:', 'compared with 1.0.0', '/-/capgate/v1/policies/@e2e%2fscoped/1.1.0');
    expect(await project.exists('node_modules/@e2e/scoped')).toBe(false);
    expect(await policy('@e2e/scoped', '1.1.0')).toMatchObject({ state: 'held', baseline: '1.0.0', gained: ['child-process'] });
    // Decided: `npm install @e2e/scoped` falls back to 1.0.0, the exact held version is hidden, a lockfile pin is refused.
    expect((await project.npm(['install', '@e2e/scoped'])).code).toBe(0);
    expect(await project.readJson('node_modules/@e2e/scoped/package.json')).toMatchObject({ version: '1.0.0' });
    expectNoMatchingVersion(await project.npm(['install', '@e2e/scoped@1.1.0']), '@e2e/scoped@1.1.0');
    expect(await project.readJson('node_modules/@e2e/scoped/package.json')).toMatchObject({ version: '1.0.0' });
    const pinned = await lockedProject('@e2e/scoped', '1.1.0');
    expectRefused(await pinned.npm(['ci']), '@e2e/scoped@1.1.0 is held', 'child-process', 'compared with 1.0.0');
    expect(await pinned.exists('node_modules/@e2e/scoped')).toBe(false);
  });

  it('installs an update that gains only a flag-tier capability and records it as flagged', async () => {
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'flagonly@1.1.0']);
    expect(r.code).toBe(0);
    expect(await project.readJson('node_modules/flagonly/package.json')).toMatchObject({ version: '1.1.0' });
    const p = await policy('flagonly', '1.1.0');
    expect(p).toMatchObject({ state: 'flagged', baseline: '1.0.0', gained: ['fs-read'] });
    expect((p['evidence'] as Record<string, { file: string; line: number }[]>)['fs-read']?.[0]).toMatchObject({ file: 'index.js' });
  });

  it('refuses an update that gains an install script before the script could run', async () => {
    // The first request for scripty: npm sees the undecided 1.1.0, and its tarball is refused before any script could run.
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'scripty@1.1.0']);
    expectRefused(r, 'scripty@1.1.0 is held', 'install-script', 'compared with 1.0.0');
    await expect(fs.access(marker)).rejects.toThrow();
    expect(await project.exists('node_modules/scripty')).toBe(false);
    // Decided: `npm install scripty` takes 1.0.0, the exact version is hidden, a lockfile pin is refused; the script never ran.
    expect((await project.npm(['install', 'scripty'])).code).toBe(0);
    expect(await project.readJson('node_modules/scripty/package.json')).toMatchObject({ version: '1.0.0' });
    expectNoMatchingVersion(await project.npm(['install', 'scripty@1.1.0']), 'scripty@1.1.0');
    const pinned = await lockedProject('scripty', '1.1.0');
    expectRefused(await pinned.npm(['ci']), 'scripty@1.1.0 is held', 'install-script');
    expect(await pinned.exists('node_modules/scripty')).toBe(false);
    await expect(fs.access(marker)).rejects.toThrow();
  });

  it('refuses `npm ci` from a lockfile that pins a held version', async () => {
    expect(await policy('benign', '1.1.0')).toMatchObject({ state: 'held' });
    // npm cannot pin a version the filter hides (`--package-lock-only` would say ETARGET), so the
    // lockfile is the one a teammate committed before the hold: written by hand (support/lockfile.ts).
    const project = await lockedProject('benign', '1.1.0');
    const r = await project.npm(['ci']);
    expectRefused(r, 'capgate: benign@1.1.0 is held for review', 'child-process', 'compared with 1.0.0');
    expect(await project.exists('node_modules/benign')).toBe(false);
  });

  it('answers 403 to every URL spelling of a held version, and serves the allowed one in each', async () => {
    const spell = (scope: string | null, pkg: string, file: string): string[] => {
      const suffixes = ['', '/', '?x=1', '/?a=b&c'];
      const bases =
        scope === null
          ? [`/${pkg}/-/${file}`, `//${pkg}//-//${file}`, `/${pkg.replace('b', '%62')}/-/${file.replace('.tgz', '%2Etgz')}`, `/${pkg}/%2D/${file}`]
          : [
              `/${scope}/${pkg}/-/${file}`,
              `/${scope.replace('@', '%40')}/${pkg}/-/${file}`,
              `/${scope}%2f${pkg}/-/${file}`,
              `/${scope}%2F${pkg}/-/${file}`,
              `/${scope.replace('@', '%40')}%2f${pkg}/-/${file}`,
              `/${scope.replace('@', '%40')}%2F${pkg}/-/${file}`,
              `//${scope}//${pkg}/-/${file}`,
            ];
      return bases.flatMap((b) => suffixes.map((s) => b + s));
    };
    const cases = [
      { scope: null, pkg: 'benign', name: 'benign' },
      { scope: '@e2e', pkg: 'scoped', name: '@e2e/scoped' },
    ];
    let checked = 0;
    for (const c of cases) {
      for (const url of spell(c.scope, c.pkg, `${c.pkg}-1.1.0.tgz`)) {
        for (const method of ['GET', 'HEAD']) {
          const r = await get(url, method);
          expect({ url, method, status: r.status }).toEqual({ url, method, status: 403 });
          if (method === 'GET') expect({ url, code: body(r)['code'] }).toEqual({ url, code: 'CAPGATE_HELD' });
          checked++;
        }
      }
      for (const url of spell(c.scope, c.pkg, `${c.pkg}-1.0.0.tgz`)) {
        const r = await get(url);
        expect({ url, status: r.status }).toEqual({ url, status: 200 });
        served.push({ name: c.name, version: '1.0.0', sri: sri(r.raw) });
      }
    }
    expect(checked).toBeGreaterThanOrEqual(80);
  });

  it('refuses a corrupt tarball with its own reason', async () => {
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'corrupt@1.0.0']);
    expectRefused(r, 'CAPGATE_ARCHIVE_CORRUPT', 'corrupt@1.0.0');
    expect(body(await get('/corrupt/-/corrupt-1.0.0.tgz'))).toMatchObject({ code: 'CAPGATE_ARCHIVE_CORRUPT' });
  });

  it('refuses bytes that do not match the packument integrity with their own reason', async () => {
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'tampered@1.0.0']);
    expectRefused(r, 'CAPGATE_INTEGRITY_MISMATCH', 'tampered@1.0.0');
    expect(body(await get('/tampered/-/tampered-1.0.0.tgz'))).toMatchObject({ code: 'CAPGATE_INTEGRITY_MISMATCH' });
  });

  it('serves nothing that was not analyzed', async () => {
    for (const [name, version] of [['benign', '1.0.0'], ['flagonly', '1.1.0'], ['@e2e/scoped', '1.0.0'], ['scripty', '1.0.0']] as const) {
      const r = await get(`/${name}/-/${name.split('/').pop() ?? name}-${version}.tgz`);
      expect(r.status).toBe(200);
      served.push({ name, version, sri: sri(r.raw) });
    }
    for (const s of served) {
      const p = await policy(s.name, s.version);
      expect({ ...s, analysed: p['integrity'] }).toEqual({ ...s, analysed: s.sri });
      expect(['allowed', 'flagged']).toContain(p['state']);
      expect((p['policy'] as { name?: string } | null)?.name).toBe(s.name);
    }
    expect(served.length).toBeGreaterThan(20);
    // A file no version of the packument names is not served, whatever Verdaccio's storage holds.
    expect(body(await get('/benign/-/benign-9.9.9.tgz'))).toMatchObject({ code: 'CAPGATE_TARBALL_UNKNOWN' });
    expect((await get('/benign/-/benign-9.9.9.tgz')).status).toBe(404);
  });

  it('keeps its decisions across a restart', async () => {
    const before = await policy('benign', '1.1.0');
    const decision = before['decision'] as { updatedAt: string };
    await gated.stop();
    gated = await startGated({ upstream: upstream.url, storage: gated.storage });
    const r = await get('/benign/-/benign-1.1.0.tgz');
    expect(r.status).toBe(403);
    expect(body(r)).toMatchObject({ code: 'CAPGATE_HELD', baseline: '1.0.0' });
    const after = await policy('benign', '1.1.0');
    expect((after['decision'] as { updatedAt: string }).updatedAt).toBe(decision.updatedAt);
    const project = await makeProject(gated.url);
    expect((await project.npm(['install', 'benign@1.0.0'])).code).toBe(0);
  });
});
