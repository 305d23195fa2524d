// Owns the gated registry of the e2e tests: the real `capgate serve` (node dist/cli/bin.js) as a
// child process, from a temp copy of the repository's verdaccio.yaml, with CAPGATE_UPSTREAM
// pointing at the e2e upstream and VERDACCIO_STORAGE_PATH at a temp folder. Restartable on the
// same storage (decisions must survive).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Temp folders made by the e2e support code. They outlive stop() (a restarted registry reuses its
 * storage), so they are removed by removeTempDirs() in afterAll (and, as a fallback, when the
 * process exits, which jest's workers do not always get to).
 */
const tempDirs = new Set<string>();
export function removeOnExit(dir: string): void {
  if (tempDirs.size === 0) {
    process.once('exit', () => {
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  tempDirs.add(dir);
}

/** Removes every temp folder made so far (call in afterAll, once the registries are stopped). */
export async function removeTempDirs(): Promise<void> {
  for (const d of [...tempDirs]) {
    await fs.rm(d, { recursive: true, force: true });
    tempDirs.delete(d);
  }
}
const BIN = path.join(REPO_ROOT, 'dist', 'cli', 'bin.js');

export interface GatedOptions {
  readonly upstream: string;
  readonly mode?: 'enforce' | 'monitor';
  readonly onError?: 'block' | 'allow';
  /** Reuse a storage folder (restart); default: a fresh temp folder. */
  readonly storage?: string;
}

export interface Gated {
  readonly url: string;
  readonly port: number;
  readonly storage: string;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** The process environment without npm's injected settings (jest may run under `npm run`). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'CAPGATE_UPSTREAM' || k === 'VERDACCIO_STORAGE_PATH') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export async function writeGatedConfig(dir: string, opts: { mode: string; onError: string }): Promise<string> {
  let yaml = await fs.readFile(path.join(REPO_ROOT, 'verdaccio.yaml'), 'utf8');
  const swap = (pattern: RegExp, replacement: string): void => {
    if (!pattern.test(yaml)) throw new Error(`verdaccio.yaml no longer matches ${pattern}`);
    yaml = yaml.replace(pattern, replacement);
  };
  swap(/^plugins: .*$/m, `plugins: ${JSON.stringify(path.join(REPO_ROOT, 'dist', 'plugin', 'loader'))}`);
  swap(/^(\s+)mode: enforce$/m, `$1mode: ${opts.mode}`);
  swap(/^(\s+)onError: block$/m, `$1onError: ${opts.onError}`);
  swap(/^(\s+)level: http$/m, '$1level: info');
  const file = path.join(dir, 'verdaccio.yaml');
  await fs.writeFile(file, yaml);
  return file;
}

export async function startGated(opts: GatedOptions): Promise<Gated> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-gated-'));
  removeOnExit(dir);
  const storage = opts.storage ?? path.join(dir, 'storage');
  const config = await writeGatedConfig(dir, { mode: opts.mode ?? 'enforce', onError: opts.onError ?? 'block' });
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', '0'], {
    env: cleanEnv({ CAPGATE_UPSTREAM: opts.upstream, VERDACCIO_STORAGE_PATH: storage }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`capgate serve did not start within 60 s:\n${out}`)), 60_000);
    const onData = (): void => {
      const m = /gated registry listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`capgate serve exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    storage,
    output: () => out,
    stop: () => stopChild(child, dir),
  };
}

async function stopChild(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await fs.rm(path.join(dir, 'verdaccio.yaml'), { force: true });
}
