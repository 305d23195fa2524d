// Several gated registries on one PostgreSQL schema and one Verdaccio storage folder (DESIGN.md
// "Scale"), as real `capgate serve` child processes, with the real npm client alternating between
// them: one analysis per new tarball across instances (counted from every instance's metrics), the
// same decision from each, an approval through one honoured by the other on the next request, an
// instance killed with SIGKILL in the middle of an analysis and another one finishing the work once
// its lease expires, and every alert delivered exactly once to a local receiver.
//
// The mid-analysis kill is made deterministic with CAPGATE_TEST_ANALYSIS_DELAY_MS (honoured only
// under NODE_ENV=test, see plugin/cluster/test-delay.ts): the victim's analyses wait long enough to
// be caught holding the lease. No assertion is about how long anything took.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { integrityOf, makePackage } from '../test-support/make-package';
import { TestReceiver } from '../alerts/test-receiver';
import { dropSchema, eventually, freshSchema, httpGet, queryRows, startInstance } from './cluster-instances';
import type { Instance } from './cluster-instances';
import { writePinnedLockfile } from './support/lockfile';
import { makeProject } from './support/npm';
import { expectNoMatchingVersion, expectRefused, visibleVersions } from './support/outcomes';
import { requestJson, startUpstream } from './support/upstream';
import type { Upstream } from './support/upstream';

jest.setTimeout(300_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? '';
const IN_CI = process.env['CI'] === 'true';
if (DATABASE_URL === '' && !IN_CI) {
  process.stderr.write(
    '\n*** cluster.test: SKIPPED: DATABASE_URL is not set (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test). Under CI=true this fails instead. ***\n\n',
  );
}
const clusterIt = DATABASE_URL === '' && !IN_CI ? it.skip : it;

const PLAIN = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
const SPAWNS = "const cp = require('child_process');\nmodule.exports = function run() {\n  return cp.execFileSync('id');\n};\n";
const REVIEWER = { name: 'rita', password: 'rita-password-1' };
const LEASE_TTL_MS = 3000;
const TREE = ['cl-root', 'cl-dep-a', 'cl-dep-b', 'cl-dep-c', 'cl-dep-d', 'cl-dep-e'];

let work: string;
let storage: string;
let schema: string;
let upstream: Upstream;
let receiver: TestReceiver;
let a: Instance;
let b: Instance;
const extra: Instance[] = [];
let reviewerToken: string;
/** cl-spawn@1.1.0's bytes (a lockfile pinning it records their integrity). */
let spawnUpdate: Buffer;

async function pkg(name: string, version: string, index: string, deps: Record<string, string> = {}): Promise<Buffer> {
  return makePackage({ name, version, main: 'index.js', license: 'MIT', dependencies: deps }, { 'index.js': index });
}

function instance(id: string, env: Record<string, string> = {}): Promise<Instance> {
  return startInstance({
    dir: work,
    id,
    upstream: upstream.url,
    storage,
    postgres: { url: DATABASE_URL, schema },
    leaseTtlMs: LEASE_TTL_MS,
    extraYaml: ['    alerts:', '      targets:', '        - id: e2e', '          kind: json', `          url: ${receiver.url}/hook`],
    env: { CAPGATE_REVIEWERS: REVIEWER.name, ...env },
  });
}

/** Analyses run by every instance started so far (the killed one's count is gone with it; see below). */
async function analysesOf(...instances: Instance[]): Promise<number> {
  let n = 0;
  for (const i of instances) n += await i.metric('capgate_analyses_total');
  return n;
}

async function decisionVia(i: Instance, name: string, version: string): Promise<Record<string, unknown>> {
  const r = await requestJson('GET', `${i.url}-/capgate/v1/policies/${name}/${version}`);
  expect(r.status).toBe(200);
  return r.body as Record<string, unknown>;
}

beforeAll(async () => {
  if (DATABASE_URL === '') {
    if (IN_CI) throw new Error('cluster.test: DATABASE_URL is required under CI=true (the cluster e2e needs a real PostgreSQL)');
    return;
  }
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-cluster-'));
  storage = path.join(work, 'storage');
  schema = freshSchema('capgate_e2e_cluster');
  receiver = new TestReceiver();
  await receiver.start();
  upstream = await startUpstream();
  const deps = Object.fromEntries(TREE.slice(1).map((n) => [n, '1.0.0']));
  await upstream.publish(await pkg('cl-root', '1.0.0', PLAIN, deps));
  for (const n of TREE.slice(1)) await upstream.publish(await pkg(n, '1.0.0', PLAIN));
  await upstream.publish(await pkg('cl-spawn', '1.0.0', PLAIN));
  spawnUpdate = await pkg('cl-spawn', '1.1.0', SPAWNS);
  await upstream.publish(spawnUpdate);
  await upstream.publish(await pkg('cl-wait', '1.0.0', PLAIN));
  await upstream.publish(await pkg('cl-killed', '1.0.0', PLAIN));
  // Both instances slow every analysis down a little, so concurrent installs overlap on leases.
  a = await instance('a', { CAPGATE_TEST_ANALYSIS_DELAY_MS: '1000' });
  b = await instance('b', { CAPGATE_TEST_ANALYSIS_DELAY_MS: '1000' });
  const user = await requestJson('PUT', `${a.url}-/user/org.couchdb.user:${REVIEWER.name}`, { name: REVIEWER.name, password: REVIEWER.password, type: 'user', roles: [] });
  const token = (user.body as { token?: unknown }).token;
  if (user.status !== 201 || typeof token !== 'string') throw new Error(`cannot register the reviewer: ${user.status} ${JSON.stringify(user.body)}`);
  reviewerToken = token;
});

afterAll(async () => {
  for (const i of [a, b, ...extra]) await i?.stop().catch(() => undefined);
  await upstream?.close();
  await receiver?.stop();
  if (DATABASE_URL !== '' && schema !== undefined) await dropSchema(DATABASE_URL, schema);
  if (work !== undefined) await fs.rm(work, { recursive: true, force: true });
});

describe('two gated registries on one PostgreSQL store', () => {
  clusterIt('install the same tree through both at once: one analysis per tarball, the same decisions', async () => {
    const p1 = await makeProject(a.url);
    const p2 = await makeProject(b.url);
    const [r1, r2] = await Promise.all([p1.npm(['install', 'cl-root@1.0.0']), p2.npm(['install', 'cl-root@1.0.0'])]);
    expect({ code: r1.code, out: r1.output }).toMatchObject({ code: 0 });
    expect({ code: r2.code, out: r2.output }).toMatchObject({ code: 0 });
    for (const n of TREE) {
      expect(await p1.exists(`node_modules/${n}/package.json`)).toBe(true);
      expect(await p2.exists(`node_modules/${n}/package.json`)).toBe(true);
    }
    // Brand-new packages have no baseline to analyse: exactly one analysis per tarball, cluster-wide.
    expect(await analysesOf(a, b)).toBe(TREE.length);
    expect(await a.metric('capgate_analyses_total', { result: 'failed' })).toBe(0);
    for (const n of TREE) {
      const [da, db] = [await decisionVia(a, n, '1.0.0'), await decisionVia(b, n, '1.0.0')];
      expect(da['state']).toBe('allowed');
      expect(db).toEqual(da);
    }
    const served = (await a.metric('capgate_tarball_requests_total', { result: 'served' })) + (await b.metric('capgate_tarball_requests_total', { result: 'served' }));
    expect(served).toBe(2 * TREE.length);
  });

  clusterIt('an instance that finds the lease taken waits for the holder instead of analysing again', async () => {
    const before = { a: await a.metric('capgate_analyses_total'), b: await b.metric('capgate_analyses_total'), waits: await b.metric('capgate_lease_waits_total') };
    const first = httpGet(`${a.url}cl-wait/-/cl-wait-1.0.0.tgz`);
    // a is inside the analysis (its test delay): it holds the lease now.
    await eventually('a to be analysing cl-wait', async () => (await a.metric('capgate_analyses_in_progress')) === 1);
    const second = await httpGet(`${b.url}cl-wait/-/cl-wait-1.0.0.tgz`);
    expect(second.status).toBe(200);
    expect((await first).status).toBe(200);
    expect(second.headers['x-capgate-decision']).toBe('allowed');
    expect(await a.metric('capgate_analyses_total')).toBe(before.a + 1);
    expect(await b.metric('capgate_analyses_total')).toBe(before.b);
    expect(await b.metric('capgate_lease_waits_total')).toBe(before.waits + 1);
    expect(await b.metric('capgate_lease_wait_seconds_count', { outcome: 'result' })).toBeGreaterThanOrEqual(1);
  });

  clusterIt('a held update approved through one instance installs through the other on the next request', async () => {
    const viaA = await makeProject(a.url);
    const viaB = await makeProject(b.url);
    expect((await viaA.npm(['install', 'cl-spawn@1.0.0'])).code).toBe(0);
    // b refuses the update's tarball (held: it gained child-process), whichever instance analysed it
    // (a's background analysis may have started when npm read the packument through it).
    const direct = await httpGet(`${b.url}cl-spawn/-/cl-spawn-1.1.0.tgz`);
    expect(direct.status).toBe(403);
    expect(direct.text).toContain('child-process');
    expect((await decisionVia(a, 'cl-spawn', '1.1.0'))['state']).toBe('held');
    // Both instances hide the hold from npm (a's packument view of cl-spawn dropped on the store's
    // change notification): the exact version does not exist for npm, `npm install cl-spawn` takes 1.0.0.
    for (const [i, project] of [[a, viaA], [b, viaB]] as const) {
      await eventually(`${i.id} to hide cl-spawn@1.1.0`, async () => !(await visibleVersions(i.url, 'cl-spawn')).versions.includes('1.1.0'));
      expectNoMatchingVersion(await project.npm(['install', 'cl-spawn@1.1.0']), 'cl-spawn@1.1.0');
    }
    expect((await viaB.npm(['install', 'cl-spawn'])).code).toBe(0);
    expect(await viaB.readJson('node_modules/cl-spawn/package.json')).toMatchObject({ version: '1.0.0' });
    // A lockfile that pins it reaches either instance's gate: E403 with the reason.
    for (const i of [a, b]) {
      const pinned = await makeProject(i.url);
      await writePinnedLockfile(pinned.dir, i.url, [{ name: 'cl-spawn', version: '1.1.0', integrity: integrityOf(spawnUpdate) }]);
      expectRefused(await pinned.npm(['ci']), 'capgate: cl-spawn@1.1.0 is held for review', 'child-process', 'compared with 1.0.0');
      expect(await pinned.exists('node_modules/cl-spawn')).toBe(false);
    }
    expect(await httpGet(`${a.url}cl-spawn/-/cl-spawn-1.1.0.tgz`)).toMatchObject({ status: 403 });

    const approve = await requestJson('POST', `${a.url}-/capgate/v1/reviews/cl-spawn/1.1.0`, { decision: 'approve', reason: 'e2e: reviewed the exec' }, reviewerToken);
    expect(approve.status).toBe(200);
    // No waiting and no restart: b dropped its cached hold on the store's change notification.
    const afterB = await viaB.npm(['install', 'cl-spawn@1.1.0']);
    expect({ code: afterB.code, out: afterB.output }).toMatchObject({ code: 0 });
    expect(await viaB.readJson('node_modules/cl-spawn/package.json')).toMatchObject({ version: '1.1.0' });
    const afterA = await viaA.npm(['install', 'cl-spawn@1.1.0']);
    expect(afterA.code).toBe(0);
    expect((await decisionVia(b, 'cl-spawn', '1.1.0'))['state']).toBe('approved');
    expect(await b.metric('capgate_cache_invalidations_total')).toBeGreaterThanOrEqual(1);
  });

  clusterIt('an instance killed with SIGKILL mid-analysis: another takes its lease over once it expires and finishes the work', async () => {
    const victim = await instance('victim', { CAPGATE_TEST_ANALYSIS_DELAY_MS: '600000' });
    extra.push(victim);
    const doomed = httpGet(`${victim.url}cl-killed/-/cl-killed-1.0.0.tgz`).catch((e: unknown) => e);
    await eventually('the victim to be analysing cl-killed', async () => (await victim.metric('capgate_analyses_in_progress')) === 1);
    // It holds the decision lease and, nested in that work, the policy lease of the same bytes.
    const held = await queryRows(DATABASE_URL, `SELECT key, owner FROM ${schema}.leases WHERE key LIKE $1 ORDER BY key`, ['%:cl-killed@1.0.0#%']);
    expect(held.map((row) => String(row['key']).split(':')[0])).toEqual(['decision', 'policy']);
    for (const row of held) expect(String(row['owner'])).toMatch(/^victim\//);
    await victim.kill();
    // The request to the victim dies with it (jest's realm has its own Error, so compare the text).
    expect(String(await doomed)).toMatch(/socket hang up|ECONNRESET|ECONNREFUSED/);

    const before = { analyses: await b.metric('capgate_analyses_total'), takeovers: await b.metric('capgate_lease_takeovers_total') };
    const project = await makeProject(b.url);
    const r = await project.npm(['install', 'cl-killed@1.0.0']);
    expect({ code: r.code, out: r.output }).toMatchObject({ code: 0 });
    expect(await b.metric('capgate_analyses_total')).toBe(before.analyses + 1);
    // The victim held two leases for cl-killed@1.0.0 when it died: the decision lease and, nested
    // in its work, the policy lease of the same bytes. Both stop being renewed at once but expire a
    // few milliseconds apart, so b takes over the decision lease after waiting and then either finds
    // the policy lease expired already (one takeover) or waits those milliseconds for it (two).
    const takeovers = (await b.metric('capgate_lease_takeovers_total')) - before.takeovers;
    expect(takeovers).toBeGreaterThanOrEqual(1);
    expect(takeovers).toBeLessThanOrEqual(2);
    expect((await decisionVia(a, 'cl-killed', '1.0.0'))['state']).toBe('allowed');
    // Released after the work: no lease is left behind.
    expect(await queryRows(DATABASE_URL, `SELECT owner FROM ${schema}.leases WHERE key LIKE $1`, ['%:cl-killed@1.0.0#%'])).toHaveLength(0);
  });

  clusterIt('every alert is delivered once: none lost, none twice, never concurrently', async () => {
    // Events so far: held cl-spawn@1.1.0, then approved cl-spawn@1.1.0.
    await eventually('the outbox to drain', async () => (await a.metric('capgate_outbox_depth')) === 0 && receiver.received.length >= 2);
    const ids = receiver.received.map((r) => r.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(receiver.concurrentDuplicates).toEqual([]);
    const types = receiver.received.map((r) => (JSON.parse(r.body) as { type?: unknown }).type).sort();
    expect(types).toEqual(['approved', 'held']);
    const rows = await queryRows(DATABASE_URL, `SELECT count(*)::int AS n FROM ${schema}.outbox_deliveries WHERE delivered_at IS NULL`);
    expect(rows[0]?.['n']).toBe(0);
  });
});
