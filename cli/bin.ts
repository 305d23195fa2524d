#!/usr/bin/env node
// Owns the `capgate` command line: argument parsing (commander) and dispatch to the subcommands.
// Exit codes follow `diff` (DESIGN.md): 0 nothing gained, 1 gained, 2 trouble (usage, unreadable
// input, analysis failure). Results go to stdout, diagnostics to stderr (CAPGATE_LOG_LEVEL).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DEFAULT_CLI_TIMEOUT_MS, reportTrouble, type CommandIo } from './io';
import { CliError } from './errors';
import { createLogger } from './log';
import type { ServeOptions } from './serve';

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && typeof (pkg as { version?: unknown }).version === 'string') {
      return (pkg as { version: string }).version;
    }
  } catch {
    // fall through
  }
  return '0.0.0';
}

function parseIntOption(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** Runs the CLI with `argv` (node-style: argv[0] node, argv[1] script) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CommandIo = defaultIo()): Promise<number> {
  let exitCode = 0;
  const program = new Command();
  program
    .name('capgate')
    .description('A capability gate for npm installs: analyze package versions, diff them, run the gated registry.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run capgate --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Exit codes: 0 nothing gained, 1 capabilities gained (diff), 2 trouble (bad usage, unreadable input,
analysis error or timeout). Diagnostics go to stderr; set CAPGATE_LOG_LEVEL=silent|error|warn|info|debug.
The --json formats are documented in docs/cli.md.`,
    );

  program
    .command('analyze')
    .description('print the capabilities of one package version (a .tgz file or a package folder)')
    .argument('<input>', 'npm tarball (.tgz) or package folder')
    .option('--json', 'print the policy as JSON')
    .option('--timeout <ms>', 'time budget of the analysis in milliseconds', parseIntOption(1, 3_600_000), DEFAULT_CLI_TIMEOUT_MS)
    .action(async (input: string, opts: { json?: boolean; timeout: number }) => {
      exitCode = await loadAnalyze().runAnalyze(input, { json: opts.json === true, timeoutMs: opts.timeout }, io);
    });

  program
    .command('diff')
    .description('compare two versions: what the new one gained and lost, and the decision the gate would take offline')
    .argument('<old>', 'the older version: .tgz file or package folder')
    .argument('<new>', 'the newer version: .tgz file or package folder')
    .option('--json', 'print the diff as JSON')
    .option('--timeout <ms>', 'time budget of each analysis in milliseconds', parseIntOption(1, 3_600_000), DEFAULT_CLI_TIMEOUT_MS)
    .action(async (oldInput: string, newInput: string, opts: { json?: boolean; timeout: number }) => {
      exitCode = await loadAnalyze().runDiff(oldInput, newInput, { json: opts.json === true, timeoutMs: opts.timeout }, io);
    });

  program
    .command('serve')
    .description('run the gated registry (Verdaccio with the capgate plugin)')
    .option('--config <file>', 'Verdaccio configuration file (default: the bundled verdaccio.yaml)')
    .option('--port <n>', 'port to listen on (default 4873)', parseIntOption(0, 65535))
    .action(async (opts: { config?: string; port?: number }) => {
      const serveOptions: { -readonly [K in keyof ServeOptions]: ServeOptions[K] } = {};
      if (opts.config !== undefined) serveOptions.config = opts.config;
      if (opts.port !== undefined) serveOptions.port = opts.port;
      try {
        // Loaded on demand: it pulls in Verdaccio, which analyze and diff do not need.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { runServe } = require('./serve') as typeof import('./serve');
        await runServe(serveOptions);
      } catch (e) {
        exitCode = reportTrouble(e, {}, io);
      }
    });

  program
    .command('review')
    .description('list pending reviews, approve or deny a version: review list | approve <name@version> | deny <name@version> [--reason ...]')
    .argument('[args...]', 'review subcommand and its arguments')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => {
      exitCode = await runReviewIfAvailable(args, io);
    });

  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exitCode 0; every other parse error is a usage problem.
      return e.exitCode === 0 ? 0 : 2;
    }
    return reportTrouble(e, {}, io);
  }
  return exitCode;
}

/** analyze/diff load the analyzer and its parser: only when asked, so --help and serve stay light. */
function loadAnalyze(): typeof import('./analyze') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./analyze') as typeof import('./analyze');
}

/** `capgate review` is implemented in ./review (a later room); until it exists, say so and exit 2. */
async function runReviewIfAvailable(args: readonly string[], io: CommandIo): Promise<number> {
  const file = path.join(__dirname, 'review.js');
  if (!existsSync(file)) {
    io.log.error('capgate review is not available yet');
    return 2;
  }
  try {
    // A runtime lookup: the module is optional, so it cannot be a static import.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod: unknown = require(file);
    const run = typeof mod === 'object' && mod !== null ? (mod as { runReview?: unknown }).runReview : undefined;
    if (typeof run !== 'function') throw new CliError('CAPGATE_CLI_FAILED', 'cli/review.js exports no runReview function');
    const result: unknown = await (run as (a: readonly string[]) => unknown)(args);
    return typeof result === 'number' ? result : 0;
  } catch (e) {
    return reportTrouble(e, {}, io);
  }
}

function defaultIo(): CommandIo {
  return { stdout: (s) => void process.stdout.write(s), log: createLogger() };
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`capgate: error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
