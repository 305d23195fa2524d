// Owns the worker-thread side of AnalyzerPool: one piscina task = analyzeTarball on the given bytes.
// Errors travel back as data (a structured clone drops an Error's `code`), the pool revives them.
import { analyzeTarball } from './index';
import { isAnalyzerError, type SerializedAnalyzerError } from './errors';
import type { TarLimits } from './tarball';
import type { PackagePolicy } from './types';

export interface WorkerTask {
  /** The tarball bytes (transferred: the worker owns this buffer). */
  readonly bytes: Uint8Array;
  readonly limits?: Partial<TarLimits> | undefined;
}

export type WorkerResult =
  | { readonly ok: true; readonly policy: PackagePolicy }
  | { readonly ok: false; readonly error: SerializedAnalyzerError };

export default async function analyzeInWorker(task: WorkerTask): Promise<WorkerResult> {
  try {
    const policy = await analyzeTarball(task.bytes, task.limits === undefined ? {} : { limits: task.limits });
    return { ok: true, policy };
  } catch (e) {
    if (isAnalyzerError(e)) return { ok: false, error: e.toJSON() };
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, error: { name: 'AnalyzerError', code: 'CAPGATE_ANALYSIS_FAILED', message: `analysis failed: ${message}` } };
  }
}
