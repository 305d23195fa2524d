import { entryPoints, reachableFiles, resolveFile } from './reachability';

const files = new Set(['package.json', 'index.js', 'lib/a.js', 'lib/b.js', 'lib/dir/index.js', 'bin/cli', 'test/a.test.js', 'examples/demo.js', 'scripts/setup.js', 'dist/esm/index.mjs', 'dist/cjs/index.cjs', 'lib/worker.js']);

describe('resolveFile', () => {
  it('resolves like a relative require', () => {
    expect(resolveFile(files, 'lib/a')).toBe('lib/a.js');
    expect(resolveFile(files, './lib/dir')).toBe('lib/dir/index.js');
    expect(resolveFile(files, '../outside')).toBeUndefined();
  });
});

describe('entryPoints', () => {
  it('collects main, bin, exports (every condition) and install-script files', () => {
    const manifest = {
      main: 'lib/a.js',
      bin: { cli: 'bin/cli' },
      exports: { '.': { import: './dist/esm/index.mjs', require: './dist/cjs/index.cjs' } },
    };
    expect(entryPoints({ manifest, files, installScripts: { postinstall: 'node scripts/setup.js' } })).toEqual(['bin/cli', 'dist/cjs/index.cjs', 'dist/esm/index.mjs', 'lib/a.js', 'scripts/setup.js']);
  });
  it('defaults to index.js', () => {
    expect(entryPoints({ manifest: {}, files, installScripts: {} })).toEqual(['index.js']);
  });
});

describe('reachableFiles', () => {
  const edges = new Map<string, readonly string[]>([
    ['index.js', ['./lib/a', 'semver']],
    ['lib/a.js', ['./dir', './worker.js']],
    ['test/a.test.js', ['../index.js']],
  ]);
  it('follows static edges from the entry points and leaves tests and examples out', () => {
    const r = reachableFiles({ manifest: {}, files, edges, dynamic: new Set(), installScripts: {} });
    expect(r === 'all' ? r : [...r].sort()).toEqual(['index.js', 'lib/a.js', 'lib/dir/index.js', 'lib/worker.js']);
  });
  it('a dynamic require in a reachable file makes everything reachable', () => {
    expect(reachableFiles({ manifest: {}, files, edges, dynamic: new Set(['lib/a.js']), installScripts: {} })).toBe('all');
  });
  it('a dynamic require in an unreachable test does not', () => {
    expect(reachableFiles({ manifest: {}, files, edges, dynamic: new Set(['test/a.test.js']), installScripts: {} })).not.toBe('all');
  });
  it('no resolvable entry point means everything is reachable', () => {
    expect(reachableFiles({ manifest: { main: 'missing.js' }, files: new Set(['lib/x.js']), edges: new Map(), dynamic: new Set(), installScripts: {} })).toBe('all');
  });
});
