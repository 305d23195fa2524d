// Owns timing the scope phase alone: for the files given (`tarball.tgz:path/in/package` or plain
// .js files), CPU time of Babel's program scope crawl against analyzer/scope-builder.ts, each on a
// fresh parse, in interleaved rounds (GC forced before each timed call when run with --expose-gc,
// so that garbage of one side is not collected on the other's time).
//
//   node --expose-gc dist/bench/scope-phase.js [--rounds N] FILE...
import { readFileSync } from 'node:fs';
import traverseModule from '@babel/traverse';
import type * as t from '@babel/types';
import { readTarball } from '../analyzer/tarball';
import { decodeSource, parseSource } from '../analyzer/parse';
import { buildScopes } from '../analyzer/scope-builder';

type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

async function load(spec: string): Promise<string> {
  const i = spec.indexOf('.tgz:');
  if (i < 0) return readFileSync(spec, 'utf8');
  const read = await readTarball(new Uint8Array(readFileSync(spec.slice(0, i + 4))));
  if (!read.ok) throw read.error;
  const bytes = read.files.get(spec.slice(i + 5));
  if (bytes === undefined) throw new Error('no such file: ' + spec);
  return decodeSource(bytes);
}

function parse(source: string): t.File {
  const r = parseSource(source);
  if (!r.ok) throw new Error('unparsable');
  return r.ast;
}

/** CPU ms of fn, including the GC it triggers (not the garbage it leaves behind). */
function cpu(fn: () => void): number {
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const r = args.indexOf('--rounds');
  const rounds = r >= 0 ? Number(args[r + 1]) : 10;
  const specs = args.filter((a, i) => !a.startsWith('--') && i !== r + 1);
  for (const spec of specs) {
    const source = await load(spec);
    const babel: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < rounds + 2; i++) {
      const a = parse(source);
      const tb = cpu(() => traverse(a, { Program: (p) => p.skip() }));
      traverse.cache.clear();
      const b = parse(source);
      const to = cpu(() => {
        if (buildScopes(b) === undefined) throw new Error('builder fell back on ' + spec);
      });
      traverse.cache.clear();
      if (i >= 2) {
        babel.push(tb);
        own.push(to);
      }
    }
    console.log(`${spec} (${source.length} chars): Babel crawl median ${median(babel).toFixed(1)} ms [${babel.map((x) => x.toFixed(0)).join(' ')}], builder median ${median(own).toFixed(1)} ms [${own.map((x) => x.toFixed(0)).join(' ')}]`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
