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

/** The `times` builtin's two lines at the end of stdout; the second is the CPU of the shell's children (npm and whatever it ran). */
const TIMES = /\d+m[\d.]+s \d+m[\d.]+s\s+(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/;

/**
 * Runs the real npm client against `registry`, timing it; killed after 15 minutes. `cpuMs` is the
 * CPU npm used (user + system, its own children included), from a POSIX shell's `times` builtin
 * run after it; NaN when the shell printed none.
 */
export function npm(args: readonly string[], cwd: string, cache: string, registry: string): Promise<{ code: number | null; output: string; ms: number; cpuMs: number }> {
  const userconfig = path.join(cwd, '..', 'npmrc');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'sh',
      ['-c', 'npm "$@"; s=$?; times; exit $s', 'npm', ...args, `--registry=${registry}`, `--cache=${cache}`, `--userconfig=${userconfig}`, '--no-audit', '--no-fund', '--no-update-notifier', '--ignore-scripts', '--loglevel=error'],
      // Its own process group, so that the time limit kills npm too, not only the shell.
      { cwd, env: cleanEnv({ NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let output = '';
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 900_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const t = TIMES.exec(stdout);
      const cpuMs = t === null ? NaN : (Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) * 1000;
      resolve({ code, output, ms, cpuMs });
    });
  });
}
