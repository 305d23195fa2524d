// Owns `npm run bench:cluster` (issue 6): the same cold install of a real dependency tree
// (>= 150 packages, pinned by one lockfile) through
//   1. one `capgate serve` on the file store, and
//   2. two `capgate serve` instances on one PostgreSQL schema and one Verdaccio storage folder,
//      behind a round-robin HTTP load balancer in this process (every request goes to the next
//      instance, so one install's tarballs are split between them), and
//   3. the same two instances, each with its own npm client installing the whole tree at once
//      (the worst case for duplicate work: every tarball is asked of both at the same moment),
// printing the ratio of wall times and the number of analyses actually run against the number of
// tarballs analysed (goal: exactly one analysis per tarball). Every scenario starts cold: fresh
// registry storage, fresh store, fresh npm cache. Monitor mode, as in bench:proxy: a real tree may
// contain updates enforce would hold, which would stop `npm ci`; the gate does the same work.
//
// The upstream is the registry of the npm configuration in force (or CAPGATE_UPSTREAM), read at
// run time and written nowhere. PostgreSQL comes from DATABASE_URL.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveUpstream } from '../cli/serve';
import { DEPENDENCIES, MIN_PACKAGES, npm } from './tree';
import { dropSchema, freshSchema, queryRows, startInstance } from '../e2e/cluster-instances';
import type { Instance } from '../e2e/cluster-instances';


const log = (s: string): void => void process.stdout.write(`${s}\n`);
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;


/** A fresh project with the pinned lockfile pointing at `registry`; returns its folder. */
async function project(work: string, label: string, lock: string, fromUrl: string, registry: string): Promise<{ dir: string; cache: string }> {
  const root = await fs.mkdtemp(path.join(work, `${label}-`));
  const dir = path.join(root, 'project');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(root, 'npmrc'), '');
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies: DEPENDENCIES }, null, 2));
  await fs.writeFile(path.join(dir, 'package-lock.json'), lock.split(fromUrl).join(registry));
  return { dir, cache: path.join(root, 'cache') };
}

async function ci(work: string, label: string, lock: string, fromUrl: string, registry: string): Promise<number> {
  const p = await project(work, label, lock, fromUrl, registry);
  const r = await npm(['ci'], p.dir, p.cache, registry);
  if (r.code !== 0) throw new Error(`${label}: npm ci failed (${r.code}):\n${r.output.slice(-3000)}`);
  return r.ms;
}

/** Round-robin HTTP load balancer on loopback: each request goes to the next backend, Host kept. */
async function startBalancer(backends: readonly string[]): Promise<{ url: string; close: () => Promise<void> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(backends[next++ % backends.length] ?? '');
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`balancer: ${e.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

interface Counts {
  ok: number;
  failed: number;
  waits: number;
  takeovers: number;
  failures: string;
}

async function analysesOf(instances: readonly Instance[]): Promise<Counts> {
  const r = { ok: 0, failed: 0, waits: 0, takeovers: 0, failures: '' };
  const codes = new Map<string, number>();
  for (const i of instances) {
    for (const line of (await i.metricsText()).split('\n')) {
      const m = /^capgate_analysis_failures_total\{.*code="([^"]+)".*\} (\S+)$/.exec(line);
      if (m?.[1] !== undefined) codes.set(m[1], (codes.get(m[1]) ?? 0) + Number(m[2]));
    }
    r.ok += await i.metric('capgate_analyses_total', { result: 'ok' });
    r.failed += await i.metric('capgate_analyses_total', { result: 'failed' });
    r.waits += await i.metric('capgate_lease_waits_total');
    r.takeovers += await i.metric('capgate_lease_takeovers_total');
  }
  r.failures = [...codes.entries()].map(([c, n]) => `${c} ${n}`).join(', ');
  return r;
}

/** Files under a folder whose name ends in `.json` (the file store's policies/<name>/<version>.json). */
async function countJson(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) if (e.isFile() && e.name.endsWith('.json')) n++;
  return n;
}

function describeRun(label: string, ms: number, a: Counts, tarballs: number): string {
  const per = tarballs === 0 ? NaN : (a.ok + a.failed) / tarballs;
  const failed = a.failed === 0 ? '0 failed' : `${a.failed} failed: ${a.failures}`;
  return `${label}: ${secs(ms)}; analyses run ${a.ok + a.failed} (${failed}) for ${tarballs} tarballs analysed (policies stored) = ${per.toFixed(3)} per tarball; lease waits ${a.waits}, takeovers ${a.takeovers}`;
}

async function main(): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  if (databaseUrl === '') throw new Error('DATABASE_URL is required (e.g. postgres://postgres@127.0.0.1:5432/test)');
  const upstream = await resolveUpstream(process.env);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-bench-cluster-'));
  log(`bench:cluster: upstream from ${upstream.source}; work folder ${work}; ${os.cpus().length} CPUs`);
  const common = { upstream: upstream.url, mode: 'monitor' as const, logLevel: 'error' as const };
  const schemas: string[] = [];
  const running: Instance[] = [];
  const start = async (o: Parameters<typeof startInstance>[0]): Promise<Instance> => {
    const i = await startInstance(o);
    running.push(i);
    return i;
  };
  const stopAll = async (): Promise<void> => {
    for (const i of running.splice(0)) await i.stop();
  };
  try {
    // Pin the tree once (packuments only, nothing analysed) through a throw-away instance.
    const pin = await start({ ...common, dir: path.join(work, 'pin'), id: 'pin', storage: path.join(work, 'pin', 'storage'), postgres: null });
    const pinDir = await project(work, 'pin-project', '{}', '', pin.url);
    await fs.rm(path.join(pinDir.dir, 'package-lock.json'));
    // Versions at least two days old only: a version published minutes ago may still be missing from
    // some of the upstream's packument caches, and a tarball the packument does not list is refused.
    const before = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
    const locked = await npm(['install', '--package-lock-only', `--before=${before}`], pinDir.dir, pinDir.cache, pin.url);
    if (locked.code !== 0) throw new Error(`could not pin the tree:\n${locked.output}`);
    const lock = await fs.readFile(path.join(pinDir.dir, 'package-lock.json'), 'utf8');
    const lockUrl = pin.url;
    await stopAll();
    const packages = Object.keys((JSON.parse(lock) as { packages: Record<string, unknown> }).packages).filter((k) => k.startsWith('node_modules/'));
    log(`tree: ${packages.length} packages (${Object.entries(DEPENDENCIES).map(([n, v]) => `${n}@${v}`).join(', ')})`);
    if (packages.length < MIN_PACKAGES) throw new Error(`the tree has ${packages.length} packages, fewer than ${MIN_PACKAGES}`);

    // 1. One instance, file store (run again at the end: the order must not favour either side).
    const runSingle = async (round: number): Promise<number> => {
      const dir = path.join(work, `single-${round}`);
      const single = await start({ ...common, dir, id: `single-${round}`, storage: path.join(dir, 'storage'), postgres: null });
      const ms = await ci(work, `single-${round}`, lock, lockUrl, single.url);
      log(describeRun(`one instance, file store (run ${round})`, ms, await analysesOf([single]), await countJson(path.join(dir, 'storage', '.capgate', 'policies'))));
      await stopAll();
      return ms;
    };
    const singleFirst = await runSingle(1);

    // 2. Two instances on PostgreSQL behind a round-robin balancer.
    const schema = freshSchema('capgate_bench_cluster');
    schemas.push(schema);
    const shared = path.join(work, 'cluster', 'storage');
    const pg = { url: databaseUrl, schema };
    const a = await start({ ...common, dir: path.join(work, 'cluster'), id: 'a', storage: shared, postgres: pg });
    const b = await start({ ...common, dir: path.join(work, 'cluster'), id: 'b', storage: shared, postgres: pg });
    const balancer = await startBalancer([a.url, b.url]);
    let clusterMs: number;
    try {
      clusterMs = await ci(work, 'cluster', lock, lockUrl, balancer.url);
    } finally {
      await balancer.close();
    }
    const clusterAnalyses = await analysesOf([a, b]);
    const clusterTarballs = Number((await queryRows(databaseUrl, `SELECT count(*)::int AS n FROM ${schema}.policies`))[0]?.['n'] ?? NaN);
    log(describeRun('two instances, PostgreSQL, round-robin balancer', clusterMs, clusterAnalyses, clusterTarballs));
    log(`  split: a analysed ${await a.metric('capgate_analyses_total')}, b analysed ${await b.metric('capgate_analyses_total')}`);
    await stopAll();

    // 3. Two instances on PostgreSQL, a client on each, the whole tree at once.
    const schema2 = freshSchema('capgate_bench_cluster');
    schemas.push(schema2);
    const shared2 = path.join(work, 'race', 'storage');
    const pg2 = { url: databaseUrl, schema: schema2 };
    const c = await start({ ...common, dir: path.join(work, 'race'), id: 'c', storage: shared2, postgres: pg2 });
    const d = await start({ ...common, dir: path.join(work, 'race'), id: 'd', storage: shared2, postgres: pg2 });
    const started = process.hrtime.bigint();
    const [mc, md] = await Promise.all([ci(work, 'race-c', lock, lockUrl, c.url), ci(work, 'race-d', lock, lockUrl, d.url)]);
    const raceMs = Number(process.hrtime.bigint() - started) / 1e6;
    const raceAnalyses = await analysesOf([c, d]);
    const raceTarballs = Number((await queryRows(databaseUrl, `SELECT count(*)::int AS n FROM ${schema2}.policies`))[0]?.['n'] ?? NaN);
    log(describeRun('two instances, PostgreSQL, both clients at once', raceMs, raceAnalyses, raceTarballs));
    log(`  clients: via c ${secs(mc)}, via d ${secs(md)}; c analysed ${await c.metric('capgate_analyses_total')}, d analysed ${await d.metric('capgate_analyses_total')}`);
    await stopAll();
    const singleLast = await runSingle(2);
    const singleMs = (singleFirst + singleLast) / 2;
    log(`ratio of wall times, two instances on PostgreSQL behind the balancer / one on the file store (mean of its two runs): ${(clusterMs / singleMs).toFixed(3)}x`);
    log(`ratio of wall times, two clients at once on two instances / one client on one instance: ${(raceMs / singleMs).toFixed(3)}x`);
  } finally {
    await stopAll();
    for (const s of schemas) await dropSchema(databaseUrl, s).catch(() => undefined);
    if (process.env['BENCH_KEEP'] !== '1') await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cluster: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
