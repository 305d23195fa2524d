// `capgate serve` start-up: the uplink URL comes from CAPGATE_UPSTREAM or the npm configuration,
// never from a file; it refuses to proxy itself and refuses to run when the plugin (or, with
// `filters: capgate:`, its metadata filter) did not load.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, cleanEnv, removeTempDirs, startGated, writeGatedConfig } from './support/gated';
import { requestJson } from './support/upstream';

jest.setTimeout(120_000);

const BIN = path.join(REPO_ROOT, 'dist', 'cli', 'bin.js');
let work: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-serve-'));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
  await removeTempDirs();
});

/** Runs `capgate serve` until it prints its address (then stops it) or exits by itself. */
function serve(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; listening: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let listening = false;
    const onData = (c: Buffer): void => {
      output += c.toString('utf8');
      if (!listening && output.includes('gated registry listening on')) {
        listening = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`capgate serve neither started nor exited:\n${output}`));
    }, 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, listening });
    });
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('capgate serve', () => {
  it('takes the uplink from the npm configuration when CAPGATE_UPSTREAM is not set', async () => {
    const dir = await fs.mkdtemp(path.join(work, 'npmconfig-'));
    const config = await writeGatedConfig(dir, { mode: 'enforce', onError: 'block' });
    const npmrc = path.join(dir, 'npmrc');
    await fs.writeFile(npmrc, 'registry=http://127.0.0.1:9/from-npmrc/\n');
    const r = await serve(['--config', config, '--port', '0'], { NPM_CONFIG_USERCONFIG: npmrc, VERDACCIO_STORAGE_PATH: path.join(dir, 'storage') });
    expect(r.listening).toBe(true);
    expect(r.output).toContain('(upstream http://127.0.0.1:9/from-npmrc/)');
    // the policy store lives under VERDACCIO_STORAGE_PATH
    await expect(fs.stat(path.join(dir, 'storage', '.capgate'))).resolves.toBeTruthy();
  });

  it('refuses to proxy itself', async () => {
    const port = await freePort();
    const dir = await fs.mkdtemp(path.join(work, 'self-'));
    const config = await writeGatedConfig(dir, { mode: 'enforce', onError: 'block' });
    const r = await serve(['--config', config, '--port', String(port)], { CAPGATE_UPSTREAM: `http://localhost:${port}/`, VERDACCIO_STORAGE_PATH: path.join(dir, 'storage') });
    expect(r.listening).toBe(false);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('is this registry itself');
  });

  it('refuses with its own reason when the uplink cannot be reached', async () => {
    const dead = await freePort();
    const gated = await startGated({ upstream: `http://127.0.0.1:${dead}/` });
    try {
      const r = await requestJson('GET', `${gated.url}left-pad/-/left-pad-1.3.0.tgz`);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: 'CAPGATE_UPSTREAM_UNAVAILABLE' });
      expect(String((r.body as { error?: unknown }).error)).toContain('capgate: refused left-pad');
    } finally {
      await gated.stop();
    }
  });

  it('refuses to start when the capgate plugin does not load', async () => {
    const dir = await fs.mkdtemp(path.join(work, 'badconfig-'));
    const config = await writeGatedConfig(dir, { mode: 'enforce-ish', onError: 'block' });
    const r = await serve(['--config', config, '--port', '0'], { CAPGATE_UPSTREAM: 'http://127.0.0.1:9/', VERDACCIO_STORAGE_PATH: path.join(dir, 'storage') });
    expect(r.listening).toBe(false);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('refusing to run an ungated registry');
    expect(r.output).toContain('capgate.mode');
  });

  it('reports an active metadata filter in its health route with the default config', async () => {
    const gated = await startGated({ upstream: 'http://127.0.0.1:9/' });
    try {
      const health = await requestJson('GET', `${gated.url}-/capgate/v1/health`);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ ok: true, plugin: 'capgate', filter: true });
    } finally {
      await gated.stop();
    }
  });

  it('refuses to start when `filters: capgate:` is configured but the filter does not load', async () => {
    // A capgate build without the metadata filter (a dist/ from before it existed): Verdaccio's
    // filter sanity check drops it with a log line, while the middleware loads as usual.
    const plugins = await fs.mkdtemp(path.join(work, 'plugins-'));
    const real = path.join(REPO_ROOT, 'dist', 'plugin', 'index.js');
    await fs.writeFile(
      path.join(plugins, 'verdaccio-capgate.js'),
      [
        `const Capgate = require(${JSON.stringify(real)}).default;`,
        'class WithoutFilter extends Capgate {}',
        "Object.defineProperty(WithoutFilter.prototype, 'filter_metadata', { value: undefined });",
        'exports.default = WithoutFilter;',
        '',
      ].join('\n'),
    );
    const configWith = async (name: string, filters: boolean): Promise<string> => {
      const dir = await fs.mkdtemp(path.join(work, `${name}-`));
      const file = await writeGatedConfig(dir, { mode: 'enforce', onError: 'block' });
      let yaml = (await fs.readFile(file, 'utf8')).replace(/^plugins: .*$/m, `plugins: ${JSON.stringify(plugins)}`);
      if (!filters) {
        const without = yaml.replace(/^filters:\n {2}capgate: \{\}\n/m, '');
        expect(without).not.toBe(yaml);
        yaml = without;
      }
      await fs.writeFile(file, yaml);
      return file;
    };
    const env = (storage: string): Record<string, string> => ({ CAPGATE_UPSTREAM: 'http://127.0.0.1:9/', VERDACCIO_STORAGE_PATH: storage });

    const refused = await serve(['--config', await configWith('filter-missing', true), '--port', '0'], env(path.join(work, 'filter-missing-storage')));
    expect(refused.listening).toBe(false);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('refusing to run: `filters: capgate:` is configured but the capgate metadata filter is not active');
    // The same plugin without a `filters:` block starts: the refusal is the filter check's, not a plugin that failed to load.
    const plain = await serve(['--config', await configWith('no-filter-block', false), '--port', '0'], env(path.join(work, 'no-filter-block-storage')));
    expect({ listening: plain.listening, output: plain.output }).toMatchObject({ listening: true });
  });
});
