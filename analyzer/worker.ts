// Owns the worker-thread side of AnalyzerPool: one piscina task = analyzeTarball on the given bytes,
// or analyzeFiles on files packed into one transferred buffer (the CLI's folder input).
// Errors travel back as data (a structured clone drops an Error's `code`), the pool revives them.
import { analyzeFiles, analyzeTarball } from './index';
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
    };

export type WorkerResult =
  | { readonly ok: true; readonly policy: PackagePolicy }
  | { readonly ok: false; readonly error: SerializedAnalyzerError };

export default async function analyzeInWorker(task: WorkerTask): Promise<WorkerResult> {
  try {
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
