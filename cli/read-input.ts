// Owns the CLI's file-system edge: a `.tgz` file's bytes, or a package folder read into PackageFiles
// under the same limits as a tarball (analyzer/ never touches the disk).
//
// A folder is read as the package root (the folder holding package.json), the way npm would see it
// once installed: symbolic links are skipped and reported (`archive/link`, npm does not install
// links from tarballs either), other special files too (`archive/device`); `node_modules/` and
// `.git/` folders are skipped (other packages, version-control data). Which bytes are kept in full
// follows analyzer/tarball.ts (bytesToKeep, plus files package.json names).
import { promises as fs, constants as fsConstants, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { bytesToKeep, isNativeBinaryPath, limitError, manifestNamedFiles, type TarLimits } from '../analyzer/tarball';
import type { Finding, PackageFiles } from '../analyzer/types';
import { CliError } from './errors';

export type Input =
  | { readonly kind: 'tarball'; readonly path: string; readonly bytes: Uint8Array }
  | { readonly kind: 'folder'; readonly path: string; readonly files: PackageFiles; readonly findings: readonly Finding[] };

const SKIPPED_FOLDERS = new Set(['node_modules', '.git']);

export async function readInput(p: string, limits: TarLimits): Promise<Input> {
  let stat;
  try {
    stat = await fs.stat(p);
  } catch (e) {
    throw unreadable(p, e);
  }
  if (stat.isDirectory()) return { kind: 'folder', path: p, ...(await readPackageFolder(p, limits)) };
  if (!stat.isFile()) throw new CliError('CAPGATE_INPUT_UNREADABLE', `${p} is neither a file nor a folder`, { file: p });
  // A compressed file larger than the unpacked limit cannot unpack within it: refuse before reading.
  if (stat.size > limits.maxUnpackedSize) {
    throw limitError('maxUnpackedSize', limits.maxUnpackedSize, stat.size, `${p} is ${stat.size} bytes even compressed`, p);
  }
  try {
    return { kind: 'tarball', path: p, bytes: await fs.readFile(p) };
  } catch (e) {
    throw unreadable(p, e);
  }
}

interface FoundFile {
  readonly rel: string;
  readonly abs: string;
  readonly size: number;
}

export async function readPackageFolder(root: string, limits: TarLimits): Promise<{ files: PackageFiles; findings: Finding[] }> {
  const findings: Finding[] = [];
  const found: FoundFile[] = [];
  let entries = 0;
  let total = 0;

  const walk = async (dir: string, relDir: string, depth: number): Promise<void> => {
    let list: Dirent[];
    try {
      list = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw unreadable(dir, e);
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of list) {
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      const abs = path.join(dir, d.name);
      if (++entries > limits.maxEntries) throw limitError('maxEntries', limits.maxEntries, entries, `more than ${limits.maxEntries} entries`);
      if (rel.length > limits.maxPathLength) throw limitError('maxPathLength', limits.maxPathLength, rel.length, `path is ${rel.length} characters long`, rel.slice(0, 200));
      if (depth + 1 > limits.maxPathDepth) throw limitError('maxPathDepth', limits.maxPathDepth, depth + 1, `path is ${depth + 1} folders deep`, rel.slice(0, 200));
      if (d.isSymbolicLink()) {
        let target = '';
        try {
          target = await fs.readlink(abs);
        } catch {
          // unreadable link: still skipped and reported
        }
        if (findings.length < limits.maxFindings) findings.push({ ruleId: 'archive/link', file: rel, message: `skipped symbolic link to ${JSON.stringify(target)}` });
      } else if (d.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(d.name)) await walk(abs, rel, depth + 1);
      } else if (d.isFile()) {
        let size: number;
        try {
          size = (await fs.lstat(abs)).size;
        } catch (e) {
          throw unreadable(abs, e);
        }
        total += size;
        if (total > limits.maxUnpackedSize) throw limitError('maxUnpackedSize', limits.maxUnpackedSize, total, `more than ${limits.maxUnpackedSize} bytes of files`);
        found.push({ rel, abs, size });
      } else if (findings.length < limits.maxFindings) {
        findings.push({ ruleId: 'archive/device', file: rel, message: 'skipped special file (device, FIFO or socket)' });
      }
    }
  };
  await walk(root, '', 0);

  const keep = new Map<string, number>();
  for (const f of found) keep.set(f.rel, bytesToKeep(f.rel, f.size, limits));
  const manifest = found.find((f) => f.rel === 'package.json');
  if (manifest) {
    const named = manifestNamedFiles(await readHead(manifest.abs, keep.get('package.json') ?? 0));
    for (const f of found) {
      if (!named.has(f.rel) || isNativeBinaryPath(f.rel) || (keep.get(f.rel) ?? 0) >= f.size) continue;
      if (f.size > limits.maxEntrySize) throw limitError('maxEntrySize', limits.maxEntrySize, f.size, `${f.rel} (named by package.json) is ${f.size} bytes`, f.rel);
      keep.set(f.rel, f.size);
    }
  }

  const files = new Map<string, Uint8Array>();
  for (const f of [...found].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    files.set(f.rel, await readHead(f.abs, keep.get(f.rel) ?? 0));
  }
  return { files, findings };
}

/** Reads at most `length` bytes from the start of a file, without following a symlink swapped in meanwhile. */
async function readHead(file: string, length: number): Promise<Uint8Array> {
  let handle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  } catch (e) {
    throw unreadable(file, e);
  }
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await handle.read(buf, got, length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  } catch (e) {
    throw unreadable(file, e);
  } finally {
    await handle.close();
  }
}

function unreadable(p: string, e: unknown): CliError {
  const reason = e instanceof Error ? e.message : String(e);
  return new CliError('CAPGATE_INPUT_UNREADABLE', `cannot read ${p}: ${reason}`, { file: p }, { cause: e });
}
