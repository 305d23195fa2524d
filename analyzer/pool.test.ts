import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AnalyzerPool, BACKGROUND_IDLE_MS } from './pool';
import analyzeInWorker from './worker';
import { isAnalyzerError } from './errors';
import { makePackage } from '../test-support/make-package';
import { hostile } from '../test-support/make-hostile-tar';

// A stand-in worker with controllable misbehaviour, to prove what the pool does when a job hangs,
// runs out of memory, throws or exits. The real worker is exercised below.
const STAND_IN = `
Object.defineProperty(exports, '__esModule', { value: true });
module.exports.default = async function (task) {
  const cmd = Buffer.from(task.bytes).toString('utf8');
  if (cmd === 'hang') { for (;;) {} }
  if (cmd === 'oom') { const keep = []; for (;;) keep.push(new Array(1e6).fill({ a: keep.length })); }
  if (cmd === 'throw') throw new TypeError('boom');
  if (cmd === 'exit') process.exit(3);
  if (cmd.startsWith('busy:')) { const end = Date.now() + Number(cmd.slice(5)); while (Date.now() < end) {} }
  if (cmd === 'corrupt') return { ok: false, error: { name: 'AnalyzerError', code: 'CAPGATE_ARCHIVE_CORRUPT', message: 'bad gzip' } };
  const thread = require('node:worker_threads').threadId;
  return { ok: true, policy: { echo: cmd, thread, length: task.bytes.byteLength, isTransferredCopy: task.bytes.buffer.byteLength === task.bytes.byteLength } };
};`;

let dir: string;
let standIn: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'capgate-pool-'));
  standIn = path.join(dir, 'stand-in-worker.js');
  writeFileSync(standIn, STAND_IN);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isAnalyzerError(e) ? e.code : `not an AnalyzerError: ${String(e)}`;
  }
}

describe('AnalyzerPool (stand-in worker)', () => {
  it('terminates a hanging job with CAPGATE_ANALYSIS_TIMEOUT and keeps working', async () => {
    const pool = new AnalyzerPool({ threads: 1, timeoutMs: 1000, workerFilename: standIn });
    try {
      expect(await codeOf(pool.analyze(b('hang')))).toBe('CAPGATE_ANALYSIS_TIMEOUT');
      expect(await pool.analyze(b('after'))).toMatchObject({ echo: 'after' });
    } finally {
      await pool.close();
    }
  });

  it('reports an out-of-memory worker as CAPGATE_ANALYSIS_FAILED and keeps working', async () => {
    const pool = new AnalyzerPool({ threads: 1, timeoutMs: 60_000, maxHeapMb: 32, workerFilename: standIn });
    try {
      const err = await pool.analyze(b('oom')).catch((e: unknown) => e);
      expect(isAnalyzerError(err) && err.code).toBe('CAPGATE_ANALYSIS_FAILED');
      expect(String((err as Error).message)).toMatch(/memory/i);
      expect(await pool.analyze(b('after oom'))).toMatchObject({ echo: 'after oom' });
    } finally {
      await pool.close();
    }
  });

  it('maps a throwing or exiting worker to CAPGATE_ANALYSIS_FAILED, passes analyzer errors through', async () => {
    const pool = new AnalyzerPool({ threads: 2, timeoutMs: 60_000, workerFilename: standIn });
    try {
      expect(await codeOf(pool.analyze(b('throw')))).toBe('CAPGATE_ANALYSIS_FAILED');
      expect(await codeOf(pool.analyze(b('exit')))).toBe('CAPGATE_ANALYSIS_FAILED');
      expect(await codeOf(pool.analyze(b('corrupt')))).toBe('CAPGATE_ARCHIVE_CORRUPT');
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((s) => pool.analyze(b(s))));
      expect(results.map((r) => (r as unknown as { echo: string }).echo)).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      await pool.close();
    }
  });

  it('copies the caller bytes by default and transfers them only when asked', async () => {
    const pool = new AnalyzerPool({ threads: 1, workerFilename: standIn });
    try {
      const big = new Uint8Array(Buffer.alloc(100, 0x61));
      const view = big.subarray(10, 20);
      expect(await pool.analyze(view)).toMatchObject({ length: 10, isTransferredCopy: true });
      expect(view.byteLength).toBe(10); // still usable
      const mine = new Uint8Array(Buffer.from('give'));
      const own = new Uint8Array(mine.byteLength);
      own.set(mine);
      expect(await pool.analyze(own, { transfer: true })).toMatchObject({ echo: 'give' });
      expect(own.byteLength).toBe(0); // detached: handed over, not copied
    } finally {
      await pool.close();
    }
  });

  it('counts the time budget from when a worker takes the job, not while queued', async () => {
    const pool = new AnalyzerPool({ threads: 1, timeoutMs: 3000, workerFilename: standIn });
    try {
      // 5 x 800 ms queued on one thread is longer than the 3 s budget, yet each job fits in it.
      const jobs = Array.from({ length: 5 }, () => codeOf(pool.analyze(b('busy:800'))));
      expect(pool.pending).toBe(5);
      expect(await Promise.all(jobs)).toEqual(Array(5).fill('resolved'));
    } finally {
      await pool.close();
    }
  });

  it('warmUp is best effort: a worker that cannot warm up leaves the pool working', async () => {
    const pool = new AnalyzerPool({ threads: 2, timeoutMs: 5000, workerFilename: standIn });
    try {
      expect(await pool.warmUp(3)).toBeGreaterThanOrEqual(0);
      expect(pool.pending).toBe(0);
      expect(await pool.analyze(b('after warm-up'))).toMatchObject({ echo: 'after warm-up' });
    } finally {
      await pool.close();
    }
  });

  // What a stand-in job reports: its command and the worker thread that ran it.
  type Ran = { echo: string; thread: number };
  const ran = async (p: Promise<unknown>): Promise<Ran> => (await p) as Ran;
  const finishOrder = (jobs: Record<string, Promise<unknown>>): Promise<string[]> => {
    const order: string[] = [];
    return Promise.all(Object.entries(jobs).map(([name, p]) => p.then(() => order.push(name)))).then(() => order);
  };

  it('runs jobs with the same affinity key on the worker that ran the last one, while it is at most one job busier', async () => {
    const pool = new AnalyzerPool({ threads: 2, minThreads: 2, timeoutMs: 10_000, workerFilename: standIn });
    try {
      const first = await ran(pool.analyze(b('first'), { affinity: 'pkg' }));
      // The key's worker is busy and the other idle: the job waits for its worker rather than
      // scanning the shared files again elsewhere, and the idle worker takes a job without a key.
      const busy = ran(pool.analyze(b('busy:400'), { affinity: 'pkg' }));
      const pinned = ran(pool.analyze(b('same package'), { affinity: 'pkg' }));
      const other = ran(pool.analyze(b('other package'), { affinity: 'other' }));
      expect((await busy).thread).toBe(first.thread);
      expect((await pinned).thread).toBe(first.thread);
      expect((await other).thread).not.toBe(first.thread);
      // Two jobs ahead on its worker (one running, one pinned) and the other worker idle: the third
      // goes to the idle worker at once.
      const running = ran(pool.analyze(b('busy:600'), { affinity: 'pkg' }));
      const queued = ran(pool.analyze(b('busy:10'), { affinity: 'pkg' }));
      const third = pool.analyze(b('third'), { affinity: 'pkg' });
      const order = await finishOrder({ running, queued, third });
      expect(order[0]).toBe('third');
      const moved = await ran(third);
      expect(moved.thread).not.toBe((await running).thread);
      // The key follows the job that started last ('queued', on the first worker).
      expect((await ran(pool.analyze(b('next'), { affinity: 'pkg' }))).thread).toBe((await queued).thread);
    } finally {
      await pool.close();
    }
  });

  it('never leaves a job without a key waiting behind a long one while a worker is free', async () => {
    const pool = new AnalyzerPool({ threads: 2, minThreads: 2, timeoutMs: 10_000, workerFilename: standIn });
    try {
      const long = pool.analyze(b('busy:1500'));
      const short = pool.analyze(b('busy:50'));
      const queued = pool.analyze(b('queued'));
      expect(pool.pending).toBe(3);
      expect(await finishOrder({ long, short, queued })).toEqual(['short', 'queued', 'long']);
    } finally {
      await pool.close();
    }
  });

  it('runs waiting foreground jobs before waiting background ones, and a background job at once on a quiet pool', async () => {
    const pool = new AnalyzerPool({ threads: 1, minThreads: 1, timeoutMs: 10_000, workerFilename: standIn });
    try {
      // A free worker takes a background job at once.
      expect(await pool.analyze(b('alone'), { background: true })).toMatchObject({ echo: 'alone' });
      const running = pool.analyze(b('busy:300'));
      const background = pool.analyze(b('background'), { background: true });
      const foreground = pool.analyze(b('busy:20'));
      const later = pool.analyze(b('later'));
      expect(await finishOrder({ running, background, foreground, later })).toEqual(['running', 'foreground', 'later', 'background']);
    } finally {
      await pool.close();
    }
  });

  it('starts a background job only once foreground jobs have left the pool alone for BACKGROUND_IDLE_MS', async () => {
    const pool = new AnalyzerPool({ threads: 2, minThreads: 2, timeoutMs: 10_000, workerFilename: standIn });
    try {
      await pool.warmUp(1);
      const submitted = performance.now();
      let started = 0;
      const foreground = pool.analyze(b('busy:100'));
      // The other worker is free, but a foreground job has just arrived: the background one waits.
      const background = pool.analyze(b('background'), { background: true, onStart: () => (started = performance.now()) });
      await Promise.all([foreground, background]);
      // Quiet time counts from the foreground job's end (~100 ms), not from its arrival.
      expect(started - submitted).toBeGreaterThanOrEqual(100 + BACKGROUND_IDLE_MS - 5);
    } finally {
      await pool.close();
    }
  });

  it('holds background jobs while foreground work is marked, and runs one at once when its priority is raised', async () => {
    const pool = new AnalyzerPool({ threads: 1, minThreads: 1, timeoutMs: 10_000, workerFilename: standIn });
    try {
      await pool.warmUp(1);
      const done = pool.foreground();
      let ranA = false;
      const a = pool.analyze(b('a'), { background: true }).then(() => (ranA = true));
      const priority = { background: true };
      const raised = pool.analyze(b('raised'), { background: priority });
      await new Promise((r) => setTimeout(r, BACKGROUND_IDLE_MS + 100));
      // Marked foreground work, an idle worker and more than the quiet time: nothing started.
      expect(ranA).toBe(false);
      priority.background = false;
      pool.poke();
      expect(await raised).toMatchObject({ echo: 'raised' });
      expect(ranA).toBe(false);
      const ended = performance.now();
      let started = 0;
      const c = pool.analyze(b('c'), { background: true, onStart: () => (started = performance.now()) });
      done();
      await Promise.all([a, c]);
      expect(started - ended).toBeGreaterThanOrEqual(BACKGROUND_IDLE_MS - 5);
    } finally {
      await pool.close();
    }
  });

  it('rejects waiting and new jobs once closed', async () => {
    const pool = new AnalyzerPool({ threads: 1, workerFilename: standIn });
    const running = codeOf(pool.analyze(b('busy:300')));
    const waiting = codeOf(pool.analyze(b('queued')));
    await pool.close();
    // The running job may finish or be cut off by the closing pool; either way it settles, typed.
    expect(['resolved', 'CAPGATE_ANALYSIS_FAILED']).toContain(await running);
    expect(await waiting).toBe('CAPGATE_ANALYSIS_FAILED');
    expect(await codeOf(pool.analyze(b('late')))).toBe('CAPGATE_ANALYSIS_FAILED');
  });
});

// The real worker needs the detectors' analyzeFiles (analyzer/policy.ts).
const hasAnalyzer = existsSync(path.join(__dirname, 'policy.js'));
(hasAnalyzer ? describe : describe.skip)('AnalyzerPool (real analyzer)', () => {
  let pool: AnalyzerPool;
  beforeAll(() => {
    pool = new AnalyzerPool({ threads: 2, timeoutMs: 60_000, maxHeapMb: 256 });
  });
  afterAll(() => pool.close());

  it('analyzes a package in a worker', async () => {
    const tgz = await makePackage({ name: 'ok', version: '1.0.0', main: 'index.js' }, { 'index.js': "require('child_process').exec('id')" });
    const policy = await pool.analyze(tgz);
    expect(policy.name).toBe('ok');
    expect(policy.capabilities).toContain('child-process');
    expect(tgz.length).toBeGreaterThan(0); // the caller's bytes are intact
  });

  it('warms every worker up with the built-in sample, which reaches the detectors', async () => {
    const direct = await analyzeInWorker({ kind: 'warmup', rounds: 2 });
    // The sample loads child_process, reads process.env, fetches and evals: each round reports hits.
    expect(direct).toMatchObject({ ok: true });
    expect((direct as { warmedUp: number }).warmedUp).toBeGreaterThanOrEqual(2 * 4);
    expect(await pool.warmUp(2)).toBeGreaterThanOrEqual(0);
    expect(pool.pending).toBe(0);
    const tgz = await makePackage({ name: 'warm', version: '1.0.0', main: 'index.js' }, { 'index.js': "require('child_process').exec('id')" });
    expect((await pool.analyze(tgz)).capabilities).toContain('child-process');
  });

  it('survives hostile packages: deeply nested code, a huge file, a gzip bomb, garbage', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const nested = 'x = ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000) + ';\nfunction f(){'.repeat(20_000) + '}'.repeat(20_000);
    const huge = 'var a = "' + 'x'.repeat(30 * 1024 * 1024) + '";\n';
    const results = await Promise.allSettled([
      pool.analyze(await makePackage({ name: 'deep', version: '1.0.0' }, { 'index.js': deep })),
      pool.analyze(await makePackage({ name: 'nested', version: '1.0.0' }, { 'index.js': nested })),
      pool.analyze(await makePackage({ name: 'huge', version: '1.0.0' }, { 'index.js': huge })),
      pool.analyze(hostile.gzipBomb(600)),
      pool.analyze(hostile.notGzip()),
    ]);
    for (const r of results) {
      // Each either gives a policy or a typed error: never an untyped rejection.
      if (r.status === 'rejected') expect(isAnalyzerError(r.reason)).toBe(true);
    }
    expect(results[3]).toMatchObject({ status: 'rejected', reason: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxUnpackedSize' } });
    expect(results[4]).toMatchObject({ status: 'rejected', reason: { code: 'CAPGATE_ARCHIVE_CORRUPT' } });
    const after = await pool.analyze(await makePackage({ name: 'after', version: '2.0.0' }));
    expect(after).toMatchObject({ name: 'after', version: '2.0.0' });
  });
});
