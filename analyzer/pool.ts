// Owns AnalyzerPool: analyzeTarball in worker threads (piscina), so a server's event loop never
// parses JavaScript, with a time budget and memory caps per job so that one bad package cannot take
// the pool (or the process) down: a timeout terminates that worker (CAPGATE_ANALYSIS_TIMEOUT), an
// out-of-memory or a crash kills only that worker (CAPGATE_ANALYSIS_FAILED); piscina replaces it.
// Also owns which worker runs a job: each worker keeps a cache of file scans by content
// (scan-cache.ts), and consecutive versions of a package share most files, so jobs with the same
// affinity key (the package name) go to the worker that ran the last one unless it is busier.
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';
import { Piscina } from 'piscina';
import { AnalyzerError, isAnalyzerError, reviveAnalyzerError } from './errors';
import type { TarLimits } from './tarball';
import type { Finding, PackageFiles, PackagePolicy } from './types';
import type { WorkerResult, WorkerTask } from './worker';

export interface AnalyzerPoolOptions {
  /** Worker threads. Default 2 (an analysis is CPU-bound; leave cores to the server). */
  readonly threads?: number;
  /**
   * Time budget per analysis in milliseconds, counted from when a worker takes the job (queue time
   * is not counted). On expiry the worker is terminated. Default 30 000.
   */
  readonly timeoutMs?: number;
  /** V8 old-generation heap cap per worker (resourceLimits.maxOldGenerationSizeMb). Default 1024. */
  readonly maxHeapMb?: number;
  /** Stack size per worker thread in MiB (resourceLimits.stackSizeMb). Default 4. */
  readonly stackSizeMb?: number;
  /**
   * V8 young-generation cap per worker in MiB (resourceLimits.maxYoungGenerationSizeMb). Parsing
   * and traversing allocate masses of objects that live for one file; with V8's default young
   * generation the scavenger runs hundreds of times per large package. Default YOUNG_GENERATION_MB.
   */
  readonly youngGenerationMb?: number;
  /** Unpacking limits passed to readTarball. */
  readonly limits?: Partial<TarLimits>;
  /** Workers kept alive when idle. Default 1. */
  readonly minThreads?: number;
  /**
   * Worker module (piscina `filename`) whose default export takes a WorkerTask and resolves to a
   * WorkerResult. Default: this package's analyzer/worker.js. Tests use it to run a stand-in.
   */
  readonly workerFilename?: string;
}

export interface AnalyzeOptions {
  /**
   * Hand the bytes' ArrayBuffer to the worker instead of copying it (zero-copy). **WARNING**: the
   * caller's buffer is detached afterwards; only for callers that do not need the bytes again.
   * Default false (one copy into a fresh buffer, which is then transferred).
   */
  readonly transfer?: boolean;
  /**
   * Jobs with the same key (a package name) prefer the worker that ran the last one, whose scan
   * cache then already holds the files the versions share. Default: none (the least busy worker).
   */
  readonly affinity?: string;
  /** Called when a worker takes the job (its time budget starts then), e.g. to time it without the queue. */
  readonly onStart?: () => void;
  /**
   * A job nobody is waiting on to answer a request (the gate's baselines once it has served the
   * version): it runs only when no foreground job waits, no foreground work is marked (see
   * `foreground()`), and no foreground job has come or gone for BACKGROUND_IDLE_MS: an install's
   * burst of requests keeps the workers for itself (a started job cannot be interrupted). A
   * background job that has waited BACKGROUND_MAX_WAIT_MS counts as foreground, so a steady load
   * cannot starve it. An object is read again at every dispatch: its owner may clear `background`
   * while the job waits (someone now waits on it) and call `poke()`. Default false.
   */
  readonly background?: boolean | { readonly background: boolean };
}

/** Worker threads when not configured (an analysis is CPU-bound; leave cores to the server). */
export const DEFAULT_ANALYSIS_THREADS = 2;

/** Quiet time of foreground jobs before a background job may start. */
export const BACKGROUND_IDLE_MS = 250;
/** How long a background job may be passed over by foreground ones (see AnalyzeOptions.background). */
export const BACKGROUND_MAX_WAIT_MS = 60_000;

/**
 * Measured on ten of the slowest bench packages (webpack, rollup, mongoose, glob...) in one worker,
 * three interleaved rounds: CPU 18.4 s with V8's default, 15.8 s with 96 MiB, 15.4 s with 192 MiB;
 * the process's RSS 333, 362 and 430 MB. 96 takes most of the gain for little memory.
 */
export const YOUNG_GENERATION_MB = 96;

/** Affinity keys remembered (one small entry per package name). */
const MAX_AFFINITY_KEYS = 4096;

/** A job waiting for a lane: for one lane (`pinned`) or for whichever frees up first. */
interface Waiter {
  readonly pinned: Lane | null;
  readonly key: string | undefined;
  /** Background priority as the caller set it (read at every dispatch); null for foreground jobs. */
  readonly priority: { readonly background: boolean } | null;
  /** When it started waiting (performance.now()). */
  readonly since: number;
  resolve(lane: Lane): void;
  reject(e: Error): void;
}

/** One worker thread: a lane runs one job at a time. */
interface Lane {
  readonly index: number;
  readonly piscina: Piscina<WorkerTask, WorkerResult>;
  busy: boolean;
}

export class AnalyzerPool {
  readonly threads: number;
  readonly timeoutMs: number;
  private readonly lanes: Lane[];
  private readonly limits: Partial<TarLimits> | undefined;
  private readonly affinity = new LRUCache<string, number>({ max: MAX_AFFINITY_KEYS });
  /** Jobs waiting for a lane, oldest first. */
  private readonly waiting: Waiter[] = [];
  /** When a foreground job last arrived or finished, or marked foreground work ended (performance.now()). */
  private lastForeground = -Infinity;
  /** Foreground work in progress outside the pool (see foreground()). */
  private activeForeground = 0;
  /** Re-dispatch of waiting background jobs once the pool has been quiet long enough. */
  private backgroundTimer: NodeJS.Timeout | null = null;
  private backgroundTimerAt = Infinity;
  private closed = false;

  constructor(opts: AnalyzerPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? DEFAULT_ANALYSIS_THREADS));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.limits = opts.limits;
    const minThreads = Math.min(this.threads, Math.max(0, opts.minThreads ?? 1));
    this.lanes = Array.from({ length: this.threads }, (_, i): Lane => {
      // One piscina of one thread per lane: piscina cannot pick a thread for a job, a lane can.
      const piscina = new Piscina<WorkerTask, WorkerResult>({
        filename: opts.workerFilename ?? path.join(__dirname, 'worker.js'),
        minThreads: i < minThreads ? 1 : 0,
        maxThreads: 1,
        // Jobs wait in the lane's own queue (so the time budget starts when the worker is free).
        maxQueue: 'auto',
        idleTimeout: 30_000,
        resourceLimits: {
          maxOldGenerationSizeMb: opts.maxHeapMb ?? 1024,
          maxYoungGenerationSizeMb: opts.youngGenerationMb ?? YOUNG_GENERATION_MB,
          stackSizeMb: opts.stackSizeMb ?? 4,
        },
      });
      // piscina emits 'error' for a worker that dies with no task on it; without a listener an
      // EventEmitter 'error' would throw and take the whole process down.
      piscina.on('error', () => undefined);
      return { index: i, piscina, busy: false };
    });
  }

  /** Analyzes one tarball in a worker. Rejects with an AnalyzerError (any of its codes). */
  async analyze(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<PackagePolicy> {
    if (this.closed) throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed');
    // One copy into a buffer of exactly the right size, then transferred (not cloned) to the worker.
    const own = opts.transfer === true && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes
      : new Uint8Array(bytes);
    const task: WorkerTask = this.limits === undefined ? { bytes: own } : { bytes: own, limits: this.limits };
    const priority = typeof opts.background === 'object' ? opts.background : opts.background === true ? { background: true } : null;
    return this.run(opts.affinity, task, own.buffer as ArrayBuffer, opts.onStart, priority);
  }

  /**
   * Analyzes files already unpacked (the CLI's folder input) in a worker: analyzeFiles with the
   * given findings. The files are packed into one buffer that is transferred.
   */
  async analyzeFiles(files: PackageFiles, findings: readonly Finding[] = []): Promise<PackagePolicy> {
    if (this.closed) throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed');
    let total = 0;
    for (const bytes of files.values()) total += bytes.byteLength;
    const data = new Uint8Array(total);
    const index: [string, number, number][] = [];
    let offset = 0;
    for (const [p, bytes] of files) {
      data.set(bytes, offset);
      index.push([p, offset, bytes.byteLength]);
      offset += bytes.byteLength;
    }
    return this.run(undefined, { kind: 'files', data, index, findings }, data.buffer);
  }

  /**
   * A lane for a job, once one is free. A job whose key last ran on a lane waits for that lane
   * (pinned) while it has at most one job more than the least busy lane: waiting behind one job
   * there usually costs less than scanning every shared file again elsewhere, and it leaves the
   * other lanes to other packages. Any other job takes the first lane that is free (lowest index
   * first), so no job waits behind a long one while a worker is idle.
   */
  /**
   * Marks foreground work in progress until the returned function is called (once is enough): the
   * gate marks each decision a request waits on, from the request to its answer, so that
   * background jobs wait for the gaps between an install's requests to close, not just the pool's.
   */
  foreground(): () => void {
    this.activeForeground++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.activeForeground--;
      this.lastForeground = performance.now();
      this.dispatch();
    };
  }

  /** Dispatches again (a waiting job's priority was raised). */
  poke(): void {
    this.dispatch();
  }

  private acquire(key: string | undefined, priority: { readonly background: boolean } | null): Promise<Lane> {
    const background = priority?.background === true;
    if (!background) this.lastForeground = performance.now();
    let pinned: Lane | null = null;
    const previous = key === undefined ? undefined : this.affinity.get(key);
    if (previous !== undefined && previous < this.lanes.length) {
      const least = Math.min(...this.lanes.map((l) => this.load(l)));
      const lane = this.lanes[previous] as Lane;
      if (this.load(lane) <= least + 1) pinned = lane;
    }
    const free = pinned !== null ? (pinned.busy ? undefined : pinned) : this.lanes.find((l) => !l.busy);
    if (free !== undefined && (!background || this.quiet(performance.now()))) return Promise.resolve(this.take(free, key));
    const waiting = new Promise<Lane>((resolve, reject) => this.waiting.push({ pinned, key, priority, since: performance.now(), resolve, reject }));
    if (background) this.scheduleBackground();
    return waiting;
  }

  /** A waiting job that still yields to foreground ones. */
  private yields(w: Waiter, now: number): boolean {
    return w.priority !== null && w.priority.background && now - w.since < BACKGROUND_MAX_WAIT_MS;
  }

  /** No foreground job waits or is marked, and none has arrived or finished for BACKGROUND_IDLE_MS. */
  private quiet(now: number): boolean {
    return this.activeForeground === 0 && now - this.lastForeground >= BACKGROUND_IDLE_MS && !this.waiting.some((w) => !this.yields(w, now));
  }

  /** Jobs on a lane: the running one plus the ones pinned to it. */
  private load(lane: Lane): number {
    let n = lane.busy ? 1 : 0;
    for (const w of this.waiting) if (w.pinned === lane) n++;
    return n;
  }

  private take(lane: Lane, key: string | undefined): Lane {
    lane.busy = true;
    if (key !== undefined) this.affinity.set(key, lane.index);
    return lane;
  }

  /** A finished job's lane goes to the next job (see dispatch). */
  private release(lane: Lane, foreground = false): void {
    if (foreground) this.lastForeground = performance.now();
    lane.busy = false;
    this.dispatch();
  }

  /**
   * Every free lane passes to the oldest waiting job that can run on it: foreground jobs (and
   * background ones that waited BACKGROUND_MAX_WAIT_MS) first, other background jobs only once the
   * pool is quiet (then a timer comes back for them).
   */
  private dispatch(): void {
    const now = performance.now();
    for (const lane of this.lanes) {
      if (lane.busy) continue;
      const fits = (w: Waiter): boolean => w.pinned === null || w.pinned === lane;
      let i = this.waiting.findIndex((w) => fits(w) && !this.yields(w, now));
      if (i === -1 && this.quiet(now)) i = this.waiting.findIndex(fits);
      if (i === -1) continue;
      const [next] = this.waiting.splice(i, 1) as [Waiter];
      next.resolve(this.take(lane, next.key));
    }
    if (this.waiting.some((w) => this.yields(w, now))) this.scheduleBackground();
  }

  /** Comes back to waiting background jobs when the pool will be quiet, or when the oldest has waited its maximum. */
  private scheduleBackground(): void {
    if (this.closed) return;
    const now = performance.now();
    const oldest = Math.min(...this.waiting.filter((w) => this.yields(w, now)).map((w) => w.since));
    // While foreground work is marked, its end dispatches again; the timer is for the aging limit.
    const quietAt = this.activeForeground > 0 ? Infinity : Math.max(this.lastForeground + BACKGROUND_IDLE_MS, now);
    const at = Math.min(quietAt, oldest + BACKGROUND_MAX_WAIT_MS);
    if (!Number.isFinite(at)) return;
    if (this.backgroundTimer !== null) {
      if (this.backgroundTimerAt <= at) return;
      clearTimeout(this.backgroundTimer);
    }
    this.backgroundTimerAt = at;
    this.backgroundTimer = setTimeout(() => {
      this.backgroundTimer = null;
      this.dispatch();
    }, Math.max(1, Math.ceil(at - now)));
  }


  private async run(key: string | undefined, task: WorkerTask, transfer: ArrayBuffer, onStart?: () => void, priority: { readonly background: boolean } | null = null): Promise<PackagePolicy> {
    const lane = await this.acquire(key, priority);
    // Counted as foreground when it ran as such (a raised or aged background job included).
    const background = priority?.background === true;
    if (this.closed) {
      this.release(lane, !background);
      throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed');
    }
    onStart?.();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const result = await lane.piscina.run(task, { signal: controller.signal, transferList: [transfer] });
      if (result.ok && 'policy' in result) return result.policy;
      if (result.ok) throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the worker returned no policy');
      throw reviveAnalyzerError(result.error) ?? new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the worker returned an invalid error');
    } catch (e) {
      if (controller.signal.aborted) {
        throw new AnalyzerError('CAPGATE_ANALYSIS_TIMEOUT', `analysis took longer than ${this.timeoutMs} ms; its worker was terminated`, { timeoutMs: this.timeoutMs }, { cause: e });
      }
      if (isAnalyzerError(e)) throw e;
      throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', `analysis worker failed: ${describe(e)}`, {}, { cause: e });
    } finally {
      clearTimeout(timer);
      this.release(lane, !background);
    }
  }

  /**
   * Loads the analyzer into every worker and JIT-compiles it by scanning a built-in sample
   * `rounds` times per worker (one job per thread, at once), so that the first real packages do
   * not pay for a cold worker (several hundred milliseconds each). Best effort: resolves whatever
   * happens, with the milliseconds it took. Call it at start-up, before the first analysis.
   */
  async warmUp(rounds = 30): Promise<number> {
    const started = Date.now();
    const one = async (lane: Lane): Promise<void> => {
      await this.acquireLane(lane);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.timeoutMs);
      try {
        if (!this.closed) await lane.piscina.run({ kind: 'warmup', rounds }, { signal: controller.signal });
      } catch {
        // A stand-in worker or a dying one: warming up is only an optimisation.
      } finally {
        clearTimeout(timer);
        this.release(lane);
      }
    };
    await Promise.all(this.lanes.map(one));
    return Date.now() - started;
  }

  /** Jobs running plus jobs waiting. */
  get pending(): number {
    return this.lanes.filter((l) => l.busy).length + this.waiting.length;
  }

  /** Stops the workers. Jobs still waiting are rejected; running ones finish first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.backgroundTimer !== null) clearTimeout(this.backgroundTimer);
    this.backgroundTimer = null;
    for (const w of this.waiting.splice(0)) w.reject(new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed'));
    await Promise.all(this.lanes.map((lane) => lane.piscina.close()));
  }

  /** This very lane (warm-up runs once on each). */
  private acquireLane(lane: Lane): Promise<Lane> {
    if (!lane.busy) return Promise.resolve(this.take(lane, undefined));
    return new Promise<Lane>((resolve, reject) => this.waiting.push({ pinned: lane, key: undefined, priority: null, since: performance.now(), resolve, reject }));
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    // ERR_WORKER_OUT_OF_MEMORY is how Node reports a worker that hit maxOldGenerationSizeMb.
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
