import { DEFAULT_CONFIG, newPackagePolicyFor, parseConfig, tiersFor } from './config';
import { ConfigError } from './errors';

describe('parseConfig', () => {
  it('gives the defaults for an empty block', () => {
    expect(parseConfig(undefined)).toEqual(DEFAULT_CONFIG);
    expect(parseConfig(null)).toEqual(DEFAULT_CONFIG);
    expect(parseConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.mode).toBe('enforce');
    expect(DEFAULT_CONFIG.onError).toBe('block');
  });

  it('reads every option and freezes the result', () => {
    const c = parseConfig({
      mode: 'monitor',
      onError: 'allow',
      tiers: { 'fs-read': 'block', network: 'flag' },
      newPackage: 'block',
      cacheSize: 10,
      maxBaselineCandidates: 3,
      publicUrl: 'https://npm.example.test/',
      analysis: { threads: 1, timeoutMs: 1000, maxHeapMb: 256, maxTarballBytes: 4096 },
      store: { type: 'file', path: './policies' },
    });
    expect(c).toMatchObject({ mode: 'monitor', onError: 'allow', newPackage: 'block', cacheSize: 10, publicUrl: 'https://npm.example.test' });
    expect(c.tiers).toEqual({ 'fs-read': 'block', network: 'flag' });
    expect(c.analysis).toEqual({ threads: 1, timeoutMs: 1000, maxHeapMb: 256, maxTarballBytes: 4096 });
    expect(c.store).toEqual({ type: 'file', path: './policies', url: null, schema: null });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.analysis)).toBe(true);
    expect(Object.isFrozen(c.tiers)).toBe(true);
  });

  it('reports every issue at once with CAPGATE_CONFIG_INVALID', () => {
    let caught: unknown;
    try {
      parseConfig({ mode: 'warn', onError: true, tiers: { teleport: 'block', network: 'maybe' }, cacheSize: -1, analysis: { timeoutMs: 'soon', extra: 1 }, bogus: 1, publicUrl: 'ftp://x' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.code).toBe('CAPGATE_CONFIG_INVALID');
    expect(err.issues).toHaveLength(9);
    for (const fragment of ['capgate.mode', 'capgate.onError', 'tiers.teleport', 'tiers.network', 'cacheSize', 'analysis.timeoutMs', 'analysis.extra', 'capgate.bogus', 'publicUrl']) {
      expect(err.message).toContain(fragment);
    }
  });

  it('refuses a non-object block', () => {
    expect(() => parseConfig('enforce')).toThrow(/expected an object/);
    expect(() => parseConfig([1])).toThrow(ConfigError);
  });
});

describe('parseConfig: resolver options (issue 5)', () => {
  it('defaults background analysis and transitive inheritance, and takes newPackage as a word or per scope', () => {
    const d = parseConfig(undefined);
    expect(d.background).toEqual({ maxVersions: 3, concurrency: 1, queueSize: 200, maxWaitMs: 60_000 });
    expect(d.transitive).toEqual({ depth: 2, maxDependencies: 16, timeoutMs: 20_000 });
    expect(d.newPackageScopes).toEqual({});
    const c = parseConfig({ newPackage: { default: 'block', scopes: { '@corp': 'allow' } }, background: { maxVersions: 0 }, transitive: { depth: 1 } });
    expect(c.newPackage).toBe('block');
    expect(newPackagePolicyFor(c, '@corp/tool')).toBe('allow');
    expect(newPackagePolicyFor(c, '@other/tool')).toBe('block');
    expect(newPackagePolicyFor(c, 'corp')).toBe('block');
    expect(c.background.maxVersions).toBe(0);
    expect(c.transitive.depth).toBe(1);
    expect(Object.isFrozen(c.newPackageScopes)).toBe(true);
  });

  it('reports bad resolver options together', () => {
    expect(() =>
      parseConfig({ newPackage: { default: 'maybe', scopes: { corp: 'allow', '@ok': 'never' }, extra: 1 }, background: { concurrency: 0, nope: 1 }, transitive: { depth: 9 } }),
    ).toThrow(/newPackage\.default[\s\S]*newPackage\.extra|newPackage\.extra[\s\S]*newPackage\.default/);
    let issues: readonly string[] = [];
    try {
      parseConfig({ newPackage: { default: 'maybe', scopes: { corp: 'allow', '@ok': 'never' }, extra: 1 }, background: { concurrency: 0, nope: 1 }, transitive: { depth: 9 } });
    } catch (e) {
      issues = (e as ConfigError).issues;
    }
    expect(issues).toHaveLength(7);
  });
});

describe('parseConfig: per-package and per-scope tiers', () => {
  it('layers the package over its scope over the global tiers', () => {
    const config = parseConfig({
      tiers: { network: 'flag' },
      packageTiers: { '@corp': { 'child-process': 'flag', network: 'block' }, '@corp/x': { network: 'flag' } },
    });
    expect(tiersFor(config, '@corp/x')).toEqual({ network: 'flag', 'child-process': 'flag' });
    expect(tiersFor(config, '@corp/y')).toEqual({ network: 'block', 'child-process': 'flag' });
    expect(tiersFor(config, 'left-pad')).toEqual({ network: 'flag' });
  });

  it('reports bad package keys, unknown ids and bad tiers together', () => {
    let caught: unknown;
    try {
      parseConfig({ packageTiers: { '../x': { network: 'flag' }, p: { nope: 'flag', network: 'maybe' } } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = String((caught as Error).message);
    expect(message).toContain('capgate.packageTiers.../x');
    expect(message).toContain('capgate.packageTiers.p.nope: unknown capability id');
    expect(message).toContain('capgate.packageTiers.p.network: expected "block" or "flag"');
  });
});
