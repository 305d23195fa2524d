import { changedDependencies, pickVersion } from './dependencies';
import type { PackagePolicy } from '../../analyzer/types';

function policy(dependencies: Record<string, string>): PackagePolicy {
  return {
    schema: 1, rulesVersion: 't', name: 'p', version: '1.0.0', capabilities: [], evidence: {}, keypaths: [],
    hosts: [], dependencies, installScripts: {}, findings: [], stats: { files: 0, jsFiles: 0, bytes: 0 },
  };
}

describe('changedDependencies', () => {
  it('reports added and re-ranged registry dependencies, not unchanged ones', () => {
    const old = policy({ a: '^1.0.0', b: '^2.0.0' });
    const next = policy({ a: '^1.0.0', b: '^3.0.0', c: '~0.1.0' });
    expect(changedDependencies(old, next)).toEqual([
      { alias: 'b', name: 'b', range: '^3.0.0', previousRange: '^2.0.0' },
      { alias: 'c', name: 'c', range: '~0.1.0', previousRange: null },
    ]);
  });

  it('resolves npm: aliases to the real package and skips git/url/file specs', () => {
    const next = policy({
      x: 'npm:@evil/pkg@^1.2.0',
      g: 'git+https://example.invalid/r.git',
      f: 'file:../local',
      t: 'https://example.invalid/t.tgz',
    });
    expect(changedDependencies(null, next)).toEqual([
      { alias: 'x', name: '@evil/pkg', range: '^1.2.0', previousRange: null },
    ]);
  });

  it('treats an empty spec as any version', () => {
    expect(changedDependencies(null, policy({ a: '' }))).toEqual([
      { alias: 'a', name: 'a', range: '*', previousRange: null },
    ]);
  });
});

describe('pickVersion', () => {
  const packument = {
    name: 'd',
    'dist-tags': { latest: '1.2.0' },
    versions: {
      '1.0.0': { name: 'd', version: '1.0.0' },
      '1.2.0': { name: 'd', version: '1.2.0' },
      '1.3.0': { name: 'd', version: '1.3.0' },
      '2.0.0-rc.1': { name: 'd', version: '2.0.0-rc.1' },
    },
  };
  it('prefers the latest tag when it satisfies, as npm does', () => {
    expect(pickVersion(packument, '^1.0.0')).toBe('1.2.0');
  });
  it('takes the highest satisfying version otherwise', () => {
    expect(pickVersion(packument, '>=1.3.0 <2')).toBe('1.3.0');
  });
  it('returns null when nothing satisfies', () => {
    expect(pickVersion(packument, '^5')).toBeNull();
  });
});
