// Owns `npm run bench:analyze`: real, benign updates of popular packages (../shared/bench/benign-pairs.tsv)
// packed once with the npm client into .cache/bench, analyzed in the AnalyzerPool (2 threads) and
// diffed (the pool's workers are warmed up first, as a server's are at start-up; --no-warm-up to
// time cold workers too). Prints how many pairs would be flagged or blocked per update level and why, errors and
// timeouts, time per package, throughput and peak RSS; writes every pair's result to
// .cache/bench/last-run.json. Every flag here is review work a security team would not need.
//
// Registry mode (default): like the gate, each dependency a new version adds or re-points is packed
// at the version npm would resolve (`npm view NAME@RANGE version --json`, the highest), analyzed, and
// passed to diffPolicies as dependencyPolicies. Offline figures (no dependency policies, as
// `capgate diff`) are printed as well.
//
// The registry is whatever the user's npm configuration says: this file never names a host.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import * as semver from 'semver';
import { AnalyzerPool } from '../analyzer/pool';
import { isAnalyzerError } from '../analyzer/errors';
import { diffPolicies } from '../analyzer/diff';
import type { CapabilityId, PackagePolicy, PolicyDiff } from '../analyzer/types';
import { changedDependencies } from '../plugin/transitive/dependencies';

const ROOT = path.resolve(__dirname, '..', '..');
const PAIRS_FILE = path.resolve(ROOT, '..', 'shared', 'bench', 'benign-pairs.tsv');
const CACHE = path.join(ROOT, '.cache', 'bench');

type Level = 'patch' | 'minor' | 'major';
const LEVELS: readonly Level[] = ['patch', 'minor', 'major'];

interface Pair {
  readonly name: string;
  readonly old: string;
  readonly new: string;
  readonly level: Level;
}

interface Analysis {
  readonly spec: string;
  readonly file: string | null;
  readonly bytes: number;
  readonly ms: number;
  readonly policy: PackagePolicy | null;
  /** download | CAPGATE_ANALYSIS_TIMEOUT | other error code */
  readonly error: { readonly kind: string; readonly message: string } | null;
}

interface Options {
  readonly registryMode: boolean;
  readonly threads: number;
  readonly timeoutMs: number;
  readonly limit: number | undefined;
  readonly only: string | undefined;
  readonly downloadConcurrency: number;
  readonly warmUp: boolean;
  /** Versions of one package go to the worker that analysed the previous one (AnalyzerPool affinity). */
  readonly affinity: boolean;
}

function fail(message: string): never {
  process.stderr.write(`bench:analyze: ${message}\n`);
  process.exit(2);
}

function readPairs(): Pair[] {
  if (!existsSync(PAIRS_FILE)) fail(`missing ${PAIRS_FILE} (expected ../shared/bench/benign-pairs.tsv next to the repository)`);
  const lines = readFileSync(PAIRS_FILE, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split('\t');
  const col = (n: string): number => {
    const i = header.indexOf(n);
    if (i < 0) fail(`${PAIRS_FILE}: no "${n}" column in its header (${header.join(', ')})`);
    return i;
  };
  const [ni, oi, vi, li] = [col('name'), col('old'), col('new'), col('level')];
  return lines.map((line, i) => {
    const f = line.split('\t');
    const level = f[li] as Level;
    const pair = { name: f[ni] ?? '', old: f[oi] ?? '', new: f[vi] ?? '', level };
    if (!pair.name || !semver.valid(pair.old) || !semver.valid(pair.new) || !LEVELS.includes(level)) fail(`${PAIRS_FILE}:${i + 2}: bad line ${JSON.stringify(line)}`);
    return pair;
  });
}

function run(cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim().split('\n').filter((l) => !/Unknown user config/.test(l)).join(' ').slice(0, 400)}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The file name `npm pack` gives NAME@VERSION: `@scope/name` -> `scope-name-VERSION.tgz`. */
function packFileName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

const downloads = new Map<string, Promise<string>>();

/** Packs NAME@VERSION into the cache once (no lifecycle scripts run: --ignore-scripts) and returns the file. */
function download(name: string, version: string): Promise<string> {
  const spec = `${name}@${version}`;
  let p = downloads.get(spec);
  if (!p) {
    const file = path.join(CACHE, packFileName(name, version));
    p = existsSync(file)
      ? Promise.resolve(file)
      : run('npm', ['pack', spec, '--pack-destination', CACHE, '--ignore-scripts', '--json', '--silent']).then(({ stdout }) => {
          const parsed: unknown = JSON.parse(stdout.slice(stdout.indexOf('[')));
          const got = Array.isArray(parsed) ? (parsed[0] as { filename?: unknown } | undefined)?.filename : undefined;
          const out = typeof got === 'string' ? path.join(CACHE, path.basename(got)) : file;
          if (!existsSync(out)) throw new Error(`npm pack ${spec} reported ${String(got)} but it is not in ${CACHE}`);
          return out;
        });
    downloads.set(spec, p);
  }
  return p;
}

/** Runs `fn` over `items` with at most `n` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

const pct = (n: number, d: number): string => (d === 0 ? '  n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);

interface PairResult {
  readonly pair: Pair;
  readonly offline: PolicyDiff | null;
  readonly registry: PolicyDiff | null;
  readonly dependencies: Readonly<Record<string, string | null>>;
  readonly error: string | null;
}

function table(title: string, results: readonly PairResult[], pick: (r: PairResult) => PolicyDiff | null): string[] {
  const out: string[] = [`\n${title}`, '  level   pairs   flagged(any)  blocked   flag-only   not-diffed  ids behind them'];
  const perId = new Map<string, number>();
  const listed: string[] = [];
  for (const level of LEVELS) {
    const rows = results.filter((r) => r.pair.level === level && pick(r) !== null);
    // Pairs whose analysis failed or timed out: the gate would answer them per onError (default: refuse).
    const notDiffed = results.filter((r) => r.pair.level === level && pick(r) === null).length;
    const flagged = rows.filter((r) => pick(r)?.decision !== 'allow');
    const blocked = rows.filter((r) => pick(r)?.decision === 'block');
    const ids = new Map<string, number>();
    for (const r of flagged) for (const id of pick(r)?.gained ?? []) ids.set(id, (ids.get(id) ?? 0) + 1);
    for (const [id, n] of ids) perId.set(id, (perId.get(id) ?? 0) + n);
    const idText = [...ids].sort((a, b) => b[1] - a[1]).map(([id, n]) => `${id}×${n}`).join(', ');
    out.push(`  ${level.padEnd(6)} ${String(rows.length).padStart(6)}   ${String(flagged.length).padStart(3)} ${pct(flagged.length, rows.length)}  ${String(blocked.length).padStart(3)} ${pct(blocked.length, rows.length)}  ${String(flagged.length - blocked.length).padStart(3)} ${pct(flagged.length - blocked.length, rows.length)}  ${String(notDiffed).padStart(6)}      ${idText}`);
    for (const r of flagged) {
      const d = pick(r);
      if (!d) continue;
      const extra = [
        d.details.newDependencies.length > 0 ? `new deps: ${d.details.newDependencies.join(' ')}` : '',
        d.details.newHosts.length > 0 ? `new hosts: ${d.details.newHosts.slice(0, 5).join(' ')}${d.details.newHosts.length > 5 ? ' …' : ''}` : '',
        d.details.changedInstallScripts.length > 0 ? `install scripts: ${d.details.changedInstallScripts.join(' ')}` : '',
      ].filter(Boolean);
      const firstEvidence = d.gained
        .map((id: CapabilityId) => {
          const e = d.evidence[id]?.[0];
          return e ? `${id}: ${e.file}${e.line > 0 ? `:${e.line}` : ''} ${e.api}${e.via ? ` via ${e.via}` : ''}${e.reachable === false ? ' (unreachable)' : ''}` : id;
        })
        .join('; ');
      listed.push(`    ${level} ${d.decision.toUpperCase().padEnd(5)} ${r.pair.name} ${r.pair.old} -> ${r.pair.new}  gained ${d.gained.join(',')}  [${firstEvidence}]${extra.length > 0 ? `  (${extra.join('; ')})` : ''}`);
    }
  }
  out.push('  flagged pairs:');
  out.push(...(listed.length > 0 ? listed : ['    none']));
  return out;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench:analyze')
    .option('--no-registry-mode', 'offline only: do not resolve and analyze newly added dependencies')
    .option('--threads <n>', 'analyzer worker threads', (v) => Number.parseInt(v, 10), 2)
    .option('--timeout <ms>', 'time budget per package', (v) => Number.parseInt(v, 10), 30_000)
    .option('--limit <n>', 'only the first n pairs', (v) => Number.parseInt(v, 10))
    .option('--only <name>', 'only pairs of this package')
    .option('--download-concurrency <n>', 'parallel npm pack / npm view', (v) => Number.parseInt(v, 10), 4)
    .option('--no-affinity', 'send each package to whichever worker is free (no scan-cache sharing between versions of a package)')
    .option('--no-warm-up', 'time the first packages on cold workers (no AnalyzerPool.warmUp first)')
    .parse(process.argv);
  const o = program.opts<{ registryMode: boolean; threads: number; timeout: number; limit?: number; only?: string; downloadConcurrency: number; warmUp: boolean; affinity: boolean }>();
  const opts: Options = {
    registryMode: o.registryMode,
    threads: o.threads,
    timeoutMs: o.timeout,
    limit: o.limit,
    only: o.only,
    downloadConcurrency: o.downloadConcurrency,
    warmUp: o.warmUp,
    affinity: o.affinity,
  };

  let pairs = readPairs();
  if (opts.only !== undefined) pairs = pairs.filter((p) => p.name === opts.only);
  if (opts.limit !== undefined) pairs = pairs.slice(0, opts.limit);
  mkdirSync(CACHE, { recursive: true });
  const log = (s: string): void => void process.stderr.write(s + '\n');
  log(`bench:analyze: ${pairs.length} pairs from ${PAIRS_FILE}; mode: ${opts.registryMode ? 'registry (dependency policies resolved, as the gate does) + offline' : 'offline only'}; ${opts.threads} threads, timeout ${opts.timeoutMs} ms`);

  // 1. Download every name@version once.
  const specs = new Map<string, { name: string; version: string }>();
  for (const p of pairs) {
    specs.set(`${p.name}@${p.old}`, { name: p.name, version: p.old });
    specs.set(`${p.name}@${p.new}`, { name: p.name, version: p.new });
  }
  const downloadStarted = Date.now();
  const files = new Map<string, { file: string | null; error: string | null }>();
  await mapLimit([...specs], opts.downloadConcurrency, async ([spec, { name, version }]) => {
    try {
      files.set(spec, { file: await download(name, version), error: null });
    } catch (e) {
      files.set(spec, { file: null, error: e instanceof Error ? e.message : String(e) });
    }
  });
  log(`bench:analyze: ${specs.size} tarballs ready in ${((Date.now() - downloadStarted) / 1000).toFixed(1)} s (${CACHE})`);

  // 2. Analyze every package through the pool, `threads` at a time so per-package times exclude queueing.
  const pool = new AnalyzerPool({ threads: opts.threads, minThreads: opts.threads, timeoutMs: opts.timeoutMs });
  // As a server does at start-up: load and JIT-compile the analyzer in every worker first, so that
  // the first packages' times are not a cold worker's (--no-warm-up to measure those too).
  const warmUpMs = opts.warmUp ? await pool.warmUp() : 0;
  if (opts.warmUp) log(`bench:analyze: ${opts.threads} workers warmed up in ${warmUpMs} ms`);
  const analyses = new Map<string, Analysis>();
  const analyzeSpec = async (spec: string, file: string | null, downloadError: string | null): Promise<Analysis> => {
    if (file === null) return { spec, file, bytes: 0, ms: 0, policy: null, error: { kind: 'download', message: downloadError ?? 'not downloaded' } };
    const bytes = readFileSync(file);
    // Timed from when a worker takes the job: a version waiting for its package's worker (affinity)
    // is queueing, not analysing.
    let started = process.hrtime.bigint();
    const onStart = (): void => {
      started = process.hrtime.bigint();
    };
    const name = spec.slice(0, spec.lastIndexOf('@'));
    try {
      const policy = await pool.analyze(bytes, { transfer: true, onStart, ...(opts.affinity ? { affinity: name } : {}) });
      return { spec, file, bytes: statSync(file).size, ms: Number(process.hrtime.bigint() - started) / 1e6, policy, error: null };
    } catch (e) {
      const kind = isAnalyzerError(e) ? e.code : 'unexpected';
      return { spec, file, bytes: statSync(file).size, ms: Number(process.hrtime.bigint() - started) / 1e6, policy: null, error: { kind, message: e instanceof Error ? e.message : String(e) } };
    }
  };
  const loadBefore = os.loadavg()[0] ?? 0;
  const wallStarted = process.hrtime.bigint();
  // With affinity a version may wait for its package's worker: keep one more job per thread in
  // flight so that the other workers never idle meanwhile (times start when a worker takes a job).
  const inFlight = opts.affinity ? opts.threads * 2 : opts.threads;
  await mapLimit([...specs.keys()], inFlight, async (spec) => {
    const f = files.get(spec);
    analyses.set(spec, await analyzeSpec(spec, f?.file ?? null, f?.error ?? null));
  });
  const wallMs = Number(process.hrtime.bigint() - wallStarted) / 1e6;
  const loadAfter = os.loadavg()[0] ?? 0;

  // 3. Registry mode: dependencies each new version adds or re-points, at the version npm would pick.
  const depAnalyses = new Map<string, Analysis>();
  const depVersions = new Map<string, string | null>(); // "name@range" -> version
  if (opts.registryMode) {
    const wanted = new Map<string, { name: string; range: string }>();
    for (const p of pairs) {
      const oldP = analyses.get(`${p.name}@${p.old}`)?.policy;
      const newP = analyses.get(`${p.name}@${p.new}`)?.policy;
      if (!oldP || !newP) continue;
      for (const c of changedDependencies(oldP, newP)) wanted.set(`${c.name}@${c.range}`, { name: c.name, range: c.range });
    }
    await mapLimit([...wanted], opts.downloadConcurrency, async ([key, { name, range }]) => {
      try {
        const { stdout } = await run('npm', ['view', `${name}@${range}`, 'version', '--json', '--silent']);
        const parsed: unknown = stdout.trim() === '' ? [] : JSON.parse(stdout);
        const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v): v is string => typeof v === 'string' && semver.valid(v) !== null);
        depVersions.set(key, semver.maxSatisfying(versions, '*', { includePrerelease: true }));
      } catch (e) {
        log(`bench:analyze: cannot resolve ${key}: ${e instanceof Error ? e.message : String(e)}`);
        depVersions.set(key, null);
      }
    });
    const depSpecs = new Map<string, { name: string; version: string }>();
    for (const [key, version] of depVersions) {
      const name = wanted.get(key)?.name;
      if (name !== undefined && version) depSpecs.set(`${name}@${version}`, { name, version });
    }
    const depFiles = new Map<string, { file: string | null; error: string | null }>();
    await mapLimit([...depSpecs], opts.downloadConcurrency, async ([spec, { name, version }]) => {
      try {
        depFiles.set(spec, { file: await download(name, version), error: null });
      } catch (e) {
        depFiles.set(spec, { file: null, error: e instanceof Error ? e.message : String(e) });
      }
    });
    await mapLimit([...depSpecs.keys()], inFlight, async (spec) => {
      const already = analyses.get(spec);
      if (already) {
        depAnalyses.set(spec, already);
        return;
      }
      const f = depFiles.get(spec);
      depAnalyses.set(spec, await analyzeSpec(spec, f?.file ?? null, f?.error ?? null));
    });
    log(`bench:analyze: registry mode: ${wanted.size} added or re-pointed dependency ranges, ${depSpecs.size} dependency versions analyzed`);
  }
  await pool.close();

  // 4. Diff every pair, offline and (registry mode) with the dependency policies.
  const results: PairResult[] = pairs.map((pair) => {
    const a = analyses.get(`${pair.name}@${pair.old}`);
    const b = analyses.get(`${pair.name}@${pair.new}`);
    if (!a?.policy || !b?.policy) {
      const why = [a, b].filter((x) => x?.error).map((x) => `${x?.spec}: ${x?.error?.kind}`).join('; ');
      return { pair, offline: null, registry: null, dependencies: {}, error: why || 'not analyzed' };
    }
    let offline: PolicyDiff | null = null;
    let registry: PolicyDiff | null = null;
    const dependencies: Record<string, string | null> = {};
    try {
      offline = diffPolicies(a.policy, b.policy);
      if (opts.registryMode) {
        const dependencyPolicies = new Map<string, PackagePolicy | null>();
        for (const c of changedDependencies(a.policy, b.policy)) {
          const version = depVersions.get(`${c.name}@${c.range}`) ?? null;
          const policy = version ? (depAnalyses.get(`${c.name}@${version}`)?.policy ?? null) : null;
          dependencies[c.alias] = version ? `${c.name}@${version}${policy ? '' : ' (not analyzed)'}` : null;
          dependencyPolicies.set(c.alias, policy);
        }
        registry = diffPolicies(a.policy, b.policy, { dependencyPolicies });
      }
    } catch (e) {
      return { pair, offline, registry, dependencies, error: `diff failed: ${e instanceof Error ? e.message : String(e)}` };
    }
    return { pair, offline, registry, dependencies, error: null };
  });

  // 5. Report.
  const all = [...analyses.values()];
  const ok = all.filter((x) => x.policy !== null);
  const times = ok.map((x) => x.ms).sort((x, y) => x - y);
  const totalMs = times.reduce((s, x) => s + x, 0);
  const totalBytes = ok.reduce((s, x) => s + x.bytes, 0);
  const errors = all.filter((x) => x.error !== null);
  const timeouts = errors.filter((x) => x.error?.kind === 'CAPGATE_ANALYSIS_TIMEOUT');
  const slowest = [...ok].sort((x, y) => y.ms - x.ms).slice(0, 5);
  const depErrors = [...depAnalyses.values()].filter((x) => x.error !== null);
  const out: string[] = [];
  out.push(`capgate bench:analyze — ${pairs.length} pairs, ${specs.size} packages (mode: ${opts.registryMode ? 'registry + offline' : 'offline'})`);
  out.push(`packages analyzed: ${ok.length}/${all.length}; errors: ${errors.length - timeouts.length}; timeouts: ${timeouts.length}`);
  for (const e of errors) out.push(`  ${e.error?.kind} ${e.spec}: ${e.error?.message.slice(0, 200)}`);
  out.push(`workers: ${opts.warmUp ? 'warmed up before timing (AnalyzerPool.warmUp)' : 'cold (--no-warm-up)'}; ${opts.affinity ? 'versions of a package on the same worker, sharing its scan cache as the gate does (--no-affinity: any worker)' : 'any free worker (--no-affinity): no scan-cache sharing between versions'}`);
  out.push(`ms per package: median ${percentile(times, 50).toFixed(1)}, p95 ${percentile(times, 95).toFixed(1)}, max ${percentile(times, 100).toFixed(1)} (slowest: ${slowest.map((x) => `${x.spec} ${x.ms.toFixed(0)} ms`).join(', ')})`);
  out.push(`throughput: ${(totalBytes / 1e6 / (totalMs / 1000)).toFixed(2)} MB/s per thread (compressed bytes / summed analysis time), ${(totalBytes / 1e6 / (wallMs / 1000)).toFixed(2)} MB/s wall-clock with ${opts.threads} threads (${(totalBytes / 1e6).toFixed(1)} MB in ${(wallMs / 1000).toFixed(1)} s)`);
  out.push(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (the whole process: worker threads share it)`);
  out.push(`machine: ${os.cpus().length} CPUs, 1-min load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after the analysis phase (other work on the machine slows every figure above)`);
  const pairErrors = results.filter((r) => r.error !== null);
  out.push(`pairs not diffed: ${pairErrors.length}${pairErrors.map((r) => `\n  ${r.pair.name} ${r.pair.old} -> ${r.pair.new}: ${r.error}`).join('')}`);
  if (opts.registryMode) {
    out.push(`dependency analyses: ${depAnalyses.size}, errors ${depErrors.length}${depErrors.map((x) => `\n  ${x.error?.kind} ${x.spec}`).join('')}`);
    out.push(...table('REGISTRY MODE (dependency policies known, as the gate decides)', results, (r) => r.registry));
  }
  out.push(...table('OFFLINE MODE (no dependency policies, as `capgate diff`)', results, (r) => r.offline));
  process.stdout.write(out.join('\n') + '\n');

  const lastRun = {
    when: new Date().toISOString(),
    mode: opts.registryMode ? 'registry' : 'offline',
    threads: opts.threads,
    timeoutMs: opts.timeoutMs,
    warmUp: opts.warmUp,
    affinity: opts.affinity,
    packages: all.map((x) => ({ spec: x.spec, bytes: x.bytes, ms: Math.round(x.ms * 10) / 10, error: x.error, capabilities: x.policy?.capabilities ?? null, findings: x.policy?.findings.length ?? null })),
    dependencies: [...depAnalyses.values()].map((x) => ({ spec: x.spec, ms: Math.round(x.ms * 10) / 10, error: x.error, capabilities: x.policy?.capabilities ?? null })),
    pairs: results.map((r) => ({ ...r.pair, error: r.error, dependencies: r.dependencies, registry: r.registry, offline: r.offline })),
    summary: { medianMs: percentile(times, 50), p95Ms: percentile(times, 95), maxMs: percentile(times, 100), errors: errors.length - timeouts.length, timeouts: timeouts.length, peakRssMb: process.resourceUsage().maxRSS / 1024 },
  };
  writeFileSync(path.join(CACHE, 'last-run.json'), JSON.stringify(lastRun, null, 2) + '\n');
  log(`bench:analyze: full results in ${path.join(CACHE, 'last-run.json')}`);
}

main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
