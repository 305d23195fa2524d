import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { asyncLoadPlugin } from '@verdaccio/loaders';

/**
 * Loads the compiled plugin the way Verdaccio 6 does (api/index.js: asyncLoadPlugin over
 * `middlewares`, the `plugins:` folder, the `verdaccio` prefix, legacy config merge) and checks
 * the sanity test Verdaccio applies.
 */
describe('plugin loading through @verdaccio/loaders', () => {
  let dir: string;
  const logs: string[] = [];
  const logger = {
    info: (_o: unknown, m: string) => logs.push(`info ${m}`),
    warn: (o: unknown, m: string) => logs.push(`warn ${m} ${JSON.stringify(o)}`),
    error: (o: unknown, m: string) => logs.push(`error ${m} ${JSON.stringify(o)}`),
    debug: () => undefined,
    trace: () => undefined,
    http: () => undefined,
    fatal: () => undefined,
    child: () => logger,
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-load-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const load = async (block: unknown) => {
    const config = {
      configPath: path.join(dir, 'config.yaml'),
      storage: path.join(dir, 'storage'),
      plugins: path.join(__dirname, 'loader'),
      middlewares: { capgate: block },
    };
    const plugins = await asyncLoadPlugin(
      config.middlewares,
      { config, logger } as never,
      (p: unknown) => typeof (p as { register_middlewares?: unknown }).register_middlewares === 'function',
      true,
      'verdaccio',
      'middleware',
    );
    return plugins as unknown as { register_middlewares: unknown; close(): Promise<void>; config: unknown; storeDir: string }[];
  };

  it('loads verdaccio-capgate from the plugins folder with its own config block', async () => {
    const plugins = await load({ mode: 'monitor' });
    expect(plugins).toHaveLength(1);
    const plugin = plugins[0];
    if (plugin === undefined) return;
    expect(plugin.config).toMatchObject({ mode: 'monitor', onError: 'block' });
    expect(plugin.storeDir).toBe(path.join(dir, 'storage', '.capgate'));
    await plugin.close();
  });

  it('does not load with an invalid block, and Verdaccio only logs it', async () => {
    logs.length = 0;
    const plugins = await load({ mode: 'sometimes' });
    expect(plugins).toHaveLength(0);
    expect(logs.join('\n')).toContain('capgate.mode');
  });
});
