import { dependenciesOf, inspectManifest, installScriptsOf, isUrlSpec } from './install-scripts';

describe('installScriptsOf', () => {
  it('keeps preinstall/install/postinstall only', () => {
    expect(installScriptsOf({ scripts: { preinstall: 'node a.js', postinstall: 'node b.js', prepare: 'tsc', test: 'jest' } }, false)).toEqual({
      preinstall: 'node a.js',
      postinstall: 'node b.js',
    });
  });
  it('binding.gyp without an install script means node-gyp rebuild', () => {
    expect(installScriptsOf({}, true)).toEqual({ install: 'node-gyp rebuild' });
    expect(installScriptsOf({ scripts: { install: 'prebuild-install || node-gyp rebuild' } }, true)).toEqual({ install: 'prebuild-install || node-gyp rebuild' });
    expect(installScriptsOf({ gypfile: false }, true)).toEqual({});
  });
  it('ignores non-string and empty scripts', () => {
    expect(installScriptsOf({ scripts: { postinstall: 42, install: ' ' } }, false)).toEqual({});
    expect(installScriptsOf({ scripts: 'x' }, false)).toEqual({});
  });
});

describe('dependenciesOf', () => {
  it('merges runtime dependency fields, sorted, devDependencies excluded', () => {
    expect(dependenciesOf({ dependencies: { b: '^1' }, optionalDependencies: { a: '2' }, peerDependencies: { c: '*' }, devDependencies: { d: '1' } })).toEqual({ a: '2', b: '^1', c: '*' });
  });
});

describe('isUrlSpec', () => {
  it.each(['git+https://github.com/a/b.git', 'github:a/b', 'a/b', 'a/b#v1', 'https://x.tld/p.tgz', 'file:../x', './local', 'git://h/r.git'])('%s is a URL dependency', (s) => {
    expect(isUrlSpec(s)).toBe(true);
  });
  it.each(['^1.2.3', '~1', '*', 'latest', 'npm:other@^1', '1.x || 2.x', '>=1 <2'])('%s is a registry range', (s) => {
    expect(isUrlSpec(s)).toBe(false);
  });
});

describe('inspectManifest', () => {
  it('reports install scripts with their line and url dependencies', () => {
    const manifest = { name: 'x', scripts: { postinstall: 'node setup.js' }, dependencies: { evil: 'https://x.tld/e.tgz', ok: '^1' } };
    const text = JSON.stringify(manifest, null, 2);
    const ev = inspectManifest(manifest, text, false);
    expect(ev).toEqual([
      { capability: 'install-script', api: 'scripts.postinstall', line: 4, snippet: '"postinstall": "node setup.js"' },
      { capability: 'url-dependency', api: 'dep:evil', line: 7, snippet: '"evil": "https://x.tld/e.tgz"' },
    ]);
  });
});
