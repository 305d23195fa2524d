// Owns a CPU figure for the analysis pool alone: every tarball under a folder (e.g. a Verdaccio
// storage folder that `BENCH_KEEP=1 npm run bench:proxy` left behind, whose package folders give
// the names) through an AnalyzerPool as the plugin configures it, all submitted at once with the
// package name as affinity, then the wall time and the CPU of the whole process, and the threads
// that used the most of it (analysis workers, V8's compiler and GC helpers) from /proc/self/task.
// `--first DIR2` analyses another folder first, untimed (what a warm JIT saves).
//
//   node [node flags] dist/bench/pool-cpu.js [--threads N] [--first DIR2] DIR
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { AnalyzerPool, DEFAULT_ANALYSIS_THREADS } from '../analyzer/pool';

interface ThreadCpu {
  readonly name: string;
  readonly ms: number;
}

function threadCpu(): Map<string, ThreadCpu> {
  const tick = 10; // USER_HZ is 100 on Linux
  const out = new Map<string, ThreadCpu>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.set(tid, { name, ms: (Number(fields[11]) + Number(fields[12])) * tick });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Every .tgz under `dir`, named by its folder relative to `dir` (a storage folder) or, at the top, by its file name up to the last `@`. */
function tarballsUnder(dir: string): { name: string; bytes: Buffer }[] {
  const out: { name: string; bytes: Buffer }[] = [];
  const walk = (sub: string): void => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = sub === '' ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory() && !entry.name.startsWith('.')) walk(rel);
      else if (entry.isFile() && entry.name.endsWith('.tgz')) {
        const name = sub === '' ? entry.name.slice(0, Math.max(0, entry.name.lastIndexOf('@'))) || entry.name : sub;
        out.push({ name, bytes: readFileSync(path.join(dir, rel)) });
      }
    }
  };
  walk('');
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const t = args.indexOf('--threads');
  const threads = t >= 0 ? Number(args[t + 1]) : DEFAULT_ANALYSIS_THREADS;
  const dir = args.filter((a, i) => !a.startsWith('--') && !['--threads', '--first'].includes(args[i - 1] ?? ''))[0];
  if (dir === undefined) throw new Error('usage: pool-cpu [--threads N] DIR');
  const tarballs = tarballsUnder(dir);
  const pool = new AnalyzerPool({ threads, minThreads: threads, timeoutMs: 120_000 });
  await pool.warmUp();
  const f = args.indexOf('--first');
  if (f >= 0) {
    // Untimed: another folder first, to see what a warm JIT saves.
    await Promise.all(tarballsUnder(args[f + 1] as string).map((tb) => pool.analyze(tb.bytes, { affinity: tb.name }).catch(() => 0)));
  }
  const before = threadCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let failed = 0;
  await Promise.all(tarballs.map((tb) => pool.analyze(tb.bytes, { affinity: tb.name }).catch(() => failed++)));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = threadCpu();
  const byName = new Map<string, number>();
  for (const [tid, a] of after) {
    const d = a.ms - (before.get(tid)?.ms ?? 0);
    if (d <= 0) continue;
    byName.set(`${a.name}:${tid}`, d);
  }
  const parts = [...byName].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([n, ms]) => `${n} ${(ms / 1000).toFixed(2)}`);
  process.stdout.write(
    `${tarballs.length} tarballs, ${threads} threads, flags [${process.execArgv.join(' ')}]: wall ${(wall / 1000).toFixed(2)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, failed ${failed}\n  by thread: ${parts.join(', ')}\n`,
  );
  await pool.close();
}

void main();
