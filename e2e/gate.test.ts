// The gated registry end to end: a real upstream Verdaccio with fixture packages, the real
// `capgate serve` in front of it, and the real npm client in temp projects.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { makePackage } from '../test-support/make-package';
import { installScriptUpdate, plainPackage, readingUpdate, spawningUpdate } from './support/fixtures';
import { removeTempDirs, startGated } from './support/gated';
import type { Gated } from './support/gated';
import { makeProject } from './support/npm';
import { rawRequest, requestJson, startUpstream } from './support/upstream';
import type { JsonResponse, Upstream } from './support/upstream';

jest.setTimeout(180_000);

let upstream: Upstream;
let gated: Gated;
let work: string;
let marker: string;
/** Every 200 tarball answer seen: it must match an analysed policy (checked at the end). */
const served: { name: string; version: string; sri: string }[] = [];

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
  for (const f of fixtures) await upstream.publish(f.tarball);
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

function expectRefused(result: { code: number | null; output: string }, ...fragments: string[]): void {
  expect(result.code).not.toBe(0);
  expect(result.output).toContain('E403');
  for (const f of fragments) expect(result.output).toContain(f);
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
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'benign@1.1.0']);
    expectRefused(r, 'capgate: benign@1.1.0 is held for review', 'child-process (index.js:', 'compared with 1.0.0', '/-/capgate/v1/policies/benign/1.1.0');
    expect(await project.exists('node_modules/benign')).toBe(false);
    expect(await policy('benign', '1.1.0')).toMatchObject({ state: 'held', baseline: '1.0.0', gained: ['child-process'] });
  });

  it('does the same for a scoped package', async () => {
    const project = await makeProject(gated.url);
    expect((await project.npm(['install', '@e2e/scoped@1.0.0'])).code).toBe(0);
    const r = await project.npm(['install', '@e2e/scoped@1.1.0']);
    expectRefused(r, '@e2e/scoped@1.1.0 is held', 'child-process', 'compared with 1.0.0');
    expect(await project.readJson('node_modules/@e2e/scoped/package.json')).toMatchObject({ version: '1.0.0' });
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
    const project = await makeProject(gated.url);
    expect((await project.npm(['install', 'scripty@1.0.0'])).code).toBe(0);
    const r = await project.npm(['install', 'scripty@1.1.0']);
    expectRefused(r, 'scripty@1.1.0 is held', 'install-script', 'compared with 1.0.0');
    await expect(fs.access(marker)).rejects.toThrow();
    expect(await project.readJson('node_modules/scripty/package.json')).toMatchObject({ version: '1.0.0' });
  });

  it('refuses `npm ci` from a lockfile that pins a held version', async () => {
    const project = await makeProject(gated.url, { dependencies: { benign: '1.1.0' } });
    // The lockfile needs only packuments, so it can be written through the gate.
    expect((await project.npm(['install', '--package-lock-only'])).code).toBe(0);
    const lock = await project.readJson('package-lock.json');
    const entry = (lock['packages'] as Record<string, { resolved?: string; version?: string }>)['node_modules/benign'];
    expect(entry).toMatchObject({ version: '1.1.0', resolved: `${gated.url}benign/-/benign-1.1.0.tgz` });
    const r = await project.npm(['ci']);
    expectRefused(r, 'benign@1.1.0 is held', 'child-process');
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
