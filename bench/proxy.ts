// Owns `npm run bench:proxy`: the same real dependency tree (>= 150 packages, pinned by one
// lockfile) installed with the real npm client through a plain Verdaccio and through capgate, both
// proxying the registry of the npm configuration in force, cold (empty registry storage: first
// fetch, and for capgate first analysis) and warm (registry cache and decisions known), then the
// ratios and capgate's peak RSS. Cold runs twice for capgate: in monitor mode and in enforce mode
// (the default), each on empty storage. The upstream URL is read at run time and written nowhere.
//
// Targets (issue 3): warm <= 1.05x plain, cold <= 1.5x plain.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveUpstream } from '../cli/serve';
import { cleanEnv, DEPENDENCIES, MIN_PACKAGES, npm } from './tree';
import { analyzeTarball } from '../analyzer';
import { clearScanCache } from '../analyzer/scan-cache';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO_ROOT, 'dist', 'cli', 'bin.js');

const WARM_ROUNDS = Number(process.env['BENCH_WARM_ROUNDS'] ?? 5);

interface Registry {
  readonly url: string;
  readonly pid: number;
  peakRssMb(): Promise<number>;
  /** CPU seconds (user + system, all threads) the process has used so far. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}


async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 90_000);
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      const m = pattern.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}):\n${out}`)));
  });
}

async function peakRss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m?.[1] === undefined ? NaN : Number(m[1]) / 1024;
}

/** utime + stime in seconds from a /proc stat line (clock ticks of 1/100 s on Linux). */
function statSeconds(stat: string): number {
  // Fields after the command name (which may hold spaces), which ends at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / 100 : NaN;
}

/** CPU seconds of a whole process (all its threads). */
async function cpuSeconds(pid: number): Promise<number> {
  return statSeconds(await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
}

/** CPU seconds per thread name (main `node`, analysis workers, libuv pool, V8 helpers), for the breakdown. */
async function threadSeconds(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const tids = await fs.readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids) {
    const stat = await fs.readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const key = tid === String(pid) ? 'main' : `${name}/${tid}`;
    out.set(key, (out.get(key) ?? 0) + statSeconds(stat));
  }
  return out;
}

/** main thread, the two busiest other threads (the analysis workers, when they run) and the rest. */
function threadDelta(before: Map<string, number>, after: Map<string, number>): string {
  const deltas = [...after.entries()].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const);
  const main = deltas.find(([k]) => k === 'main')?.[1] ?? 0;
  const others = deltas.filter(([k]) => k !== 'main').map(([, v]) => v).sort((a, b) => b - a);
  const rest = others.slice(2).reduce((a, b) => a + b, 0);
  return `main thread ${main.toFixed(1)} s, busiest two others ${others.slice(0, 2).map((v) => v.toFixed(1)).join(' + ')} s, ${others.length - 2} more ${rest.toFixed(1)} s`;
}

function registryOf(child: ChildProcess, url: string): Registry {
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    peakRssMb: () => peakRss(pid),
    cpuSeconds: () => cpuSeconds(pid),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Plain Verdaccio (no plugin) in a child process; its config, uplink URL included, exists only in memory. */
async function startPlain(upstream: string, storage: string): Promise<Registry> {
  const child = spawn(process.execPath, [__filename, '--plain-server'], {
    env: cleanEnv({ BENCH_UPSTREAM: upstream, BENCH_STORAGE: storage }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await waitForLine(child, /plain verdaccio listening on (\S+)/, 'plain Verdaccio');
  return registryOf(child, url);
}

async function runPlainServer(): Promise<void> {
  const storage = process.env['BENCH_STORAGE'] ?? '';
  const upstream = process.env['BENCH_UPSTREAM'] ?? '';
  const configPath = path.join(path.dirname(storage), 'plain.yaml');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- verdaccio is CommonJS
  const { runServer } = require('verdaccio') as { runServer: (c: unknown) => Promise<http.Server> };
  const server = await runServer({
    storage,
    self_path: configPath,
    configPath,
    auth: { htpasswd: { file: path.join(path.dirname(storage), 'htpasswd') } },
    uplinks: { upstream: { url: upstream, timeout: '60s' } },
    packages: {
      '@*/*': { access: '$all', publish: '$authenticated', proxy: 'upstream' },
      '**': { access: '$all', publish: '$authenticated', proxy: 'upstream' },
    },
    server: { keepAliveTimeout: 60 },
    log: { type: 'stdout', format: 'pretty', level: 'warn' },
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`plain verdaccio listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`);
  });
}

/**
 * Tier overrides of the enforce-mode run: what this tree holds by default, as an operator who
 * reviewed it would configure (async-function@1.0.0 builds an async function with a constant
 * `Function(...)` string, which is `code-eval`). Without them `npm ci` would end at the hold.
 */
const ENFORCE_TIERS = { 'async-function': { 'code-eval': 'flag' } } as const;

/**
 * capgate as users run it: `capgate serve` on a temp copy of verdaccio.yaml (quieter log), in
 * `monitor` mode (serves everything, records what enforce would do) or in `enforce` mode, the
 * default, with ENFORCE_TIERS so that the tree installs.
 */
async function startGate(upstream: string, dir: string, mode: 'monitor' | 'enforce'): Promise<Registry> {
  let yaml = await fs.readFile(path.join(REPO_ROOT, 'verdaccio.yaml'), 'utf8');
  yaml = yaml
    .replace(/^plugins: .*$/m, `plugins: ${JSON.stringify(path.join(REPO_ROOT, 'dist', 'plugin', 'loader'))}`)
    .replace(/^(\s+)level: http$/m, '$1level: warn')
    .replace(/^(\s+)mode: enforce$/m, mode === 'monitor' ? '$1mode: monitor' : `$1mode: enforce\n$1packageTiers: ${JSON.stringify(ENFORCE_TIERS)}`);
  // BENCH_GATE_THREADS: analysis worker threads (capgate.analysis.threads), to compare settings.
  const threads = process.env['BENCH_GATE_THREADS'];
  if (threads !== undefined && threads !== '') yaml = yaml.replace(/^(\s+)analysis:$/m, `$1analysis:\n$1  threads: ${Number(threads)}`);
  const config = path.join(dir, 'verdaccio.yaml');
  await fs.writeFile(config, yaml);
  const extra = (process.env['BENCH_GATE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...extra, BIN, 'serve', '--config', config, '--port', '0'], {
    env: cleanEnv({ CAPGATE_UPSTREAM: upstream, VERDACCIO_STORAGE_PATH: path.join(dir, 'storage') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await waitForLine(child, /gated registry listening on (\S+)/, 'capgate serve');
  return registryOf(child, url);
}


/** One `npm ci` of the pinned tree in a fresh project with a fresh npm cache (all tarballs come from the registry). */
async function install(work: string, label: string, lock: string, fromUrl: string, registry: Registry): Promise<{ ms: number; cpuMs: number }> {
  const dir = await fs.mkdtemp(path.join(work, `${label}-`));
  const project = path.join(dir, 'project');
  await fs.mkdir(project);
  await fs.writeFile(path.join(dir, 'npmrc'), '');
  await fs.writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies: DEPENDENCIES }, null, 2));
  await fs.writeFile(path.join(project, 'package-lock.json'), lock.split(fromUrl).join(registry.url));
  const r = await npm(['ci'], project, path.join(dir, 'cache'), registry.url);
  if (r.code !== 0) throw new Error(`${label}: npm ci failed (${r.code}):\n${r.output.slice(-3000)}`);
  await fs.rm(dir, { recursive: true, force: true });
  return { ms: r.ms, cpuMs: r.cpuMs };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const upstream = await resolveUpstream(process.env);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-bench-'));
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  log(`bench:proxy: upstream from ${upstream.source}; work folder ${work}; ${os.cpus().length} CPUs`);
  await fs.mkdir(path.join(work, 'plain'));
  await fs.mkdir(path.join(work, 'gate'));
  await fs.mkdir(path.join(work, 'enforce'));
  const plain = await startPlain(upstream.url, path.join(work, 'plain', 'storage'));
  const gate = await startGate(upstream.url, path.join(work, 'gate'), 'monitor');
  const enforcing = await startGate(upstream.url, path.join(work, 'enforce'), 'enforce');
  try {
    // Pin the tree once (packuments only) through a throw-away plain Verdaccio, so that the
    // measured registries start cold.
    await fs.mkdir(path.join(work, 'lock'));
    const lockRegistry = await startPlain(upstream.url, path.join(work, 'lock', 'storage'));
    const lockDir = path.join(work, 'lock', 'project');
    await fs.mkdir(lockDir);
    await fs.writeFile(path.join(work, 'lock', 'npmrc'), '');
    await fs.writeFile(path.join(lockDir, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies: DEPENDENCIES }, null, 2));
    const locked = await npm(['install', '--package-lock-only'], lockDir, path.join(work, 'lock', 'cache'), lockRegistry.url);
    await lockRegistry.stop();
    if (locked.code !== 0) throw new Error(`could not pin the tree:\n${locked.output}`);
    const lock = await fs.readFile(path.join(lockDir, 'package-lock.json'), 'utf8');
    const packages = Object.keys((JSON.parse(lock) as { packages: Record<string, unknown> }).packages).filter((k) => k.startsWith('node_modules/'));
    log(`tree: ${packages.length} packages (${Object.entries(DEPENDENCIES).map(([n, v]) => `${n}@${v}`).join(', ')})`);
    if (packages.length < MIN_PACKAGES) throw new Error(`the tree has ${packages.length} packages, fewer than ${MIN_PACKAGES}`);

    const cpu0 = await plain.cpuSeconds();
    const coldPlainRun = await install(work, 'plain-cold', lock, lockRegistry.url, plain);
    const cpu1 = await gate.cpuSeconds();
    const threads1 = await threadSeconds(gate.pid);
    const coldGateRun = await install(work, 'gate-cold', lock, lockRegistry.url, gate);
    const cold = { plain: coldPlainRun.ms, gate: coldGateRun.ms };
    const cpu = { plain: (await plain.cpuSeconds()) - cpu0, gate: (await gate.cpuSeconds()) - cpu1 };
    const threads2 = await threadSeconds(gate.pid);
    const cpu2 = await enforcing.cpuSeconds();
    const coldEnforceRun = await install(work, 'enforce-cold', lock, lockRegistry.url, enforcing);
    const coldEnforce = coldEnforceRun.ms;
    const cpuEnforce = (await enforcing.cpuSeconds()) - cpu2;
    log(`cold:  plain ${secs(cold.plain)}  capgate ${secs(cold.gate)}  ratio ${(cold.gate / cold.plain).toFixed(3)}x  (target <= 1.5x; monitor mode)`);
    log(`cold, enforce mode: capgate ${secs(coldEnforce)}  ratio ${(coldEnforce / cold.plain).toFixed(3)}x  (same plain run; tiers ${JSON.stringify(ENFORCE_TIERS)})`);
    log(
      `cold CPU of the registry process (all threads): plain Verdaccio ${cpu.plain.toFixed(1)} s, capgate monitor ${cpu.gate.toFixed(1)} s (${threadDelta(threads1, threads2)}), capgate enforce ${cpuEnforce.toFixed(1)} s`,
    );
    log(`cold CPU of the npm client: plain ${(coldPlainRun.cpuMs / 1000).toFixed(1)} s, capgate monitor ${(coldGateRun.cpuMs / 1000).toFixed(1)} s, capgate enforce ${(coldEnforceRun.cpuMs / 1000).toFixed(1)} s`);
    log(`cold breakdown (monitor): ${await analysisBreakdown(gate.url)}`);
    log(`cold breakdown (enforce): ${await analysisBreakdown(enforcing.url)}`);
    log(`enforce-mode decisions: ${await summariseDecisions(enforcing.url, packages, lock)}`);
    await enforcing.stop();
    const warmPlain: number[] = [];
    const warmGate: number[] = [];
    for (let i = 0; i < WARM_ROUNDS; i++) {
      // alternate which goes first, so drift does not favour one side
      if (i % 2 === 0) {
        warmPlain.push((await install(work, 'plain-warm', lock, lockRegistry.url, plain)).ms);
        warmGate.push((await install(work, 'gate-warm', lock, lockRegistry.url, gate)).ms);
      } else {
        warmGate.push((await install(work, 'gate-warm', lock, lockRegistry.url, gate)).ms);
        warmPlain.push((await install(work, 'plain-warm', lock, lockRegistry.url, plain)).ms);
      }
      log(`warm round ${i + 1}: plain ${secs(warmPlain[i] ?? NaN)}  capgate ${secs(warmGate[i] ?? NaN)}`);
    }
    const wp = median(warmPlain);
    const wg = median(warmGate);
    log(`after the warm rounds: ${await analysisBreakdown(gate.url)}`);
    log(`warm (median of ${WARM_ROUNDS}):  plain ${secs(wp)}  capgate ${secs(wg)}  ratio ${(wg / wp).toFixed(3)}x  (target <= 1.05x)`);
    // The same tarballs fetched raw (16 at a time, like npm's sockets): the registries' own time
    // without npm's extraction and disk work, which dominate the noise of a shared machine.
    const paths = tarballPaths(lock, packages);
    const rawPlain: number[] = [];
    const rawGate: number[] = [];
    for (let i = 0; i < 8; i++) {
      rawPlain.push(await fetchAll(plain.url, paths, 16));
      rawGate.push(await fetchAll(gate.url, paths, 16));
    }
    const rp = median(rawPlain);
    const rg = median(rawGate);
    log(`warm raw fetch of the ${paths.length} tarballs (median of 8, 16 at a time): plain ${secs(rp)}  capgate ${secs(rg)}  ratio ${(rg / rp).toFixed(3)}x`);
    log(`peak RSS: capgate ${(await gate.peakRssMb()).toFixed(0)} MiB (process incl. analysis workers), plain Verdaccio ${(await plain.peakRssMb()).toFixed(0)} MiB`);
    log(`capgate decisions: ${await summariseDecisions(gate.url, packages, lock)}`);
    await analysisFloor(log, plain.url, paths, { wallMs: cold.plain, cpuMs: cpu.plain * 1000 + coldPlainRun.cpuMs });
  } finally {
    await enforcing.stop();
    await gate.stop();
    await plain.stop();
    if (process.env['BENCH_KEEP'] !== '1') await fs.rm(work, { recursive: true, force: true });
  }
}

function tarballPaths(lock: string, packages: readonly string[]): string[] {
  const entries = (JSON.parse(lock) as { packages: Record<string, { version?: string; name?: string }> }).packages;
  return packages.map((key) => {
    const name = entries[key]?.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    return `${name}/-/${name.split('/').pop() ?? name}-${entries[key]?.version ?? ''}.tgz`;
  });
}

/** GETs every path (concurrency `width`); returns the elapsed ms. Throws on a non-200. */
async function fetchAll(base: string, paths: readonly string[], width: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: width });
  const started = process.hrtime.bigint();
  let next = 0;
  const one = (p: string): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get(`${base}${p}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${p}: ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < paths.length) {
        const p = paths[next++];
        if (p !== undefined) await one(p);
      }
    }),
  );
  agent.destroy();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** GETs one path's body. Throws on a non-200. */
function fetchBytes(base: string, p: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${p}`, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${p}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/**
 * What analysing the tree costs at the least, and what that bounds: the tree's tarballs (from the
 * plain registry's cache) analysed in this process, one thread, scan cache cleared per tarball,
 * twice. The first pass is what new code costs a fresh V8 (its optimising compiler meets each
 * code shape for the first time); the second, the same tarballs again with everything compiled,
 * is the cheapest the analysis gets. Whatever a gate does, if it analyses every tarball before it
 * serves it, that CPU adds to what the plain cold install already used (registry plus npm client)
 * on the same cores: (plain CPU + analysis CPU) / cores bounds the gated cold install from below,
 * even with perfect parallelism and no cost of its own besides the analysis.
 */
async function analysisFloor(log: (s: string) => void, plainUrl: string, paths: readonly string[], plainCold: { wallMs: number; cpuMs: number }): Promise<void> {
  const tarballs: Buffer[] = [];
  for (const p of paths) tarballs.push(await fetchBytes(plainUrl, p));
  const pass = async (): Promise<number> => {
    const before = process.cpuUsage();
    for (const bytes of tarballs) {
      clearScanCache();
      await analyzeTarball(bytes);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
  const first = await pass();
  const second = await pass();
  const cores = os.cpus().length;
  const bound = (analysisMs: number): string => {
    const ms = Math.max(plainCold.wallMs, (plainCold.cpuMs + analysisMs) / cores);
    return `${secs(ms)} (${(ms / plainCold.wallMs).toFixed(2)}x)`;
  };
  log(`analysis CPU of the ${tarballs.length} tarballs in one thread of this process: first pass ${secs(first)}, again with the code compiled ${secs(second)}`);
  log(
    `lower bound of a gated cold install on ${cores} cores, (plain cold CPU ${secs(plainCold.cpuMs)} + analysis) / ${cores}: ${bound(first)} at the first pass's cost, ${bound(second)} at the second's; the target is 1.5x`,
  );
}

/** Analyses and their summed worker time, from the gate's Prometheus metrics (when enabled). */
async function analysisBreakdown(gateUrl: string): Promise<string> {
  const text = await new Promise<string>((resolve) => {
    http
      .get(`${gateUrl}-/capgate/metrics`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve(res.statusCode === 200 ? body : ''));
      })
      .on('error', () => resolve(''));
  });
  const sum = (metric: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(metric) && !l.startsWith('#'))
      .reduce((acc, l) => acc + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  if (text === '') return 'metrics unavailable';
  const count = sum('capgate_analysis_duration_seconds_count');
  const seconds = sum('capgate_analysis_duration_seconds_sum');
  return `${count} analyses (new versions and baselines), ${seconds.toFixed(1)} s of analysis in total, mean ${(seconds / Math.max(1, count)).toFixed(2)} s`;
}

/** States of the tree's versions as the gate recorded them (monitor mode: what enforce would do). */
async function summariseDecisions(gateUrl: string, packages: readonly string[], lock: string): Promise<string> {
  const entries = (JSON.parse(lock) as { packages: Record<string, { version?: string; name?: string }> }).packages;
  const counts = new Map<string, number>();
  const held: string[] = [];
  for (const key of packages) {
    const name = entries[key]?.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const version = entries[key]?.version ?? '';
    const body = await getJson(`${gateUrl}-/capgate/v1/policies/${name.replace('/', '%2f')}/${encodeURIComponent(version)}`);
    const state = typeof body['state'] === 'string' ? body['state'] : 'none';
    counts.set(state, (counts.get(state) ?? 0) + 1);
    if (state === 'held') held.push(`${name}@${version} (${String((body['gained'] as unknown[] | undefined)?.join(',') ?? '')} vs ${String(body['baseline'])})`);
  }
  const summary = [...counts.entries()].map(([k, v]) => `${k} ${v}`).join(', ');
  return held.length === 0 ? summary : `${summary}; enforce would hold: ${held.join('; ')}`;
}

function getJson(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
          } catch {
            resolve({});
          }
        });
      })
      .on('error', () => resolve({}));
  });
}

if (process.argv.includes('--plain-server')) {
  runPlainServer().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:proxy: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
