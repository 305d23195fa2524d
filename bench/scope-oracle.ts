// Owns the scope builder's corpus oracle: for every JS-like file of every tarball in .cache/bench
// (or the tarballs given as arguments), parses the text twice, builds the scopes once with Babel's
// crawl and once with analyzer/scope-builder.ts, and compares everything describeScopes prints
// (every node's path.scope; per scope its parent, bindings, kinds, paths, identifiers, constant
// violations, reference counts and referencePaths). Prints files compared, differences, fallbacks.
//
//   node dist/bench/scope-oracle.js [--all-refs] [file.tgz ...]
//
// referencePaths of files above 30 kB are compared for every 7th of their first 420 bindings unless
// --all-refs (the builder makes them by walking the binding's scope: slow over thousands of bindings).
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import traverseModule, { type NodePath } from '@babel/traverse';
import type * as t from '@babel/types';
import { readTarball, isJsLikePath } from '../analyzer/tarball';
import { decodeSource, parseSource } from '../analyzer/parse';
import { buildScopes, scopeBuilderStats } from '../analyzer/scope-builder';
import { describeScopes, firstDifference } from '../analyzer/scope-compare';

type TraverseFn = typeof traverseModule;
const traverse: TraverseFn = (traverseModule as unknown as { default?: TraverseFn }).default ?? traverseModule;

const CACHE = path.resolve(__dirname, '..', '..', '.cache', 'bench');
const JS_LIKE = /\.(?:js|cjs|mjs|jsx)$/i;

function crawl(ast: t.File): NodePath {
  let program: NodePath | undefined;
  traverse(ast, {
    Program(p) {
      program = p;
      p.skip();
    },
  });
  return program as NodePath;
}

function view(ast: t.File, program: NodePath, sample: boolean): string[] {
  let n = 0;
  return describeScopes(ast, program, { referencePaths: () => !sample || (n++ % 7 === 0 && n < 7 * 60) });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const allRefs = args.includes('--all-refs');
  const given = args.filter((a) => !a.startsWith('--'));
  const tarballs = given.length > 0 ? given : readdirSync(CACHE).filter((f) => f.endsWith('.tgz')).sort().map((f) => path.join(CACHE, f));
  let files = 0;
  let compared = 0;
  let differ = 0;
  let unparsed = 0;
  let babelThrew = 0;
  let bothThrew = 0;
  const started = Date.now();
  /** Files the analysis scans (.js/.cjs/.mjs/.jsx), as opposed to TypeScript ones. */
  const scanned = { files: 0, fallbacks: 0 };
  for (const [index, tgz] of tarballs.entries()) {
    if (index % 25 === 0) console.log(`... ${index}/${tarballs.length} tarballs, ${compared} files compared, ${differ} differ`);
    const read = await readTarball(new Uint8Array(readFileSync(tgz)));
    if (!read.ok) {
      console.log(`${path.basename(tgz)}: unreadable (${read.error.message})`);
      continue;
    }
    for (const [name, bytes] of read.files) {
      if (!isJsLikePath(name) && !JS_LIKE.test(name)) continue;
      files++;
      const source = decodeSource(bytes);
      const first = parseSource(source);
      if (!first.ok) {
        unparsed++;
        continue;
      }
      const second = parseSource(source);
      if (!second.ok) throw new Error('second parse failed');
      const sample = !allRefs && source.length > 30_000;
      let expected: string[] | undefined;
      let babelError: string | undefined;
      try {
        expected = view(first.ast, crawl(first.ast), sample);
      } catch (e) {
        babelError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      traverse.cache.clear();
      let actual: string[] | undefined;
      let builderError: string | undefined;
      try {
        const built = buildScopes(second.ast);
        if (built === undefined && JS_LIKE.test(name)) scanned.fallbacks++;
        if (JS_LIKE.test(name)) scanned.files++;
        const program = built ?? crawl(second.ast);
        actual = view(second.ast, program, sample);
      } catch (e) {
        builderError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      traverse.cache.clear();
      compared++;
      if (babelError !== undefined || builderError !== undefined) {
        babelThrew += babelError !== undefined ? 1 : 0;
        if (babelError === builderError) {
          bothThrew++;
          continue;
        }
        differ++;
        console.log(`DIFF ${path.basename(tgz)} ${name}: babel ${babelError ?? 'ok'} / builder ${builderError ?? 'ok'}`);
        continue;
      }
      const d = firstDifference(expected as string[], actual as string[]);
      if (d !== undefined) {
        differ++;
        console.log(`DIFF ${path.basename(tgz)} ${name}: ${d}`);
      }
    }
  }
  const fallbacks = [...scopeBuilderStats.fallbacks].map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`tarballs ${tarballs.length}, JS-like files ${files}, unparsable ${unparsed}, compared ${compared}, differ ${differ}`);
  console.log(`builder built ${scopeBuilderStats.built}, fell back ${[...scopeBuilderStats.fallbacks.values()].reduce((a, b) => a + b, 0)} (${fallbacks || 'none'})`);
  console.log(`of which .js/.cjs/.mjs/.jsx (what the analysis scans): ${scanned.files} parsed, ${scanned.fallbacks} fell back`);
  console.log(`Babel's crawl threw on ${babelThrew} (the same error both ways on ${bothThrew}); ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (differ > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
