import { hideVersions } from './packument-filter';

const manifest = (v: string) => ({ name: 'p', version: v, dist: { tarball: `http://x/p/-/p-${v}.tgz` } });

function packument(versions: string[], tags: Record<string, string>) {
  return {
    name: 'p',
    versions: Object.fromEntries(versions.map((v) => [v, manifest(v)])),
    'dist-tags': tags,
    time: Object.fromEntries(versions.map((v, i) => [v, new Date(Date.UTC(2020, 0, i + 1)).toISOString()])),
    readme: 'hello',
  };
}

describe('hideVersions', () => {
  it('returns the very same object when nothing is hidden', () => {
    const p = packument(['1.0.0', '1.1.0'], { latest: '1.1.0' });
    const r = hideVersions(p, new Set(['9.9.9']));
    expect(r.packument).toBe(p);
    expect(r.hidden).toEqual([]);
  });

  it('hides a held latest and repoints latest to the newest lower release', () => {
    const p = packument(['1.0.0', '1.1.0', '2.0.0-beta.1', '2.0.0'], { latest: '2.0.0', next: '2.0.0-beta.1' });
    const r = hideVersions(p, new Set(['2.0.0']));
    expect(Object.keys(r.packument.versions)).toEqual(['1.0.0', '1.1.0', '2.0.0-beta.1']);
    expect(r.packument['dist-tags']).toEqual({ latest: '1.1.0', next: '2.0.0-beta.1' });
    expect(r.retagged).toEqual({ latest: ['2.0.0', '1.1.0'] });
    expect(Object.keys(r.packument.time)).not.toContain('2.0.0');
    expect(r.packument.readme).toBe('hello');
    // the input is not mutated
    expect(p['dist-tags'].latest).toBe('2.0.0');
    expect(Object.keys(p.versions)).toContain('2.0.0');
  });

  it('repoints a prerelease tag to the nearest lower version of any kind', () => {
    const p = packument(['1.0.0', '2.0.0-beta.1', '2.0.0-beta.2'], { latest: '1.0.0', next: '2.0.0-beta.2' });
    const r = hideVersions(p, new Set(['2.0.0-beta.2']));
    expect(r.packument['dist-tags']).toEqual({ latest: '1.0.0', next: '2.0.0-beta.1' });
  });

  it('removes a tag with no allowed version below it', () => {
    const p = packument(['1.0.0'], { latest: '1.0.0' });
    const r = hideVersions(p, new Set(['1.0.0']));
    expect(r.packument['dist-tags']).toEqual({});
    expect(r.retagged).toEqual({ latest: ['1.0.0', null] });
  });

  it('skips several hidden versions in a row', () => {
    const p = packument(['1.0.0', '1.0.1', '1.0.2', '1.0.3'], { latest: '1.0.3' });
    const r = hideVersions(p, new Set(['1.0.3', '1.0.2', '1.0.1']));
    expect(r.packument['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(r.hidden).toEqual(['1.0.1', '1.0.2', '1.0.3']);
  });
});
