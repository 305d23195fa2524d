// Owns `capgate review list | approve <name@version> | deny <name@version> [--reason ...]`: talks to
// the review API of the registry in the user's npm config, with the user's npm credentials for it.
// Exit codes: 0 done, 2 trouble (usage, not logged in, not a reviewer, registry unreachable).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CAPABILITY_IDS } from '../analyzer/types';
import { checkReason, parseSpec } from '../plugin/review/validate';
import { findCredentials, npmSettings, type Credentials, type NpmSettings } from './npm-credentials';

export interface ReviewIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Working folder for npm's project config (default process.cwd()). */
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const defaultIo: ReviewIo = { stdout: (s) => void process.stdout.write(s), stderr: (s) => void process.stderr.write(s) };

class ReviewCliError extends Error {}

interface Common {
  registry?: string;
  json?: boolean;
}

interface ReviewItem {
  name: string;
  version: string;
  state: string;
  baseline: string | null;
  gained: string[];
  evidence: Record<string, Array<{ file: string; line: number; snippet: string }>>;
  by: string;
  reason: string;
  updatedAt: string;
}

interface Target {
  readonly registry: string;
  readonly settings: NpmSettings;
}

async function registryOf(opts: Common, io: ReviewIo): Promise<Target> {
  const settings = await npmSettings({ ...(io.cwd === undefined ? {} : { cwd: io.cwd }), ...(io.env === undefined ? {} : { env: io.env }) });
  const raw = opts.registry ?? settings.registry;
  if (raw === null) throw new ReviewCliError('no registry: pass --registry or set one with npm config set registry <url>');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ReviewCliError(`registry ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ReviewCliError(`registry ${raw} is not an http(s) URL`);
  return { registry: url.href.endsWith('/') ? url.href : `${url.href}/`, settings };
}

function authHeader(c: Credentials): Record<string, string> {
  if (c.kind === 'bearer') return { authorization: `Bearer ${c.token}` };
  if (c.kind === 'basic') return { authorization: `Basic ${c.value}` };
  return {};
}

/** Calls the API; turns 401/403/4xx/5xx and network failures into one clear message. */
async function call(target: Target, io: ReviewIo, method: 'GET' | 'POST', apiPath: string, body?: unknown): Promise<unknown> {
  const registry = target.registry;
  const creds = await findCredentials(registry, target.settings.files, io.env ?? process.env);
  const url = new URL(apiPath.replace(/^\//, ''), registry);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...authHeader(creds), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'error',
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    // undici puts the socket error (often an AggregateError with an empty message) in `cause`.
    // Duck-typed: errors from another realm (a test sandbox) fail instanceof.
    const field = (o: unknown, k: string): string => {
      const v = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined;
      return typeof v === 'string' ? v : '';
    };
    const c: unknown = typeof e === 'object' && e !== null ? (e as { cause?: unknown }).cause : undefined;
    const detail = field(c, 'code') || field(c, 'message') || field(e, 'message');
    const cause = detail === '' ? '' : `: ${detail}`;
    throw new ReviewCliError(`cannot reach the registry at ${registry}${cause}`);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    data = null;
  }
  const message = typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string' ? (data as { message: string }).message : null;
  if (res.status === 401) {
    throw new ReviewCliError(
      creds.kind === 'none'
        ? `not logged in to ${registry}: run npm login --registry ${registry}`
        : `the registry at ${registry} refused your npm credentials (expired or wrong token?): run npm login --registry ${registry}`,
    );
  }
  if (res.status === 403) throw new ReviewCliError(`${message ?? 'forbidden'}: ask an administrator to add you to the capgate reviewers of ${registry}`);
  if (res.status === 404 && message === null) throw new ReviewCliError(`the registry at ${registry} has no capgate review API (is it a capgate registry?)`);
  if (!res.ok) throw new ReviewCliError(`${message ?? `HTTP ${res.status}`} (${method} ${url.pathname})`);
  return data;
}

function reviewPath(name: string, version: string): string {
  return `/-/capgate/v1/reviews/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
}

function printItems(items: ReviewItem[], io: ReviewIo): void {
  if (items.length === 0) {
    io.stdout('nothing to show\n');
    return;
  }
  for (const it of items) {
    const compared = it.baseline === null ? `new package` : `${it.baseline} -> ${it.version}`;
    io.stdout(`${it.name}@${it.version}  ${it.state}  (${compared})  ${it.updatedAt}\n`);
    io.stdout(`  gained: ${it.gained.length > 0 ? it.gained.join(', ') : 'nothing'}\n`);
    for (const cap of it.gained) {
      const first = it.evidence[cap]?.[0];
      if (first !== undefined) io.stdout(`    ${cap}: ${first.file}:${first.line}  ${first.snippet}\n`);
    }
    if (it.by !== 'capgate') io.stdout(`  by ${it.by}${it.reason === '' ? '' : `: ${it.reason}`}\n`);
  }
}

/**
 * Entry point used by cli/bin.ts: `argv` are the arguments after `review`
 * (e.g. `['deny', 'left-pad@1.2.0', '--reason', 'exfiltrates tokens']`). Resolves to the exit code.
 */
export async function runReview(argv: readonly string[], io: ReviewIo = defaultIo): Promise<number> {
  const args = argv[0] === 'review' ? argv.slice(1) : [...argv];
  const program = new Command('capgate review')
    .description('review what capgate held: list the queue, approve or deny a version')
    .exitOverride()
    .showHelpAfterError('(run capgate review --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  const registryOption = (): Option => new Option('--registry <url>', 'registry URL (default: npm config get registry)');

  program
    .command('list')
    .description('versions waiting for review (or in another state)')
    .addOption(new Option('--state <state>', 'which queue').choices(['pending', 'flagged', 'approved', 'denied']).default('pending'))
    .addOption(registryOption())
    .option('--json', 'print the API answer as JSON')
    .action(async (opts: Common & { state: string }) => {
      const target = await registryOf(opts, io);
      const data = (await call(target, io, 'GET', `/-/capgate/v1/reviews?state=${encodeURIComponent(opts.state)}`)) as { items?: ReviewItem[] };
      if (opts.json === true) io.stdout(JSON.stringify(data, null, 2) + '\n');
      else printItems(data.items ?? [], io);
    });

  const decide = (decision: 'approve' | 'deny') => async (spec: string, opts: Common & { reason?: string; range?: string; capabilities?: string[]; expires?: string }) => {
    const pkg = parseSpec(spec);
    if (!pkg.ok) throw new ReviewCliError(pkg.error);
    const reason = checkReason(opts.reason);
    if (!reason.ok) throw new ReviewCliError(reason.error);
    const body: Record<string, unknown> = { decision, reason: reason.value };
    if (opts.range !== undefined || opts.capabilities !== undefined || opts.expires !== undefined) {
      if (opts.range === undefined || opts.capabilities === undefined) throw new ReviewCliError('a scoped approval needs both --range and --capability');
      body['scope'] = { range: opts.range, capabilities: opts.capabilities, ...(opts.expires === undefined ? {} : { expiresAt: opts.expires }) };
    }
    const target = await registryOf(opts, io);
    const data = (await call(target, io, 'POST', reviewPath(pkg.value.name, pkg.value.version), body)) as { item?: ReviewItem };
    if (opts.json === true) io.stdout(JSON.stringify(data, null, 2) + '\n');
    else io.stdout(`${decision === 'approve' ? 'approved' : 'denied'} ${pkg.value.name}@${pkg.value.version}${data.item?.by === undefined ? '' : ` (by ${data.item.by})`}\n`);
  };

  const collect = (value: string, prev: string[] | undefined): string[] => {
    for (const v of value.split(',')) {
      if (!(CAPABILITY_IDS as readonly string[]).includes(v)) throw new InvalidArgumentError(`unknown capability ${JSON.stringify(v)}`);
    }
    return [...(prev ?? []), ...value.split(',')];
  };
  program
    .command('approve')
    .description('allow a held version; it becomes a baseline for later versions')
    .argument('<name@version>', 'e.g. @scope/name@1.2.3')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--range <semver-range>', 'scoped approval: also allow --capability for this range of versions')
    .option('--capability <id>', 'scoped approval: a capability id (repeat or comma-separate)', collect)
    .option('--expires <date>', 'scoped approval: ISO date after which it no longer applies')
    .addOption(registryOption())
    .option('--json', 'print the API answer as JSON')
    .action(async (spec: string, opts: Common & { reason?: string; range?: string; capability?: string[]; expires?: string }) => {
      const { capability, ...rest } = opts;
      await decide('approve')(spec, capability === undefined ? rest : { ...rest, capabilities: capability });
    });

  program
    .command('deny')
    .description('refuse a version for good')
    .argument('<name@version>', 'e.g. @scope/name@1.2.3')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addOption(registryOption())
    .option('--json', 'print the API answer as JSON')
    .action(decide('deny'));

  program
    .command('audit')
    .description('recent decisions (automatic and human), newest first')
    .option('--name <package>', 'only this package')
    .option('--limit <n>', 'how many (1..1000)', '50')
    .addOption(registryOption())
    .option('--json', 'print the API answer as JSON')
    .action(async (opts: Common & { name?: string; limit: string }) => {
      const target = await registryOf(opts, io);
      const q = new URLSearchParams({ limit: opts.limit, ...(opts.name === undefined ? {} : { name: opts.name }) });
      const data = (await call(target, io, 'GET', `/-/capgate/v1/audit?${q.toString()}`)) as { entries?: Array<{ at: string; by: string; action: string; name: string; version: string; reason: string }> };
      if (opts.json === true) io.stdout(JSON.stringify(data, null, 2) + '\n');
      else for (const e of data.entries ?? []) io.stdout(`${e.at}  ${e.by}  ${e.action}  ${e.name}@${e.version}${e.reason === '' ? '' : `  ${e.reason}`}\n`);
    });

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ReviewCliError) {
      io.stderr(`capgate: error: ${e.message}\n`);
      return 2;
    }
    io.stderr(`capgate: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (args.length === 0) {
    io.stderr(program.helpInformation());
    return 2;
  }
  return 0;
}
