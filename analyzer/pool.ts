// Owns AnalyzerPool: analyzeTarball in worker threads (piscina), so a server's event loop never
// parses JavaScript, with a time budget and memory caps per job so that one bad package cannot take
// the pool (or the process) down: a timeout terminates that worker (CAPGATE_ANALYSIS_TIMEOUT), an
// out-of-memory or a crash kills only that worker (CAPGATE_ANALYSIS_FAILED); piscina replaces it.
import * as path from 'node:path';
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
}

export class AnalyzerPool {
  readonly threads: number;
  readonly timeoutMs: number;
  private readonly piscina: Piscina<WorkerTask, WorkerResult>;
  private readonly limits: Partial<TarLimits> | undefined;
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  constructor(opts: AnalyzerPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? 2));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.limits = opts.limits;
    this.piscina = new Piscina<WorkerTask, WorkerResult>({
      filename: opts.workerFilename ?? path.join(__dirname, 'worker.js'),
      minThreads: Math.min(this.threads, Math.max(0, opts.minThreads ?? 1)),
      maxThreads: this.threads,
      // Jobs wait in this class's own queue (so the time budget starts when a worker is free).
      maxQueue: 'auto',
      idleTimeout: 30_000,
      resourceLimits: {
        maxOldGenerationSizeMb: opts.maxHeapMb ?? 1024,
        stackSizeMb: opts.stackSizeMb ?? 4,
      },
    });
    // piscina emits 'error' for a worker that dies with no task on it; without a listener an
    // EventEmitter 'error' would throw and take the whole process down.
    this.piscina.on('error', () => undefined);
  }

  /** Analyzes one tarball in a worker. Rejects with an AnalyzerError (any of its codes). */
  async analyze(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<PackagePolicy> {
    if (this.closed) throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed');
    // One copy into a buffer of exactly the right size, then transferred (not cloned) to the worker.
    const own = opts.transfer === true && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes
      : new Uint8Array(bytes);
    const task: WorkerTask = this.limits === undefined ? { bytes: own } : { bytes: own, limits: this.limits };
    return this.run(task, own.buffer as ArrayBuffer);
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
    return this.run({ kind: 'files', data, index, findings }, data.buffer);
  }

  private async run(task: WorkerTask, transfer: ArrayBuffer): Promise<PackagePolicy> {
    await this.acquire();
    if (this.closed) {
      this.release();
      throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed');
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const result = await this.piscina.run(task, { signal: controller.signal, transferList: [transfer] });
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
      this.release();
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
    const one = async (): Promise<void> => {
      await this.acquire();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.timeoutMs);
      try {
        if (!this.closed) await this.piscina.run({ kind: 'warmup', rounds }, { signal: controller.signal });
      } catch {
        // A stand-in worker or a dying one: warming up is only an optimisation.
      } finally {
        clearTimeout(timer);
        this.release();
      }
    };
    await Promise.all(Array.from({ length: this.threads }, one));
    return Date.now() - started;
  }

  /** Jobs running plus jobs waiting. */
  get pending(): number {
    return this.active + this.waiting.length;
  }

  /** Stops the workers. Jobs still waiting are rejected; running ones finish first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new AnalyzerError('CAPGATE_ANALYSIS_FAILED', 'the analyzer pool is closed'));
    await this.piscina.close();
  }

  private acquire(): Promise<void> {
    if (this.active < this.threads) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve(); // the slot passes straight to the next job
    else this.active--;
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
