import { diffPolicies } from '../../analyzer/diff';
import type { CapabilityId, PackagePolicy } from '../../analyzer/types';
import type { VersionEntry } from '../packument';
import { inheritDependencies } from './inherit';
import type { InheritDeps } from './inherit';

function policy(name: string, version: string, caps: CapabilityId[], dependencies: Record<string, string> = {}): PackagePolicy {
  return {
    schema: 1, rulesVersion: 'r', name, version, capabilities: [...caps].sort(),
    evidence: Object.fromEntries(caps.map((c) => [c, [{ file: 'lib/x.js', line: 3, column: 0, api: c, snippet: c }]])),
    keypaths: [], hosts: [], dependencies, installScripts: {}, findings: [], stats: { files: 1, jsFiles: 1, bytes: 1 },
  };
}

/** A registry of policies: name -> version -> policy; packuments built from it. */
function registry(policies: PackagePolicy[], opts: { slow?: string } = {}): InheritDeps & { analysed: string[] } {
  const byName = new Map<string, PackagePolicy[]>();
  for (const p of policies) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const analysed: string[] = [];
  return {
    analysed,
    depth: 2,
    maxDependencies: 10,
    timeoutMs: 5_000,
    async getPackument(name) {
      const list = byName.get(name);
      if (list === undefined) throw new Error('404');
      const latest = list.map((p) => p.version).sort().at(-1) ?? '';
      return {
        name,
        'dist-tags': { latest },
        versions: Object.fromEntries(list.map((p) => [p.version, { name, version: p.version, dist: { tarball: `http://x/${name}/-/${name}-${p.version}.tgz`, integrity: 'sha512-AAAA' } }])),
      };
    },
    async policyOf(name: string, entry: VersionEntry) {
      analysed.push(`${name}@${entry.version}`);
      if (name === opts.slow) await new Promise(() => undefined);
      return byName.get(name)?.find((p) => p.version === entry.version) ?? null;
    },
  };
}

const parent = { name: 'parent', version: '1.1.0' };

describe('inheritDependencies', () => {
  it('passes a new dependency\'s capabilities to the parent, with evidence naming it, and no new-dependency flag', async () => {
    const base = policy('parent', '1.0.0', []);
    const next = policy('parent', '1.1.0', [], { spawner: '^1.0.0' });
    const deps = registry([policy('spawner', '1.0.0', ['child-process'])]);
    const inh = await inheritDependencies(parent, base, next, deps);
    const diff = diffPolicies(base, next, { dependencyPolicies: inh.dependencyPolicies });
    expect(diff.gained).toEqual(['child-process']);
    expect(diff.decision).toBe('block');
    expect(diff.evidence['child-process']?.[0]).toMatchObject({ file: 'lib/x.js', line: 3, via: 'spawner@1.0.0' });
  });

  it('follows a new dependency\'s own dependencies to depth 2 (files under node_modules/<dep>), handling cycles', async () => {
    const base = policy('parent', '1.0.0', []);
    const next = policy('parent', '1.1.0', [], { wrapper: '^1.0.0' });
    const deps = registry([
      policy('wrapper', '1.0.0', [], { fetcher: '^2.0.0', parent: '^1.0.0' }),
      policy('fetcher', '2.0.0', ['network'], { wrapper: '^1.0.0' }),
      policy('parent', '1.0.0', []),
    ]);
    const inh = await inheritDependencies(parent, base, next, deps);
    const diff = diffPolicies(base, next, { dependencyPolicies: inh.dependencyPolicies });
    expect(diff.gained).toEqual(['network']);
    expect(diff.evidence['network']?.[0]).toMatchObject({ file: 'node_modules/fetcher/lib/x.js', via: 'wrapper@1.0.0' });
    expect(inh.incomplete).toEqual([]);
    const depth1 = await inheritDependencies(parent, base, next, { ...deps, depth: 1 });
    expect(diffPolicies(base, next, { dependencyPolicies: depth1.dependencyPolicies }).gained).toEqual([]);
  });

  it('counts a changed range only for what the new resolution has beyond the previous one', async () => {
    const base = policy('parent', '1.0.0', [], { lib: '~1.0.0', same: '^1.0.0' });
    const next = policy('parent', '1.1.0', [], { lib: '^1.0.0', same: '^1.0.1' });
    const deps = registry([
      policy('lib', '1.0.0', ['fs-read']),
      policy('lib', '1.2.0', ['fs-read', 'child-process']),
      policy('same', '1.0.5', ['network']),
    ]);
    const inh = await inheritDependencies(parent, base, next, deps);
    expect(inh.reranged).toEqual(['lib']);
    expect(inh.dependencyPolicies.get('lib')?.capabilities).toEqual(['child-process']);
    expect(inh.dependencyPolicies.has('same')).toBe(false);
  });

  it('leaves a dependency unknown (a new-dependency flag) past the work or time budget', async () => {
    const base = policy('parent', '1.0.0', []);
    const next = policy('parent', '1.1.0', [], { a: '1.0.0', b: '1.0.0' });
    const deps = registry([policy('a', '1.0.0', []), policy('b', '1.0.0', [], { c: '1.0.0' }), policy('c', '1.0.0', ['network'])]);
    const tight = await inheritDependencies(parent, base, next, { ...deps, maxDependencies: 2 });
    expect(tight.incomplete).toEqual(['b']);
    const slow = registry([policy('a', '1.0.0', []), policy('b', '1.0.0', [])], { slow: 'b' });
    const timed = await inheritDependencies(parent, base, next, { ...slow, timeoutMs: 100 });
    expect(timed.dependencyPolicies.get('b')).toBeNull();
    const diff = diffPolicies(base, next, { dependencyPolicies: timed.dependencyPolicies });
    expect(diff.gained).toEqual(['new-dependency']);
  });
});
