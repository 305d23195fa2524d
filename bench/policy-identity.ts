// Owns the policy-identity check of an analyzer change: analyzes every tarball in .cache/bench (or
// the ones given) with this build's analyzer and with another build's (`--base DIR`, a dist/ folder
// of the commit to compare with), in this one thread, and compares the policy JSON byte for byte.
//
//   node dist/bench/policy-identity.js --base /path/to/other/dist [file.tgz ...]
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeTarball } from '../analyzer';

type Analyze = typeof analyzeTarball;
const CACHE = path.resolve(__dirname, '..', '..', '.cache', 'bench');

async function run(analyze: Analyze, bytes: Uint8Array): Promise<string> {
  try {
    return JSON.stringify(await analyze(bytes));
  } catch (e) {
    return 'error: ' + (e instanceof Error ? e.message : String(e));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--base');
  const baseDir = at >= 0 ? args[at + 1] : undefined;
  if (baseDir === undefined) throw new Error('usage: policy-identity --base DIST_DIR [file.tgz ...]');
  const given = args.filter((a, i) => !a.startsWith('--') && i !== at + 1);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const base = (require(path.resolve(baseDir, 'analyzer', 'index.js')) as { analyzeTarball: Analyze }).analyzeTarball;
  const tarballs = given.length > 0 ? given : readdirSync(CACHE).filter((f) => f.endsWith('.tgz')).sort().map((f) => path.join(CACHE, f));
  let same = 0;
  let differ = 0;
  let baseMs = 0;
  let ownMs = 0;
  for (const tgz of tarballs) {
    const bytes = new Uint8Array(readFileSync(tgz));
    let t0 = performance.now();
    const a = await run(base, bytes);
    baseMs += performance.now() - t0;
    t0 = performance.now();
    const b = await run(analyzeTarball, bytes);
    ownMs += performance.now() - t0;
    if (a === b) {
      same++;
    } else {
      differ++;
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      console.log(`DIFF ${path.basename(tgz)} at ${i}:\n  base: ${a.slice(Math.max(0, i - 200), i + 200)}\n  this: ${b.slice(Math.max(0, i - 200), i + 200)}`);
    }
  }
  console.log(`tarballs ${tarballs.length}: identical ${same}, different ${differ} (wall: base ${(baseMs / 1000).toFixed(1)} s, this ${(ownMs / 1000).toFixed(1)} s)`);
  if (differ > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
