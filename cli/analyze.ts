// Owns `capgate analyze` and `capgate diff`: read inputs (files or folders), analyze them in the
// worker pool, diff offline, print, and return the exit code (0 nothing gained, 1 gained, 2 trouble).
import { AnalyzerPool } from '../analyzer/pool';
import { resolveTarLimits, type TarLimits } from '../analyzer/tarball';
import { diffPolicies } from '../analyzer/diff';
import type { PackagePolicy } from '../analyzer/types';
import { CliError } from './errors';
import { diffJson, formatDiff, formatPolicy } from './format';
import { readInput } from './read-input';
import { DEFAULT_CLI_TIMEOUT_MS, reportTrouble, type CommandIo } from './io';

export interface AnalyzeCommandOptions {
  readonly json?: boolean;
  /** Time budget per package, ms. */
  readonly timeoutMs?: number;
  readonly limits?: Partial<TarLimits>;
}

export async function runAnalyze(input: string, opts: AnalyzeCommandOptions, io: CommandIo): Promise<number> {
  return withPool(1, opts, io, async (analyze) => {
    const policy = await analyze(input);
    io.stdout(opts.json ? JSON.stringify(policy, null, 2) + '\n' : formatPolicy(policy));
    return 0;
  });
}

export async function runDiff(oldInput: string, newInput: string, opts: AnalyzeCommandOptions, io: CommandIo): Promise<number> {
  return withPool(2, opts, io, async (analyze) => {
    const [oldPolicy, newPolicy] = await Promise.all([analyze(oldInput), analyze(newInput)]);
    if (oldPolicy.name !== newPolicy.name) {
      io.log.warn(`comparing different packages: ${JSON.stringify(oldPolicy.name)} and ${JSON.stringify(newPolicy.name)}`);
    }
    // Offline: no dependency policies, so a new dependency stays a flag (DESIGN.md).
    const diff = diffPolicies(oldPolicy, newPolicy);
    io.stdout(opts.json ? JSON.stringify(diffJson(oldPolicy, newPolicy, diff), null, 2) + '\n' : formatDiff(oldPolicy, newPolicy, diff));
    return diff.gained.length > 0 ? 1 : 0;
  });
}

async function withPool(
  threads: number,
  opts: AnalyzeCommandOptions,
  io: CommandIo,
  body: (analyze: (input: string) => Promise<PackagePolicy>) => Promise<number>,
): Promise<number> {
  let limits: TarLimits;
  try {
    limits = resolveTarLimits(opts.limits);
  } catch (e) {
    return reportTrouble(new CliError('CAPGATE_USAGE', e instanceof Error ? e.message : String(e)), opts, io);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
  const pool = new AnalyzerPool({ threads, minThreads: 0, timeoutMs, limits });
  const analyze = async (input: string): Promise<PackagePolicy> => {
    const started = Date.now();
    const read = await readInput(input, limits);
    const policy = read.kind === 'tarball' ? await pool.analyze(read.bytes, { transfer: true }) : await pool.analyzeFiles(read.files, read.findings);
    io.log.debug(`analyzed ${input} (${read.kind}) in ${Date.now() - started} ms`);
    return policy;
  };
  try {
    return await body(analyze);
  } catch (e) {
    return reportTrouble(e, opts, io);
  } finally {
    await pool.close();
  }
}
