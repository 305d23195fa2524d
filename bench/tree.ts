// Owns what bench:proxy and bench:cluster install: one real dependency tree, and the npm client
// invocation both time (isolated cache and userconfig, no scripts, no audit).
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** A typical web app's runtime and build dependencies (169 packages in the tree when pinned so). */
export const DEPENDENCIES: Readonly<Record<string, string>> = {
  express: '4.21.2',
  webpack: '5.97.1',
  axios: '1.7.9',
  lodash: '4.17.21',
  chalk: '4.1.2',
  commander: '12.1.0',
};
export const MIN_PACKAGES = 150;

/** The environment for child processes: none of npm's own `npm_*` variables, nor capgate's start-up ones. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'CAPGATE_UPSTREAM' && k !== 'VERDACCIO_STORAGE_PATH') env[k] = v;
  return { ...env, ...extra };
}

/** Runs the real npm client against `registry`, timing it; killed after 15 minutes. */
export function npm(args: readonly string[], cwd: string, cache: string, registry: string): Promise<{ code: number | null; output: string; ms: number }> {
  const userconfig = path.join(cwd, '..', 'npmrc');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npm',
      [...args, `--registry=${registry}`, `--cache=${cache}`, `--userconfig=${userconfig}`, '--no-audit', '--no-fund', '--no-update-notifier', '--ignore-scripts', '--loglevel=error'],
      { cwd, env: cleanEnv({ NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}
