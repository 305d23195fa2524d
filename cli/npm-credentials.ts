// Owns finding the user's registry and npm credentials for it, the way npm does: the registry from
// `npm config get registry`, the credentials from the npmrc files npm reads, matched by "nerf dart"
// (`//host:port/path/:_authToken`). npm 11 refuses to print protected keys (`npm config get
// //host/:_authToken` fails with "option is protected"), so the files are read directly.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export type Credentials = { kind: 'bearer'; token: string } | { kind: 'basic'; value: string } | { kind: 'none' };

export interface NpmSettings {
  /** `npm config get registry`. */
  readonly registry: string | null;
  /** The npmrc files npm reads, most specific first: project (`<npm prefix>/.npmrc`), user, global. */
  readonly files: readonly string[];
}

function run(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('npm', args, { cwd: opts.cwd ?? process.cwd(), env: opts.env ?? process.env, timeout: 30_000, windowsHide: true }, (err, stdout) => {
      const value = String(stdout).trim();
      resolve(err !== null || value === '' ? null : value);
    });
  });
}

/** Asks the real npm (two calls, in parallel) where its registry and config files are. */
export async function npmSettings(opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<NpmSettings> {
  const [values, prefix] = await Promise.all([run(['config', 'get', 'registry', 'userconfig', 'globalconfig'], opts), run(['prefix'], opts)]);
  const got = new Map<string, string>();
  for (const line of (values ?? '').split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) got.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const usable = (v: string | undefined): string | null => (v === undefined || v === '' || v === 'undefined' || v === 'null' ? null : v);
  const files = [prefix === null ? null : path.join(prefix, '.npmrc'), usable(got.get('userconfig')), usable(got.get('globalconfig'))].filter((f): f is string => f !== null);
  return { registry: usable(got.get('registry')), files };
}

/** `key=value` lines of an npmrc (comments `;`/`#`, optional quotes, `${VAR}` from the environment, as npm). */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    value = value.replace(/(\\*)\$\{([^${}]+)\}/g, (whole: string, esc: string, name: string) =>
      esc.length % 2 === 1 ? whole.slice(1) : esc + (env[name] ?? ''),
    );
    out.set(key, value);
  }
  return out;
}

/**
 * The nerf darts npm tries for a registry URL, most specific first:
 * `http://h:1/a/b/` -> `//h:1/a/b/`, `//h:1/a/`, `//h:1/`.
 */
export function nerfDarts(registry: string): string[] {
  const url = new URL(registry);
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const darts: string[] = [];
  for (let n = parts.length; n >= 0; n--) darts.push(`//${url.host}/${parts.slice(0, n).map((p) => `${p}/`).join('')}`);
  return darts;
}

/** Credentials for `registry` from parsed npmrc contents (most specific file first). */
export function credentialsFor(registry: string, configs: readonly Map<string, string>[]): Credentials {
  for (const dart of nerfDarts(registry)) {
    for (const cfg of configs) {
      const token = cfg.get(`${dart}:_authToken`);
      if (token !== undefined && token !== '') return { kind: 'bearer', token };
      const auth = cfg.get(`${dart}:_auth`);
      if (auth !== undefined && auth !== '') return { kind: 'basic', value: auth };
      const user = cfg.get(`${dart}:username`);
      const pass = cfg.get(`${dart}:_password`);
      if (user !== undefined && pass !== undefined) {
        const password = Buffer.from(pass, 'base64').toString('utf8');
        return { kind: 'basic', value: Buffer.from(`${user}:${password}`).toString('base64') };
      }
    }
  }
  return { kind: 'none' };
}

/** Reads the npmrc files npm uses and returns the credentials for `registry`. */
export async function findCredentials(registry: string, files: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const configs: Map<string, string>[] = [];
  for (const f of files) {
    try {
      configs.push(parseNpmrc(await readFile(f, 'utf8'), env));
    } catch {
      // a missing npmrc is normal
    }
  }
  return credentialsFor(registry, configs);
}
