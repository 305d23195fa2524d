import { baselineCandidates, tarballFilename, versionsForFile, viewPackument } from './packument';

const packument = (versions: string[], tarball = (v: string) => `http://127.0.0.1:1/p/-/p-${v}.tgz`) => ({
  name: 'p',
  versions: Object.fromEntries(versions.map((v) => [v, { name: 'p', version: v, dist: { tarball: tarball(v), integrity: 'sha512-x' } }])),
});

describe('packument view', () => {
  it('finds the version by its dist.tarball, never by the file name', () => {
    const view = viewPackument(packument(['1.0.0', '2.0.0'], (v) => `http://h/p/-/${v === '1.0.0' ? 'p-2.0.0' : 'other'}.tgz`));
    expect(versionsForFile(view, 'p-2.0.0.tgz').map((v) => v.version)).toEqual(['1.0.0']);
    expect(versionsForFile(view, 'p-3.0.0.tgz')).toEqual([]);
  });

  it('decodes the file name of scoped and escaped tarball URLs', () => {
    expect(tarballFilename('http://h/@s/p/-/p-1.0.0.tgz')).toBe('p-1.0.0.tgz');
    expect(tarballFilename('http://h/@s%2fp/-/p-1.0.0%2Btag.tgz?x=1')).toBe('p-1.0.0+tag.tgz');
    expect(tarballFilename('')).toBe('');
  });

  it('tolerates hostile shapes', () => {
    expect(viewPackument(null).versions.size).toBe(0);
    expect(viewPackument({ versions: { '1.0.0': 'x', '2.0.0': { dist: 5 } } }).versions.get('2.0.0')).toMatchObject({ tarball: '', integrity: null });
  });
});

describe('baselineCandidates', () => {
  const view = viewPackument(packument(['0.9.0', '1.0.0', '1.1.0-rc.1', '1.0.1', '1.1.0-beta.2', '1.1.0', '1.2.0-rc.1', '2.0.0', 'garbage']));
  const of = (v: string) => baselineCandidates(view, v).map((e) => e.version);

  it('orders lower releases nearest first', () => {
    expect(of('1.1.0')).toEqual(['1.0.1', '1.0.0', '0.9.0']);
    expect(of('2.0.0')).toEqual(['1.1.0', '1.0.1', '1.0.0', '0.9.0']);
    expect(of('0.9.0')).toEqual([]);
  });

  it('compares a prerelease with its own line and lower releases only', () => {
    expect(of('1.1.0-rc.1')).toEqual(['1.1.0-beta.2', '1.0.1', '1.0.0', '0.9.0']);
    expect(of('1.2.0-rc.1')).toEqual(['1.1.0', '1.0.1', '1.0.0', '0.9.0']);
  });

  it('has no candidates for an invalid version', () => {
    expect(of('garbage')).toEqual([]);
  });
});
