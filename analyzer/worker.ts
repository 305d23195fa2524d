// Owns the worker-thread side of AnalyzerPool: one piscina task = analyzeTarball on the given bytes,
// or analyzeFiles on files packed into one transferred buffer (the CLI's folder input).
// Errors travel back as data (a structured clone drops an Error's `code`), the pool revives them.
// A `warmup` task scans a built-in sample a few times so that a fresh worker's first real package
// does not pay for loading and JIT-compiling the parser and traverser.
import { analyzeFiles, analyzeTarball } from './index';
import { scanSource } from './scan';
import { DETECTORS } from './detectors/index';
import { AnalyzerError, isAnalyzerError, type SerializedAnalyzerError } from './errors';
import type { TarLimits } from './tarball';
import type { Finding, PackagePolicy } from './types';

export type WorkerTask =
  | {
      readonly kind?: 'tarball';
      /** The tarball bytes (transferred: the worker owns this buffer). */
      readonly bytes: Uint8Array;
      readonly limits?: Partial<TarLimits> | undefined;
    }
  | {
      readonly kind: 'files';
      /** All file contents back to back (transferred). */
      readonly data: Uint8Array;
      /** [path, offset, length] per file, in PackageFiles order. */
      readonly index: readonly (readonly [string, number, number])[];
      readonly findings: readonly Finding[];
    }
  | {
      readonly kind: 'warmup';
      /** How many times the sample is scanned. */
      readonly rounds: number;
    };

export type WorkerResult =
  | { readonly ok: true; readonly policy: PackagePolicy }
  | { readonly ok: true; readonly warmedUp: number }
  | { readonly ok: false; readonly error: SerializedAnalyzerError };

/**
 * Warm-up sample: the shapes real packages are made of (CommonJS and ESM loads, aliases, member
 * chains, destructuring, classes, closures, template literals, process.env, a decoded eval), so the
 * parser, the prefilter, the merged traverse and the detectors all run. Never executed.
 */
function warmupSample(round: number): string {
  const parts: string[] = [`'use strict'; // warm-up ${round}`];
  for (let i = 0; i < 12; i++) {
    parts.push(
      `const fs${i} = require('fs'); const { spawn: sp${i} } = require('child_process'); const path${i} = require('./lib/p${i}.js');`,
      `function read${i}(file, opts = {}) { const full = path${i}.join(__dirname, file); if (opts.sync) return fs${i}.readFileSync(full, 'utf8'); return new Promise((res, rej) => fs${i}.readFile(full, (e, d) => (e ? rej(e) : res(d)))); }`,
      `class Runner${i} extends Object { #n = ${i}; constructor(cmd) { super(); this.cmd = cmd; } run(...args) { return sp${i}(this.cmd, args, { env: { ...process.env, HOME: process.env.HOME } }); } get n() { return this.#n; } }`,
      `const url${i} = \`https://api.example.invalid/v${i}/\${encodeURIComponent(String(${i}))}\`; async function get${i}() { const r = await fetch(url${i}, { method: 'POST', headers: { 'content-type': 'application/json' } }); return r.ok ? r.json() : null; }`,
      `module.exports.f${i} = { read${i}, Runner${i}, get${i}, list: [1, 2, 3].map((x) => x * ${i}).filter(Boolean), re: /a+b*[c-d]/g, big: ${i}n, maybe: globalThis?.process?.versions?.node ?? null };`,
      `if (typeof window !== 'undefined' && window.document) { window.addEventListener('load', () => void 0); } for (const k of Object.keys(exports)) { switch (k) { case 'a': break; default: continue; } }`,
    );
  }
  parts.push(`const code = Buffer.from('MSsx', 'base64').toString(); eval(code); import('os').then((os) => os.cpus());`);
  return parts.join('\n');
}

function warmUp(rounds: number): number {
  let n = 0;
  for (let i = 0; i < rounds; i++) {
    // Straight to scanSource: the per-process scan cache is not touched.
    n += scanSource(`warmup-${i}.js`, warmupSample(i), DETECTORS).hits.length;
  }
  return n;
}

export default async function analyzeInWorker(task: WorkerTask): Promise<WorkerResult> {
  try {
    if (task.kind === 'warmup') return { ok: true, warmedUp: warmUp(Math.max(0, Math.min(100, Math.floor(task.rounds)))) };
    if (task.kind === 'files') {
      const files = new Map<string, Uint8Array>();
      for (const [p, offset, length] of task.index) files.set(p, task.data.subarray(offset, offset + length));
      try {
        return { ok: true, policy: analyzeFiles(files, { findings: task.findings }) };
      } catch (e) {
        throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', `analysis failed: ${describe(e)}`, {}, { cause: e });
      }
    }
    const policy = await analyzeTarball(task.bytes, task.limits === undefined ? {} : { limits: task.limits });
    return { ok: true, policy };
  } catch (e) {
    if (isAnalyzerError(e)) return { ok: false, error: e.toJSON() };
    return { ok: false, error: { name: 'AnalyzerError', code: 'CAPGATE_ANALYSIS_FAILED', message: `analysis failed: ${describe(e)}` } };
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
