// Owns `capgate serve`: starts the gated Verdaccio registry programmatically (verdaccio 6
// `runServer`) from verdaccio.yaml (or --config), with the uplink URL injected at start-up from
// CAPGATE_UPSTREAM, else from `npm config get registry` (never from a file), then proves the
// capgate plugin is loaded through its own health route: Verdaccio only logs a plugin that fails
// to load and starts anyway, so serve refuses to run instead. The same goes for the metadata filter
// when the config has a `filters: capgate:` block (the health route reports `filter: true`).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ServeOptions {
  /** verdaccio.yaml to use; default: the package's own verdaccio.yaml. */
  readonly config?: string;
  /** Port to listen on (default 4873; 0 picks a free one). */
  readonly port?: number;
  /** Interface to bind (default CAPGATE_HOST, else 127.0.0.1). */
  readonly host?: string;
  /** Environment to read CAPGATE_UPSTREAM from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A running gated registry. */
export interface ServeHandle {
  readonly url: string;
  readonly port: number;
  readonly upstream: string;
  close(): Promise<void>;
}

export class ServeError extends Error {
  readonly code:
    | 'CAPGATE_SERVE_CONFIG'
    | 'CAPGATE_SERVE_UPSTREAM'
    | 'CAPGATE_SERVE_SELF_PROXY'
    | 'CAPGATE_SERVE_PLUGIN_NOT_LOADED'
    | 'CAPGATE_SERVE_FILTER_NOT_LOADED'
    | 'CAPGATE_SERVE_LISTEN';
  constructor(code: ServeError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServeError';
    this.code = code;
  }
}

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_CONFIG = path.join(PACKAGE_ROOT, 'verdaccio.yaml');
const PLUGINS_DIR = path.join(PACKAGE_ROOT, 'dist', 'plugin', 'loader');
const UPLINK_ID = 'upstream';
const HEALTH_PATH = '/-/capgate/v1/health';

/** The uplink URL: CAPGATE_UPSTREAM, else the npm configuration in force (`npm config get registry`). */
export async function resolveUpstream(env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; source: string }> {
  const fromEnv = env['CAPGATE_UPSTREAM'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { url: checkUrl(fromEnv.trim(), 'CAPGATE_UPSTREAM'), source: 'CAPGATE_UPSTREAM' };
  const out = await new Promise<string>((resolve, reject) => {
    execFile('npm', ['config', 'get', 'registry'], { env, timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  }).catch((e: unknown) => {
    throw new ServeError('CAPGATE_SERVE_UPSTREAM', `cannot read the npm registry from the npm configuration (set CAPGATE_UPSTREAM): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  return { url: checkUrl(out.trim(), 'npm config get registry'), source: 'npm config' };
}

function checkUrl(raw: string, source: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ServeError('CAPGATE_SERVE_UPSTREAM', `${source} is not a URL: ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ServeError('CAPGATE_SERVE_UPSTREAM', `${source} must be an http(s) URL, got ${u.protocol}`);
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '::', '[::]']);

/** True when `upstream` would be this very server (same port on a name of this machine). */
export function isSelf(upstream: string, host: string, port: number): boolean {
  const u = new URL(upstream);
  const upPort = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  if (upPort !== port) return false;
  const h = u.hostname.toLowerCase();
  return LOOPBACK.has(h) || h.startsWith('127.') || h === host.toLowerCase() || h === os.hostname().toLowerCase();
}

type ConfigObject = Record<string, unknown>;

/** Loads the YAML as Verdaccio does and injects the uplink URL and the plugins folder. */
export function loadConfig(configPath: string, upstream: string): ConfigObject {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- verdaccio is CommonJS
  const { parseConfigFile } = require('verdaccio') as { parseConfigFile: (p: string) => unknown };
  const parsed = parseConfigFile(configPath);
  if (typeof parsed !== 'object' || parsed === null) throw new ServeError('CAPGATE_SERVE_CONFIG', `${configPath} is not a Verdaccio configuration`);
  const config = parsed as ConfigObject;
  config['self_path'] = configPath;
  if (config['plugins'] === undefined) config['plugins'] = PLUGINS_DIR;
  const uplinks = isRecord(config['uplinks']) ? config['uplinks'] : {};
  const own = isRecord(uplinks[UPLINK_ID]) ? uplinks[UPLINK_ID] : {};
  uplinks[UPLINK_ID] = { ...own, url: upstream };
  config['uplinks'] = uplinks;
  const mw = config['middlewares'];
  if (!isRecord(mw) || !('capgate' in mw)) {
    throw new ServeError('CAPGATE_SERVE_CONFIG', `${configPath} has no \`middlewares: capgate:\` block; the registry would run ungated`);
  }
  return config;
}

/** True when the config enables capgate's metadata filter (`filters: capgate:`). */
export function hasFilterBlock(config: ConfigObject): boolean {
  const filters = config['filters'];
  return isRecord(filters) && 'capgate' in filters;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Starts the gated registry; resolves once it listens and its capgate health route answers. */
export async function startServe(opts: ServeOptions = {}): Promise<ServeHandle> {
  const env = opts.env ?? process.env;
  const configPath = path.resolve(opts.config ?? DEFAULT_CONFIG);
  if (!fs.existsSync(configPath)) throw new ServeError('CAPGATE_SERVE_CONFIG', `config file not found: ${configPath}`);
  const port = opts.port ?? 4873;
  const host = opts.host ?? env['CAPGATE_HOST'] ?? '127.0.0.1';
  const upstream = await resolveUpstream(env);
  if (port !== 0 && isSelf(upstream.url, host, port)) {
    throw new ServeError('CAPGATE_SERVE_SELF_PROXY', `the upstream ${upstream.url} (from ${upstream.source}) is this registry itself (port ${port}); point CAPGATE_UPSTREAM at the real registry`);
  }
  const config = loadConfig(configPath, upstream.url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- verdaccio is CommonJS
  const { runServer } = require('verdaccio') as { runServer: (c: unknown) => Promise<http.Server> };
  const server = await runServer(config);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ServeError('CAPGATE_SERVE_LISTEN', `cannot listen on ${host}:${port}: ${e.message}`, { cause: e })));
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}/`;
  const close = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    // Release what the plugin holds (analysis leases, outbox claims, workers, the store) rather than
    // leaving other instances to wait for them to expire.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the same module Verdaccio loaded
    const plugin = require('../plugin/index') as { closeAllCores?: () => Promise<void> };
    await plugin.closeAllCores?.();
  };
  if (isSelf(upstream.url, host, actual)) {
    await close();
    throw new ServeError('CAPGATE_SERVE_SELF_PROXY', `the upstream ${upstream.url} is this registry itself`);
  }
  const health = await getJson(`${url}${HEALTH_PATH.slice(1)}`).catch((e: unknown) => ({ status: 0, body: String(e) }));
  const body = health.body;
  if (health.status !== 200 || !isRecord(body) || body['plugin'] !== 'capgate' || body['ok'] !== true) {
    await close();
    const detail = health.status === 404 ? 'the capgate plugin is not loaded (Verdaccio logged why above: an invalid `middlewares: capgate:` block, or dist/ not built)' : `health answered ${health.status}: ${JSON.stringify(body).slice(0, 300)}`;
    throw new ServeError('CAPGATE_SERVE_PLUGIN_NOT_LOADED', `capgate serve: refusing to run an ungated registry: ${detail}`);
  }
  if (hasFilterBlock(config) && body['filter'] !== true) {
    await close();
    throw new ServeError(
      'CAPGATE_SERVE_FILTER_NOT_LOADED',
      'capgate serve: refusing to run: `filters: capgate:` is configured but the capgate metadata filter is not active (Verdaccio logged why above, e.g. a `plugins:` folder whose verdaccio-capgate has no filter_metadata); npm would be offered held versions instead of the last allowed one',
    );
  }
  return { url, port: actual, upstream: upstream.url, close };
}

function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text for the message
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** `capgate serve`: runs until SIGINT/SIGTERM. Prints the address on stdout; throws (for cli/bin.ts to report) when it cannot start. */
export async function runServe(opts: ServeOptions): Promise<void> {
  let handle: ServeHandle;
  try {
    handle = await startServe(opts);
  } catch (e) {
    // Verdaccio (and the plugin's worker pool, if it loaded) may hold the event loop open: make
    // sure a refused start ends the process once the caller has reported the error.
    setTimeout(() => process.exit(process.exitCode ?? 2), 1000).unref();
    process.exitCode = 2;
    throw e;
  }
  process.stdout.write(`capgate: gated registry listening on ${handle.url} (upstream ${handle.upstream})\n`);
  const stop = (): void => {
    void handle.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
