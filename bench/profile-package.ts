// Owns `node dist/bench/profile-package.js TARBALL [--files N]`: where one package's analysis time
// goes, in this thread (no pool). Prints analyzeFiles cold (first in the process) and warm (scan
// cache cleared), CPU time next to wall time (other work on the machine inflates wall time only),
// and per JS-like file the parse, prefilter and scan times and whether the file needed the full
// @babel/traverse pass. Add `node --cpu-prof` for a profile of the same run.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { readTarball } from '../analyzer/tarball';
import { analyzeFiles } from '../analyzer/policy';
import { decodeSource, parseSource } from '../analyzer/parse';
import { scanSource } from '../analyzer/scan';
import { needsFullScan } from '../analyzer/prefilter';
import { DETECTORS } from '../analyzer/detectors/index';
import { clearScanCache } from '../analyzer/scan-cache';

interface Row {
  readonly file: string;
  readonly kb: number;
  readonly parseMs: number;
  readonly prefilterMs: number;
  readonly scanMs: number;
  readonly full: boolean;
}

function timed<T>(fn: () => T): { value: T; ms: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('profile-package')
    .argument('<tarball>', 'a package tarball (e.g. one in .cache/bench)')
    .option('--files <n>', 'list the n slowest files', (v) => Number.parseInt(v, 10), 15)
    .parse(process.argv);
  const tarball = program.args[0] as string;
  const { files: top } = program.opts<{ files: number }>();
  const read = await readTarball(readFileSync(tarball));
  if (!read.ok) throw read.error;
  const out = (s: string): void => void process.stdout.write(s + '\n');

  const cold = timed(() => analyzeFiles(read.files, { findings: read.findings }));
  clearScanCache();
  const warm = timed(() => analyzeFiles(read.files, { findings: read.findings }));
  out(`${tarball}: ${read.files.size} files; analyzeFiles cold ${cold.ms.toFixed(0)} ms (CPU ${cold.cpuMs.toFixed(0)} ms), warm ${warm.ms.toFixed(0)} ms (CPU ${warm.cpuMs.toFixed(0)} ms)`);

  const rows: Row[] = [];
  for (const [file, bytes] of read.files) {
    if (!/\.(?:js|cjs|mjs|jsx)$/i.test(file)) continue;
    const source = decodeSource(bytes);
    const parsed = timed(() => parseSource(source));
    const result = parsed.value;
    const pre = result.ok ? timed(() => needsFullScan(result.ast)) : { value: false, ms: 0 };
    const scan = timed(() => scanSource(file, source, DETECTORS, parsed.value));
    rows.push({ file, kb: bytes.length / 1024, parseMs: parsed.ms, prefilterMs: pre.ms, scanMs: scan.ms, full: pre.value });
  }
  const sum = (f: (r: Row) => number): number => rows.reduce((n, r) => n + f(r), 0);
  out(`JS-like files: ${rows.length}, ${rows.filter((r) => r.full).length} with the full pass; parse ${sum((r) => r.parseMs).toFixed(0)} ms, scan ${sum((r) => r.scanMs).toFixed(0)} ms (of which full-pass files ${sum((r) => (r.full ? r.scanMs : 0)).toFixed(0)} ms)`);
  rows.sort((a, b) => b.parseMs + b.scanMs - (a.parseMs + a.scanMs));
  for (const r of rows.slice(0, top)) {
    out(`  ${r.file} ${r.kb.toFixed(0)} KB: parse ${r.parseMs.toFixed(1)} ms, prefilter ${r.prefilterMs.toFixed(1)} ms (stops at the first trigger), scan ${r.scanMs.toFixed(1)} ms${r.full ? ' FULL' : ''}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`profile-package: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
