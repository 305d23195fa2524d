// pnpm, yarn 1 and yarn 4 against the gated registry (issue 5): the same resolver-friendly behaviour as npm.
// The clients are installed from the npm registry of the user's npm configuration in the set-up
// (not package.json dependencies) and run with isolated HOME, store and cache.
import { makePackage } from '../test-support/make-package';
import { installClients, makeClientProject } from './support/clients';
import type { ClientName, Clients } from './support/clients';
import { removeTempDirs, startGated } from './support/gated';
import type { Gated } from './support/gated';
import { requestJson, startUpstream } from './support/upstream';
import type { Upstream } from './support/upstream';

jest.setTimeout(600_000);

const REVIEWER = { name: 'cleo', password: 'cleo-password-1' };
const PLAIN = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
const NETWORK = "const https = require('https');\nmodule.exports = function add(a, b) {\n  https.get('https://example.invalid/ping');\n  return a + b;\n};\n";
const SPAWNS = "const cp = require('child_process');\nmodule.exports = function run() {\n  return cp.execSync('id');\n};\n";
const CLIENTS: readonly ClientName[] = ['pnpm', 'yarn', 'yarn-berry'];

let upstream: Upstream;
let gated: Gated;
let clients: Clients;
let savedReviewers: string | undefined;

async function publish(name: string, version: string, code: string, extra: Record<string, unknown> = {}): Promise<void> {
  await upstream.publish(await makePackage({ name, version, main: 'index.js', license: 'MIT', ...extra }, { 'index.js': code }));
}

async function decisionOf(name: string, version: string): Promise<Record<string, unknown>> {
  const until = Date.now() + 120_000;
  for (;;) {
    const r = await requestJson('GET', `${gated.url}-/capgate/v1/policies/${name}/${version}`);
    const body = r.body as Record<string, unknown> | null;
    if (r.status === 200 && body !== null && typeof body['state'] === 'string') return body;
    if (Date.now() > until) throw new Error(`no decision for ${name}@${version}:\n${gated.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  clients = await installClients();
  upstream = await startUpstream();
  await publish('netpkg', '1.0.0', PLAIN);
  await publish('netpkg', '1.1.0', NETWORK);
  await publish('spawner', '1.0.0', SPAWNS);
  for (const client of CLIENTS) {
    await publish(`parent-${client}`, '1.0.0', PLAIN);
    await publish(`parent-${client}`, '1.1.0', PLAIN, { dependencies: { spawner: '^1.0.0' } });
  }
  savedReviewers = process.env['CAPGATE_REVIEWERS'];
  process.env['CAPGATE_REVIEWERS'] = REVIEWER.name;
  gated = await startGated({ upstream: upstream.url });
  // A packument request starts the background analysis that decides (and then hides) netpkg@1.1.0.
  expect((await requestJson('GET', `${gated.url}netpkg`)).status).toBe(200);
  expect(await decisionOf('netpkg', '1.1.0')).toMatchObject({ state: 'held' });
});

afterAll(async () => {
  if (savedReviewers === undefined) delete process.env['CAPGATE_REVIEWERS'];
  else process.env['CAPGATE_REVIEWERS'] = savedReviewers;
  await gated?.stop();
  await upstream?.close();
  await removeTempDirs();
});

describe.each(CLIENTS)('%s against the gated registry', (client) => {
  it('installs the last allowed version for a plain spec and a range', async () => {
    const plain = await makeClientProject(clients, client, gated.url);
    const r = await plain.add('netpkg');
    expect({ code: r.code, output: r.output }).toMatchObject({ code: 0 });
    expect(await plain.installed('netpkg')).toBe('1.0.0');
    const ranged = await makeClientProject(clients, client, gated.url);
    expect((await ranged.add('netpkg@^1')).code).toBe(0);
    expect(await ranged.installed('netpkg')).toBe('1.0.0');
  });

  it('is refused an undecided update whose new dependency spawns processes, then falls back once it is hidden', async () => {
    const name = `parent-${client}`;
    const project = await makeClientProject(clients, client, gated.url);
    const r = await project.add(`${name}@1.1.0`);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/403/);
    if (client !== 'yarn') {
      // pnpm and yarn 4 print the status line, not the JSON `error`: the gate puts its reason there.
      expect(r.output).toContain(`capgate: ${name}@1.1.0 is held for review: gained child-process (index.js:`);
      expect(r.output).toMatch(/child-process \(index\.js:\d+ via spawner@1\.0\.0\)/);
    } else {
      // yarn 1 builds a failed tarball download's message from Node's table of standard phrases
      // (http.STATUS_CODES) and reads neither the status line nor the body: it can only name the
      // refused tarball; the reason is at the policy route (checked below).
      expect(r.output).toContain(`${name}-1.1.0.tgz: Request failed "403 Forbidden"`);
    }
    expect(await project.installed(name)).toBeNull();
    expect(await decisionOf(name, '1.1.0')).toMatchObject({ state: 'held', gained: ['child-process'] });
    const again = await makeClientProject(clients, client, gated.url);
    expect((await again.add(name)).code).toBe(0);
    expect(await again.installed(name)).toBe('1.0.0');
  });
});

describe('after approval', () => {
  it.each(CLIENTS)('%s takes the approved update as latest', async (client) => {
    const added = await requestJson('PUT', `${gated.url}-/user/org.couchdb.user:${REVIEWER.name}`, { name: REVIEWER.name, password: REVIEWER.password });
    const token = (added.body as { token?: string }).token;
    if (added.status === 201) {
      const approved = await requestJson('POST', `${gated.url}-/capgate/v1/reviews/netpkg/1.1.0`, { decision: 'approve', reason: 'status ping' }, token);
      expect(approved.status).toBe(200);
    }
    expect(await decisionOf('netpkg', '1.1.0')).toMatchObject({ state: 'approved' });
    const project = await makeClientProject(clients, client, gated.url);
    expect((await project.add('netpkg@latest')).code).toBe(0);
    expect(await project.installed('netpkg')).toBe('1.1.0');
  });
});
