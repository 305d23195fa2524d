import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { asyncLoadPlugin } from '@verdaccio/loaders';
import type { PolicyStore } from '../../policy-store/store';

/**
 * Loads the compiled plugin twice, the way Verdaccio 6.8 does: first as a filter (lib/storage.js
 * init: `filters`, sanity check filter_metadata), then as a middleware (api/index.js), from the
 * same Config object: both instances must share one core (store, gate, decision index).
 */
describe('filter plugin loading through @verdaccio/loaders', () => {
  let dir: string;
  const logs: string[] = [];
  const logger = {
    info: () => undefined,
    warn: (o: unknown, m: string) => logs.push(`warn ${m} ${JSON.stringify(o)}`),
    error: (o: unknown, m: string) => logs.push(`error ${m} ${JSON.stringify(o)}`),
    debug: () => undefined,
    trace: () => undefined,
    http: () => undefined,
    fatal: () => undefined,
    child: () => logger,
  };
  type Loaded = { filter_metadata(m: unknown): Promise<unknown>; register_middlewares: unknown; store: PolicyStore; close(): Promise<void> };

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-filter-load-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const load = async (config: Record<string, unknown>, section: 'filters' | 'middlewares'): Promise<Loaded[]> => {
    const plugins = await asyncLoadPlugin(
      config[section] as never,
      { config, logger } as never,
      (p: unknown) => (section === 'filters' ? typeof (p as { filter_metadata?: unknown }).filter_metadata !== 'undefined' : typeof (p as { register_middlewares?: unknown }).register_middlewares !== 'undefined'),
      true,
      'verdaccio',
      section === 'filters' ? 'filter' : 'middleware',
    );
    return plugins as unknown as Loaded[];
  };

  const baseConfig = (filterBlock: unknown): Record<string, unknown> => ({
    configPath: path.join(dir, 'config.yaml'),
    storage: path.join(dir, 'storage'),
    plugins: path.join(__dirname, '..', 'loader'),
    filters: { capgate: filterBlock },
    middlewares: { capgate: { mode: 'enforce' } },
  });

  it('shares one core between the filter and the middleware, and hides a held version', async () => {
    const config = baseConfig({});
    const [filter] = await load(config, 'filters');
    const [middleware] = await load(config, 'middlewares');
    if (filter === undefined || middleware === undefined) throw new Error('not loaded');
    expect(middleware.store).toBe(filter.store);
    const integrity = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
    await filter.store.init();
    await filter.store.setDecision({
      record: {
        name: 'pkg', version: '1.1.0', integrity, rulesVersion: 'manual', state: 'denied', automatic: 'block', mode: 'enforce', baseline: '1.0.0',
        diff: { gained: [], lost: [], decision: 'block', evidence: {}, baseline: '1.0.0', details: { newKeypaths: [], newHosts: [], newDependencies: [], changedInstallScripts: [] } },
        by: 'rita', reason: 'no',
      },
      at: new Date(),
    });
    const manifest = {
      name: 'pkg',
      'dist-tags': { latest: '1.1.0' },
      versions: { '1.0.0': { dist: { integrity: `sha512-${Buffer.alloc(64, 2).toString('base64')}` } }, '1.1.0': { dist: { integrity } } },
    };
    const out = (await filter.filter_metadata(manifest)) as typeof manifest;
    expect(Object.keys(out.versions)).toEqual(['1.0.0']);
    expect(out['dist-tags']).toEqual({ latest: '1.0.0' });
    await middleware.close();
  });

  it('refuses options under filters when the middleware block is there (one config per gate)', async () => {
    logs.length = 0;
    const plugins = await load(baseConfig({ mode: 'monitor' }), 'filters');
    expect(plugins).toHaveLength(0);
    expect(logs.join('\n')).toContain('filters.capgate');
  });
});
