// Thin facade of the analyzer (pacote's lib/index.js habit): the one import path for the CLI and
// the plugin. Also owns analyzeTarball = readTarball + analyzeFiles, run in the calling thread.
import type { Finding, PackagePolicy } from './types';
import { readTarball, type TarLimits } from './tarball';
import { analyzeFiles, readManifest } from './policy';
import { dependenciesOf } from './detectors/install-scripts';
import { AnalyzerError, isAnalyzerError } from './errors';

export * from './types';
export { RULES_VERSION } from './rules-version';
export { analyzeFiles } from './policy';
export { diffPolicies, type DiffOptions } from './diff';
export {
  readTarball,
  resolveTarLimits,
  DEFAULT_TAR_LIMITS,
  isJsLikePath,
  isNativeBinaryPath,
  normalizeEntryPath,
  manifestNamedFiles,
  bytesToKeep,
  limitError,
  type TarLimits,
  type ReadTarballResult,
} from './tarball';
export {
  AnalyzerError,
  isAnalyzerError,
  reviveAnalyzerError,
  ANALYZER_ERROR_CODES,
  ANALYZER_ERROR_DESCRIPTIONS,
  type AnalyzerErrorCode,
  type AnalyzerErrorDetails,
  type SerializedAnalyzerError,
} from './errors';

export interface AnalyzeTarballOptions {
  readonly limits?: Partial<TarLimits>;
}

/**
 * Unpacks and analyzes one tarball in the calling thread (servers use AnalyzerPool instead, so their
 * event loop never parses JavaScript). Archive findings are passed through to the policy. Rejects
 * with an AnalyzerError (CAPGATE_ARCHIVE_CORRUPT, CAPGATE_ARCHIVE_LIMIT, CAPGATE_ANALYSIS_FAILED).
 */
export async function analyzeTarball(bytes: Uint8Array, opts: AnalyzeTarballOptions = {}): Promise<PackagePolicy> {
  const read = await readTarball(bytes, opts.limits);
  if (!read.ok) throw read.error;
  const findings: readonly Finding[] = read.findings;
  try {
    return analyzeFiles(read.files, { findings });
  } catch (e) {
    // analyzeFiles is meant never to throw; a stack overflow or a bug still must not escape untyped.
    if (isAnalyzerError(e)) throw e;
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new AnalyzerError('CAPGATE_ANALYSIS_FAILED', `analysis failed: ${message}`, {}, { cause: e });
  }
}

/** What a tarball's own package.json says, as analyzeTarball reads it (see manifestOf). */
export interface TarballManifest {
  readonly name: string;
  readonly version: string;
  /** As PackagePolicy.dependencies: dependenciesOf the manifest, {} without a usable one. */
  readonly dependencies: Record<string, string>;
}

/**
 * The name, version and dependencies of a tarball's package.json, with the same unpacking, limits
 * and parsing as analyzeTarball (so the two never disagree), without analysing any code: a few
 * milliseconds where the analysis takes up to seconds. Null when the archive cannot be read.
 */
export async function manifestOf(bytes: Uint8Array, opts: AnalyzeTarballOptions = {}): Promise<TarballManifest | null> {
  const read = await readTarball(bytes, opts.limits);
  if (!read.ok) return null;
  const { manifest } = readManifest(read.files, []);
  if (manifest === undefined) return { name: '', version: '', dependencies: {} };
  return {
    name: typeof manifest['name'] === 'string' ? manifest['name'] : '',
    version: typeof manifest['version'] === 'string' ? manifest['version'] : '',
    dependencies: dependenciesOf(manifest),
  };
}
