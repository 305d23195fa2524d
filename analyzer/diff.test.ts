import { diffPolicies } from './diff';
import type { CapabilityId, Evidence, PackagePolicy } from './types';

function policy(version: string, caps: readonly CapabilityId[], extra: Partial<PackagePolicy> = {}): PackagePolicy {
  const evidence: Partial<Record<CapabilityId, readonly Evidence[]>> = {};
  for (const c of caps) evidence[c] = [{ file: 'index.js', line: 1, column: 0, api: c, snippet: c }];
  return { schema: 1, rulesVersion: '1', name: 'p', version, capabilities: [...caps].sort(), evidence, keypaths: [], hosts: [], dependencies: {}, installScripts: {}, findings: [], stats: { files: 1, jsFiles: 1, bytes: 1 }, ...extra };
}

describe('diffPolicies', () => {
  it('nothing gained -> allow', () => {
    expect(diffPolicies(policy('1.0.0', ['network']), policy('1.0.1', ['network']))).toMatchObject({ gained: [], lost: [], decision: 'allow', baseline: '1.0.0' });
  });
  it('a gained block-tier id blocks; a gained flag-tier id flags; lost ids are listed', () => {
    expect(diffPolicies(policy('1', ['fs-read']), policy('2', ['child-process']))).toMatchObject({ gained: ['child-process'], lost: ['fs-read'], decision: 'block' });
    expect(diffPolicies(policy('1', []), policy('2', ['env-read'])).decision).toBe('flag');
  });
  it('operator tiers override the defaults', () => {
    expect(diffPolicies(policy('1', []), policy('2', ['env-read']), { tiers: { 'env-read': 'block' } }).decision).toBe('block');
    expect(diffPolicies(policy('1', []), policy('2', ['network']), { tiers: { network: 'flag' } }).decision).toBe('flag');
  });
  it('approved capabilities are never counted as gained', () => {
    expect(diffPolicies(policy('1', []), policy('2', ['network']), { approvedCapabilities: ['network'] })).toMatchObject({ gained: [], decision: 'allow' });
  });
  it('block-tier ids gained only in unreachable files flag instead of block', () => {
    const next = policy('2', ['child-process'], { evidence: { 'child-process': [{ file: 'test/x.js', line: 1, column: 0, api: 'child_process', snippet: '', reachable: false }] } });
    expect(diffPolicies(policy('1', []), next).decision).toBe('flag');
  });
  it('new hosts, keypaths, dependencies and changed install scripts are details', () => {
    const a = policy('1', ['url-literals', 'install-script'], { hosts: ['a.tld'], keypaths: ['fetch'], dependencies: { x: '1' }, installScripts: { install: 'node-gyp rebuild' } });
    const b = policy('2', ['url-literals', 'install-script'], { hosts: ['a.tld', 'b.tld'], keypaths: ['fetch', 'fetch.x'], dependencies: { x: '1', y: '1' }, installScripts: { install: 'node-gyp  rebuild', postinstall: 'node x.js' } });
    const d = diffPolicies(a, b);
    expect(d.details).toEqual({ newKeypaths: ['fetch.x'], newHosts: ['b.tld'], newDependencies: ['y'], changedInstallScripts: ['postinstall'] });
    expect(d.gained).toEqual(['install-script', 'new-dependency']);
    expect(d.decision).toBe('block');
  });
  it('only whitespace changes in an install command are not a change', () => {
    const a = policy('1', ['install-script'], { installScripts: { install: 'node-gyp rebuild' } });
    const b = policy('2', ['install-script'], { installScripts: { install: ' node-gyp   rebuild ' } });
    expect(diffPolicies(a, b).decision).toBe('allow');
  });
  it('@types dependencies are not new dependencies; known dependency policies are inherited', () => {
    const a = policy('1', []);
    const b = policy('2', [], { dependencies: { '@types/node': '*', dep: '^1' } });
    expect(diffPolicies(a, b)).toMatchObject({ gained: ['new-dependency'], decision: 'flag' });
    const dep = { ...policy('1.4.0', ['os-info']), name: 'dep' };
    const d = diffPolicies(a, b, { dependencyPolicies: new Map([['dep', dep]]) });
    expect(d.gained).toEqual(['os-info']);
    expect(d.evidence['os-info']?.[0]?.via).toBe('dep@1.4.0');
    expect(diffPolicies(a, b, { dependencyPolicies: new Map([['dep', null]]) }).gained).toEqual(['new-dependency']);
  });
  it('conventional configuration variables alone are not a gained env-read', () => {
    const ev = (api: string): Evidence => ({ file: 'index.js', line: 1, column: 0, api, snippet: '' });
    const a = policy('1', []);
    const b = policy('2', ['env-read'], { evidence: { 'env-read': [ev('process.env.TERM'), ev('process.env.NO_COLOR')] }, keypaths: ['process.env.NO_COLOR', 'process.env.TERM'] });
    expect(diffPolicies(a, b).decision).toBe('allow');
    const c = policy('2', ['env-read'], { evidence: { 'env-read': [ev('process.env.NPM_TOKEN')] }, keypaths: ['process.env.NPM_TOKEN'] });
    expect(diffPolicies(a, c).decision).toBe('flag');
  });
  it('a brand-new package follows the new-package policy', () => {
    expect(diffPolicies(null, policy('1', ['network']))).toMatchObject({ decision: 'flag', baseline: null, gained: ['network'] });
    expect(diffPolicies(null, policy('1', ['network']), { newPackage: 'block' }).decision).toBe('block');
    expect(diffPolicies(null, policy('1', ['network']), { newPackage: 'allow' }).decision).toBe('allow');
    expect(diffPolicies(null, policy('1', ['env-read'])).decision).toBe('allow');
  });
});
