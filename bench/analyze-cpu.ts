// Owns an A/B CPU-time comparison of whole-package analysis for a few tarballs: this build's
// analyzeTarball against another build's (`--base DIST_DIR`), same thread, scan caches cleared
// before every analysis, rounds interleaved (A, B, A, B, ...) after two warm-up rounds each. CPU
// time resists other load on the machine better than the wall-clock figures of bench:analyze.
//
//   node --max-semi-space-size=32 dist/bench/analyze-cpu.js --base DIR [--rounds N] file.tgz...
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeTarball } from '../analyzer';
import { clearScanCache } from '../analyzer/scan-cache';

type Analyze = typeof analyzeTarball;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function cpu(analyze: Analyze, clear: () => void, bytes: Uint8Array): Promise<number> {
  clear();
  const t0 = process.cpuUsage();
  await analyze(bytes);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const b = args.indexOf('--base');
  const r = args.indexOf('--rounds');
  const baseDir = b >= 0 ? args[b + 1] : undefined;
  if (baseDir === undefined) throw new Error('usage: analyze-cpu --base DIST_DIR [--rounds N] file.tgz...');
  const rounds = r >= 0 ? Number(args[r + 1]) : 7;
  const files = args.filter((a, i) => !a.startsWith('--') && i !== b + 1 && i !== r + 1);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const base = (require(path.resolve(baseDir, 'analyzer', 'index.js')) as { analyzeTarball: Analyze }).analyzeTarball;
  const baseClear = (require(path.resolve(baseDir, 'analyzer', 'scan-cache.js')) as { clearScanCache: () => void }).clearScanCache;
  /* eslint-enable @typescript-eslint/no-require-imports */
  let sumBase = 0;
  let sumOwn = 0;
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    const a: number[] = [];
    const o: number[] = [];
    for (let i = 0; i < rounds + 2; i++) {
      const ta = await cpu(base, baseClear, bytes);
      const to = await cpu(analyzeTarball, clearScanCache, bytes);
      if (i >= 2) {
        a.push(ta);
        o.push(to);
      }
    }
    sumBase += median(a);
    sumOwn += median(o);
    console.log(`${path.basename(file)}: base median ${median(a).toFixed(0)} ms CPU [${a.map((x) => x.toFixed(0)).join(' ')}], this median ${median(o).toFixed(0)} ms [${o.map((x) => x.toFixed(0)).join(' ')}]`);
  }
  console.log(`sum of medians: base ${sumBase.toFixed(0)} ms, this ${sumOwn.toFixed(0)} ms (${((100 * (sumOwn - sumBase)) / sumBase).toFixed(1)}%)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
