// Owns running the real npm client in isolated temp projects: its own --cache, --userconfig and
// --globalconfig, npm's injected environment removed, audit and fund off (the registries under
// test have no audit endpoint), and a bounded time per command.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv, removeOnExit } from './gated';

export interface NpmResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout + stderr, for assertions on what npm printed. */
  readonly output: string;
}

export interface Project {
  readonly dir: string;
  npm(args: readonly string[], opts?: { registry?: string; timeoutMs?: number }): Promise<NpmResult>;
  exists(relative: string): Promise<boolean>;
  readJson(relative: string): Promise<Record<string, unknown>>;
}

/** A temp project with package.json and its own npm cache and config. */
export async function makeProject(registry: string, pkg: Record<string, unknown> = {}): Promise<Project> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-npm-'));
  removeOnExit(root);
  const dir = path.join(root, 'project');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'e2e-project', version: '1.0.0', private: true, ...pkg }, null, 2));
  const userconfig = path.join(root, 'npmrc');
  const globalconfig = path.join(root, 'global-npmrc');
  await fs.writeFile(userconfig, '');
  await fs.writeFile(globalconfig, '');
  const cache = path.join(root, 'cache');
  return {
    dir,
    npm: (args, opts = {}) =>
      runNpm(
        [
          ...args,
          `--registry=${opts.registry ?? registry}`,
          `--cache=${cache}`,
          `--userconfig=${userconfig}`,
          `--globalconfig=${globalconfig}`,
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--fetch-retries=0',
          '--loglevel=error',
        ],
        dir,
        opts.timeoutMs ?? 120_000,
      ),
    exists: async (relative) =>
      fs.access(path.join(dir, relative)).then(
        () => true,
        () => false,
      ),
    readJson: async (relative) => JSON.parse(await fs.readFile(path.join(dir, relative), 'utf8')) as Record<string, unknown>,
  };
}

export function runNpm(args: readonly string[], cwd: string, timeoutMs: number): Promise<NpmResult> {
  return runCommand('npm', args, cwd, cleanEnv({ NO_COLOR: '1' }), timeoutMs);
}

/** Runs a client command to completion, collecting its output; killed (and rejected) after `timeoutMs`. */
export function runCommand(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<NpmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd === 'npm' ? 'npm ' + args.join(' ') : args.slice(0, 3).join(' ')} took longer than ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}
