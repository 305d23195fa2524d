// Owns running several gated registries side by side for e2e/cluster.test.ts and bench/cluster.ts:
// the real `capgate serve` child processes, each from its own copy of the repository's
// verdaccio.yaml (written into one shared folder, so they share the htpasswd file) with a
// `store`/`cluster` block added, all on one Verdaccio storage folder; plus reading their
// Prometheus metrics, and a PostgreSQL schema per run that is dropped afterwards.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { Client } from 'pg';
import { cleanEnv, REPO_ROOT, writeGatedConfig } from './support/gated';

const BIN = path.join(REPO_ROOT, 'dist', 'cli', 'bin.js');

export interface InstanceOptions {
  /** Folder holding every instance's config (and the shared htpasswd). */
  readonly dir: string;
  readonly id: string;
  readonly upstream: string;
  /** Verdaccio storage folder, shared by the instances. */
  readonly storage: string;
  /** PostgreSQL store (url + schema), or the file store when null. */
  readonly postgres: { readonly url: string; readonly schema: string } | null;
  readonly leaseTtlMs?: number;
  /** Extra YAML lines for the `capgate:` block, already indented by four spaces. */
  readonly extraYaml?: readonly string[];
  /** Extra environment (e.g. CAPGATE_TEST_ANALYSIS_DELAY_MS, CAPGATE_REVIEWERS). */
  readonly env?: Readonly<Record<string, string>>;
  readonly logLevel?: 'info' | 'warn' | 'error';
  /** Default enforce. */
  readonly mode?: 'enforce' | 'monitor';
}

export interface Instance {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  /** The instance's /-/capgate/metrics text. */
  metricsText(): Promise<string>;
  /** Sum of the samples of `name` whose labels include `labels`. */
  metric(name: string, labels?: Readonly<Record<string, string>>): Promise<number>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s), then wait for the exit. */
  stop(): Promise<void>;
}

export async function writeInstanceConfig(opts: InstanceOptions): Promise<string> {
  const sub = path.join(opts.dir, `instance-${opts.id}`);
  await fs.mkdir(sub, { recursive: true });
  const file = await writeGatedConfig(sub, { mode: opts.mode ?? 'enforce', onError: 'block' });
  let yaml = await fs.readFile(file, 'utf8');
  // One htpasswd for all instances (users registered on one log in on the others).
  yaml = yaml.replace(/^(\s+file:) \.\/htpasswd$/m, `$1 ${JSON.stringify(path.join(opts.dir, 'htpasswd'))}`);
  if (opts.logLevel !== undefined) yaml = yaml.replace(/^(\s+)level: info$/m, `$1level: ${opts.logLevel}`);
  const block = [
    ...(opts.postgres === null ? [] : ['    store:', '      type: postgres', `      schema: ${opts.postgres.schema}`]),
    '    cluster:',
    `      instanceId: ${opts.id}`,
    ...(opts.leaseTtlMs === undefined ? [] : [`      leaseTtlMs: ${opts.leaseTtlMs}`]),
    ...(opts.extraYaml ?? []),
  ];
  const anchor = /^(\s+)onError: block$/m;
  if (!anchor.test(yaml)) throw new Error('verdaccio.yaml no longer has `onError: block` in the capgate block');
  yaml = yaml.replace(anchor, (line) => `${line}\n${block.join('\n')}`);
  const out = path.join(opts.dir, `verdaccio-${opts.id}.yaml`);
  await fs.writeFile(out, yaml);
  await fs.rm(sub, { recursive: true, force: true });
  return out;
}

export async function startInstance(opts: InstanceOptions): Promise<Instance> {
  const config = await writeInstanceConfig(opts);
  const env = cleanEnv({
    CAPGATE_UPSTREAM: opts.upstream,
    VERDACCIO_STORAGE_PATH: opts.storage,
    NODE_ENV: 'test',
    ...(opts.postgres === null ? {} : { DATABASE_URL: opts.postgres.url }),
    ...(opts.env ?? {}),
  });
  delete env['CAPGATE_STORE'];
  delete env['CAPGATE_INSTANCE_ID'];
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-200_000)));
  child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-200_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${opts.id} did not start within 60 s:\n${out}`)), 60_000);
    const onData = (): void => {
      const m = /gated registry listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`instance ${opts.id} exited with ${code ?? signal} before listening:\n${out}`));
    });
  });
  const metricsText = async (): Promise<string> => {
    const r = await httpGet(`${url}-/capgate/metrics`);
    if (r.status !== 200) throw new Error(`instance ${opts.id}: metrics answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r.text;
  };
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const waitExit = (): Promise<void> => (exited() ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve())));
  return {
    id: opts.id,
    url,
    port: Number(new URL(url).port),
    child,
    output: () => out,
    metricsText,
    metric: async (name, labels = {}) => metricSum(await metricsText(), name, labels),
    kill: async () => {
      if (!exited()) child.kill('SIGKILL');
      await waitExit();
    },
    stop: async () => {
      if (exited()) return;
      const done = waitExit();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Sums the samples of one metric (exact name, no `_bucket`/`_sum` unless asked) whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have.set(pair[1] ?? '', pair[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

/** Polls `check` until it returns true (every 100 ms, at most `limitMs`); throws with `what` otherwise. */
export async function eventually(what: string, check: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function httpGet(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** A fresh schema name for one run, and a way to drop it. */
export function freshSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one query on the store's database (test assertions on leases and decisions). */
export async function queryRows(url: string, sql: string, params: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(sql, [...params]);
    return r.rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
