import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveTarLimits } from '../analyzer/tarball';
import { readInput, readPackageFolder } from './read-input';

let root: string;
const limits = resolveTarLimits();

function write(rel: string, content: string | Buffer): void {
  const abs = path.join(root, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, content);
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'capgate-folder-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('readPackageFolder', () => {
  it('reads files relative to the package root, sorted, skipping links, node_modules and .git', async () => {
    write('package.json', JSON.stringify({ name: 'f', version: '1.0.0' }));
    write('lib/b.js', 'b');
    write('a.js', 'a');
    write('node_modules/dep/index.js', 'dep');
    write('.git/config', 'x');
    symlinkSync('/etc/passwd', path.join(root, 'passwd'));
    symlinkSync(path.join(root, 'lib'), path.join(root, 'loop'));
    const { files, findings } = await readPackageFolder(root, limits);
    expect([...files.keys()]).toEqual(['a.js', 'lib/b.js', 'package.json']);
    expect(findings.map((f) => [f.ruleId, f.file])).toEqual([
      ['archive/link', 'loop'],
      ['archive/link', 'passwd'],
    ]);
  });

  it('keeps the same bytes a tarball would: head of big data files, all of manifest-named ones', async () => {
    write('package.json', JSON.stringify({ name: 'f', version: '1.0.0', bin: { f: 'cli.run' } }));
    write('data.bin', Buffer.alloc(100_000, 1));
    write('cli.run', 'x'.repeat(100_000));
    const { files } = await readPackageFolder(root, limits);
    expect(files.get('data.bin')?.length).toBe(limits.headBytes);
    expect(files.get('cli.run')?.length).toBe(100_000);
  });

  it('enforces the tarball limits', async () => {
    write('package.json', '{}');
    write('a/b/c/d/e.js', 'x');
    write('big.js', 'x'.repeat(1000));
    await expect(readPackageFolder(root, { ...limits, maxPathDepth: 3 })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxPathDepth' });
    await expect(readPackageFolder(root, { ...limits, maxEntries: 3 })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxEntries' });
    await expect(readPackageFolder(root, { ...limits, maxUnpackedSize: 500 })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxUnpackedSize' });
    await expect(readPackageFolder(root, { ...limits, maxEntrySize: 500 })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxEntrySize', file: 'big.js' });
  });
});

describe('readInput', () => {
  it('reads a file as tarball bytes and a folder as files', async () => {
    write('p.tgz', Buffer.from([0x1f, 0x8b, 0]));
    write('pkg/package.json', '{}');
    expect(await readInput(path.join(root, 'p.tgz'), limits)).toMatchObject({ kind: 'tarball' });
    expect(await readInput(path.join(root, 'pkg'), limits)).toMatchObject({ kind: 'folder' });
  });

  it('says CAPGATE_INPUT_UNREADABLE for a missing path and refuses an oversized file before reading it', async () => {
    await expect(readInput(path.join(root, 'missing.tgz'), limits)).rejects.toMatchObject({ code: 'CAPGATE_INPUT_UNREADABLE' });
    write('big.tgz', Buffer.alloc(2000));
    await expect(readInput(path.join(root, 'big.tgz'), { ...limits, maxUnpackedSize: 1000 })).rejects.toMatchObject({ code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxUnpackedSize' });
  });
});
