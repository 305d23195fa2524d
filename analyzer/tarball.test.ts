import { gunzipSync, gzipSync } from 'node:zlib';
import { makePackage, makeTarball } from '../test-support/make-package';
import { hostileTgz, rawTgz, TYPE } from '../test-support/make-hostile-tar';
import { DEFAULT_TAR_LIMITS, manifestNamedFiles, normalizeEntryPath, readTarball, resolveTarLimits, type ReadTarballResult } from './tarball';

type Ok = Extract<ReadTarballResult, { ok: true }>;

function expectOk(r: ReadTarballResult): Ok {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r;
}

const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8');

describe('readTarball', () => {
  it('unpacks an npm tarball, strips package/ and sorts paths', async () => {
    const tgz = await makePackage({ name: 'a', version: '1.0.0' }, { 'lib/z.js': 'z', 'index.js': 'module.exports = 1', 'README.md': '# a' });
    const r = expectOk(await readTarball(tgz));
    expect([...r.files.keys()]).toEqual(['README.md', 'index.js', 'lib/z.js', 'package.json']);
    expect(text(r.files.get('index.js'))).toBe('module.exports = 1');
    expect(JSON.parse(text(r.files.get('package.json')))).toEqual({ name: 'a', version: '1.0.0' });
    expect(r.findings).toEqual([]);
    expect(r.truncated.size).toBe(0);
    expect(r.sizes.get('lib/z.js')).toBe(1);
  });

  it('strips whatever the first folder is called (old packages use their name)', async () => {
    const tgz = await makeTarball({ 'package.json': { name: 'old', version: '0.1.0' }, 'x.js': 'x' }, { prefix: 'old-0.1.0/' });
    const r = expectOk(await readTarball(tgz));
    expect([...r.files.keys()]).toEqual(['package.json', 'x.js']);
  });

  it('accepts old v7 and GNU headers, and GNU long names', async () => {
    const long = 'package/' + 'a'.repeat(150) + '/deep.js';
    const r = expectOk(
      await readTarball(
        rawTgz([
          { name: 'package/v7.js', body: 'v7', format: 'v7' },
          { name: 'package/gnu.js', body: 'gnu', format: 'gnu' },
          { name: long, body: 'long' },
        ]),
      ),
    );
    expect(text(r.files.get('v7.js'))).toBe('v7');
    expect(text(r.files.get('gnu.js'))).toBe('gnu');
    expect(text(r.files.get('a'.repeat(150) + '/deep.js'))).toBe('long');
  });

  it('keeps JS-like files and package.json in full, and only a head of big other files', async () => {
    const big = Buffer.alloc(200_000, 0x61);
    big.write('\x7fELF', 0, 'latin1');
    const js = 'x'.repeat(200_000);
    const tgz = await makePackage({ name: 'a', version: '1.0.0' }, { 'bin/addon.node': big, 'dist/big.js': js, 'data.bin': big.subarray(0, 1000), 'bin/tool': js });
    const r = expectOk(await readTarball(tgz));
    expect(r.files.get('dist/big.js')?.length).toBe(200_000);
    expect(r.files.get('bin/tool')?.length).toBe(200_000); // no extension: may be a bin script
    expect(r.files.get('data.bin')?.length).toBe(1000); // small: kept in full
    const addon = r.files.get('bin/addon.node');
    expect(addon?.length).toBe(DEFAULT_TAR_LIMITS.headBytes);
    expect(Buffer.from(addon ?? []).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(r.sizes.get('bin/addon.node')).toBe(200_000);
    expect([...r.truncated]).toEqual(['bin/addon.node']);
  });

  it('re-reads files the manifest names in full, whatever their extension', async () => {
    const code = 'require("child_process").exec("id");' + ' '.repeat(100_000);
    const tgz = await makePackage(
      { name: 'a', version: '1.0.0', main: './lib/main.es', bin: { tool: 'cli.sh' }, scripts: { postinstall: 'node scripts/setup.dat' } },
      { 'lib/main.es': code, 'cli.sh': code, 'scripts/setup.dat': code, 'other.dat': code },
    );
    const r = expectOk(await readTarball(tgz));
    expect(text(r.files.get('lib/main.es'))).toBe(code);
    expect(text(r.files.get('cli.sh'))).toBe(code);
    expect(text(r.files.get('scripts/setup.dat'))).toBe(code);
    expect(r.files.get('other.dat')?.length).toBe(4096);
    expect([...r.truncated]).toEqual(['other.dat']);
  });

  it('does not re-read a native binary the manifest names (the @next/swc-* shape), even over maxEntrySize', async () => {
    const addon = Buffer.alloc(300_000, 0);
    addon.write('\x7fELF', 0, 'latin1');
    const tgz = await makePackage({ name: 'swc', version: '1.0.0', main: 'swc.linux-x64-gnu.node' }, { 'swc.linux-x64-gnu.node': addon });
    const r = expectOk(await readTarball(tgz, { maxEntrySize: 100_000 }));
    expect(r.files.get('swc.linux-x64-gnu.node')?.length).toBe(4096);
    expect(r.sizes.get('swc.linux-x64-gnu.node')).toBe(300_000);
    expect([...r.truncated]).toEqual(['swc.linux-x64-gnu.node']);
  });

  it('refuses a manifest-named code file over maxEntrySize rather than analyzing only its head', async () => {
    const tgz = await makePackage({ name: 'a', version: '1.0.0', bin: { a: 'cli.sh' } }, { 'cli.sh': 'x'.repeat(200_000) });
    expect(await readTarball(tgz, { maxEntrySize: 100_000 })).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxEntrySize', file: 'cli.sh' } });
  });

  it('reports hostile entries as findings and skips them (never as files)', async () => {
    const r = expectOk(
      await readTarball(
        hostileTgz([
          { name: 'package/../../escape.js', body: 'x' },
          { name: 'package/a/../../escape2.js', body: 'x' },
          { name: 'package/s.js', type: TYPE.symlink, linkname: '/etc/passwd' },
          { name: 'package/h.js', type: TYPE.hardLink, linkname: 'package/index.js' },
          { name: 'package/dev', type: TYPE.blockDevice },
          { name: 'package/fifo', type: TYPE.fifo },
          { name: 'package/sparse', type: TYPE.gnuSparse, body: 'x' },
          { name: 'top.js', body: 'x' },
          { name: 'package/dir/', type: TYPE.directory },
        ]),
      ),
    );
    expect([...r.files.keys()]).toEqual(['index.js', 'package.json']);
    expect(r.findings.map((f) => [f.ruleId, f.file])).toEqual([
      ['archive/path-traversal', 'package/../../escape.js'],
      ['archive/path-traversal', 'package/a/../../escape2.js'],
      ['archive/link', 'package/s.js'],
      ['archive/link', 'package/h.js'],
      ['archive/device', 'package/dev'],
      ['archive/device', 'package/fifo'],
      ['archive/unsupported-entry', 'package/sparse'],
      ['archive/invalid-name', 'top.js'],
    ]);
    expect(r.findings[2]?.message).toContain('/etc/passwd');
  });

  it('keeps absolute paths where npm would write them, with a finding', async () => {
    const r = expectOk(await readTarball(hostileTgz([{ name: '/package/abs.js', body: 'abs' }, { name: 'C:\\pkg\\win.js', body: 'win' }])));
    expect(text(r.files.get('package/abs.js'))).toBe('abs');
    expect(text(r.files.get('pkg/win.js'))).toBe('win');
    expect(r.findings.filter((f) => f.ruleId === 'archive/path-traversal')).toHaveLength(2);
  });

  it('keeps the last of duplicate entries (as npm does) and reports case collisions', async () => {
    const r = expectOk(
      await readTarball(
        hostileTgz([
          { name: 'package/index.js', body: 'second' },
          { name: 'package/./index.js', body: 'third' },
          { name: 'package/Index.js', body: 'upper' },
        ]),
      ),
    );
    expect(text(r.files.get('index.js'))).toBe('third');
    expect(text(r.files.get('Index.js'))).toBe('upper');
    expect(r.findings.map((f) => [f.ruleId, f.file])).toEqual([
      ['archive/duplicate', 'index.js'],
      ['archive/duplicate', 'index.js'],
      ['archive/duplicate', 'Index.js'],
    ]);
  });

  it('caps the number of recorded findings', async () => {
    const links = Array.from({ length: 30 }, (_, i) => ({ name: `package/l${i}`, type: TYPE.symlink, linkname: 'x' }));
    const r = expectOk(await readTarball(hostileTgz(links), { maxFindings: 5 }));
    expect(r.findings).toHaveLength(6);
    expect(r.findings[5]).toMatchObject({ ruleId: 'archive/findings-truncated' });
    expect(r.findings[5]?.message).toContain('25 more');
  });

  it('refuses too many entries, too deep or too long paths, naming the limit', async () => {
    const many = await makeTarball(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.js`, 'x'])));
    const r1 = await readTarball(many, { maxEntries: 10 });
    expect(r1).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxEntries', expected: 10 } });
    const deep = hostileTgz([{ name: 'package/' + 'd/'.repeat(20) + 'x.js', body: 'x' }]);
    expect(await readTarball(deep, { maxPathDepth: 10 })).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxPathDepth', found: 21 } });
    expect(await readTarball(deep, { maxPathLength: 20 })).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxPathLength' } });
    expect(expectOk(await readTarball(deep)).files.size).toBe(3);
  });

  it('lets a big file of a real package through with the default limits (9 MB single file)', async () => {
    const nine = 'var a = 1;\n'.repeat(900_000);
    const r = expectOk(await readTarball(await makePackage({ name: 'ts', version: '5.0.0' }, { 'lib/typescript.js': nine })));
    expect(r.files.get('lib/typescript.js')?.length).toBe(nine.length);
  });

  it('tells an uncompressed tar, a zip and an HTML page apart in its error', async () => {
    const tarOnly = gunzipSync(await makePackage({ name: 'a', version: '1.0.0' }));
    expect(await readTarball(tarOnly)).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_CORRUPT', message: expect.stringContaining('uncompressed tar') } });
    expect(await readTarball(Buffer.from('PK\x03\x04rest'))).toMatchObject({ ok: false, error: { message: expect.stringContaining('zip') } });
    expect(await readTarball(gzipSync(Buffer.from('hello, not a tar archive at all')))).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_CORRUPT' } });
  });

  it('treats an empty gzipped tar as an empty package', async () => {
    const r = expectOk(await readTarball(gzipSync(Buffer.alloc(1024))));
    expect(r.files.size).toBe(0);
  });

  it('validates limits', () => {
    expect(() => resolveTarLimits({ maxEntries: -1 })).toThrow(TypeError);
    expect(resolveTarLimits({ maxEntries: 5 }).maxEntries).toBe(5);
  });
});

describe('normalizeEntryPath', () => {
  it.each([
    ['package/a/b.js', 'a/b.js'],
    ['package//a/./b.js', 'a/b.js'],
    ['package\\a\\b.js', 'a/b.js'],
    ['x/y', 'y'],
  ])('%s -> %s', (raw, expected) => {
    expect(normalizeEntryPath(raw)).toMatchObject({ kind: 'ok', path: expected, notes: [] });
  });

  it.each(['package/../x', 'package\\..\\..\\x', 'package/a/../../x'])('%s is traversal', (raw) => {
    expect(normalizeEntryPath(raw)).toMatchObject({ kind: 'skip', ruleId: 'archive/path-traversal' });
  });

  it('flags but keeps an absolute or ..-first path', () => {
    expect(normalizeEntryPath('/x/y.js')).toMatchObject({ kind: 'ok', path: 'x/y.js', notes: [{ ruleId: 'archive/path-traversal' }] });
    expect(normalizeEntryPath('../y.js')).toMatchObject({ kind: 'ok', path: 'y.js', notes: [{ ruleId: 'archive/path-traversal' }] });
    expect(normalizeEntryPath('package/a\nb.js')).toMatchObject({ kind: 'ok', notes: [{ ruleId: 'archive/invalid-name' }] });
    expect(normalizeEntryPath('a\0b')).toMatchObject({ kind: 'skip', ruleId: 'archive/invalid-name' });
  });
});

describe('manifestNamedFiles', () => {
  it('collects main, module, bin, browser, exports and install-script files', () => {
    const m = {
      main: 'lib/index',
      module: './esm/index.mjs',
      bin: { a: './bin/a' },
      browser: { './lib/node.js': './lib/browser.js', fs: false },
      exports: { '.': { import: './esm/i.mjs', require: './cjs/i.cjs' }, './sub/*': './sub/*.js' },
      scripts: { postinstall: 'node ./scripts/post.js && sh x.sh', test: 'jest t.js' },
    };
    const names = manifestNamedFiles(Buffer.from(JSON.stringify(m)));
    for (const n of ['lib/index', 'lib/index.js', 'esm/index.mjs', 'bin/a', 'lib/node.js', 'lib/browser.js', 'esm/i.mjs', 'cjs/i.cjs', 'scripts/post.js', 'x.sh']) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain('t.js');
    expect([...names].some((n) => n.includes('*'))).toBe(false);
  });

  it('ignores invalid manifests', () => {
    expect(manifestNamedFiles(Buffer.from('{nope'))).toEqual(new Set());
    expect(manifestNamedFiles(undefined)).toEqual(new Set());
    expect(manifestNamedFiles(Buffer.from('"str"'))).toEqual(new Set());
  });
});
