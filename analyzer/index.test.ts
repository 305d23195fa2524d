import * as analyzer from './index';
import { makePackage } from '../test-support/make-package';
import { hostile } from '../test-support/make-hostile-tar';

describe('analyzer facade', () => {
  it('re-exports the contract (types, rules version, analyzeFiles, diffPolicies, readTarball, errors)', () => {
    expect(typeof analyzer.RULES_VERSION).toBe('string');
    for (const fn of [analyzer.analyzeFiles, analyzer.diffPolicies, analyzer.readTarball, analyzer.analyzeTarball, analyzer.isAnalyzerError]) {
      expect(typeof fn).toBe('function');
    }
    expect(analyzer.CAPABILITY_IDS).toContain('child-process');
    expect(analyzer.DEFAULT_TIERS.network).toBe('block');
  });

  it('analyzeTarball = readTarball + analyzeFiles, with the archive findings passed through', async () => {
    const policy = await analyzer.analyzeTarball(hostile.duplicate());
    expect(policy).toMatchObject({ name: 'hostile', version: '1.0.0', rulesVersion: analyzer.RULES_VERSION });
    // The last copy of index.js (the one npm installs) is the one analyzed.
    expect(policy.capabilities).toContain('child-process');
    expect(policy.findings).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: 'archive/duplicate', file: 'index.js' })]));
  });

  it("manifestOf reads what analyzeTarball's policy says of the package.json, without the code", async () => {
    const manifest = { name: 'm', version: '2.0.0', dependencies: { a: '^1.0.0' }, peerDependencies: { p: '*' }, optionalDependencies: { o: '~2.1.0' } };
    const tgz = await makePackage(manifest, { 'index.js': "require('child_process').spawn('x')" });
    const policy = await analyzer.analyzeTarball(tgz);
    expect(await analyzer.manifestOf(tgz)).toEqual({ name: 'm', version: '2.0.0', dependencies: policy.dependencies });
    expect(policy.dependencies).toEqual({ a: '^1.0.0', o: '~2.1.0', p: '*' });
    // No usable package.json: no dependencies, as the policy would have none.
    const bad = await makePackage({ name: 'x', version: '1.0.0' }, { 'package.json': '{ not json' });
    expect(await analyzer.manifestOf(bad)).toEqual({ name: '', version: '', dependencies: {} });
    expect((await analyzer.analyzeTarball(bad)).dependencies).toEqual({});
    // An archive the analyzer cannot read, or one over its limits: nothing.
    expect(await analyzer.manifestOf(hostile.notGzip())).toBeNull();
    expect(await analyzer.manifestOf(tgz, { limits: { maxEntries: 1 } })).toBeNull();
  });

  it('analyzeTarball rejects with a typed AnalyzerError on bad input and honours limits', async () => {
    await expect(analyzer.analyzeTarball(hostile.notGzip())).rejects.toMatchObject({ name: 'AnalyzerError', code: 'CAPGATE_ARCHIVE_CORRUPT' });
    const tgz = await makePackage({ name: 'a', version: '1.0.0' }, { 'a.js': 'x', 'b.js': 'y' });
    await expect(analyzer.analyzeTarball(tgz, { limits: { maxEntries: 2 } })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxEntries' });
    const err = await analyzer.analyzeTarball(hostile.truncated()).catch((e: unknown) => e);
    expect(analyzer.isAnalyzerError(err)).toBe(true);
  });

  it('diffPolicies over two analyzed tarballs through the facade', async () => {
    const a = await analyzer.analyzeTarball(await makePackage({ name: 'p', version: '1.0.0', main: 'i.js' }, { 'i.js': 'module.exports = 1' }));
    const b = await analyzer.analyzeTarball(await makePackage({ name: 'p', version: '1.0.1', main: 'i.js' }, { 'i.js': "require('https').get('https://example.com')" }));
    const d = analyzer.diffPolicies(a, b);
    expect(d.gained).toContain('network');
    expect(d.decision).toBe('block');
  });
});
