// Owns the IO edge of the analyzer: gzipped npm tarball bytes -> PackageFiles, in memory, under limits.
//
// What it does, and why (mirrors what npm's extractor, pacote + node-tar with `strip: 1`, installs):
// - gunzip is streamed and its output counted, so a gzip bomb stops at `maxUnpackedSize` without
//   ever being held in memory; tar entries are parsed by tar-stream (no hand-written tar parser).
// - The first path segment (usually `package/`) is stripped, `\` is read as `/` (npm also installs
//   on Windows), empty and `.` segments are dropped.
// - Hostile entries are data, not errors (STYLE.md): they are skipped and reported as findings:
//   `archive/path-traversal` (a `..` segment left after stripping), `archive/link` (symlinks and
//   hard links: pacote's filter never extracts them), `archive/device` (character/block devices,
//   FIFOs), `archive/unsupported-entry` (unknown type flags), `archive/invalid-name` (no folder to
//   strip, NUL, control characters or undecodable bytes in a name).
// - Absolute paths (`/x`, `C:/x`) and `..` confined to the stripped first segment are reported as
//   `archive/path-traversal` but KEPT at the path npm would write them to (node-tar strips the root
//   and the first segment and installs them inside the package): skipping them would hide code that
//   npm installs.
// - Duplicates: the LAST copy wins, because npm's extractor overwrites earlier copies on disk; an
//   `archive/duplicate` finding names the path. Paths that differ only by case or Unicode
//   normalisation collide on macOS/Windows: both are kept (both may be installed) and reported.
// - Corrupt, non-gzip or truncated data -> AnalyzerError CAPGATE_ARCHIVE_CORRUPT; a limit exceeded
//   -> CAPGATE_ARCHIVE_LIMIT naming the TarLimits key (`limit`), its value and what was found.
//
// MEMORY BOUND / TRUNCATED FILES (contract for PackageFiles consumers, e.g. analyzeFiles):
// The bytes of a file are kept IN FULL when it is JS-like (.js .cjs .mjs .jsx .ts .cts .mts .tsx),
// any `package.json`, a file without an extension (bin scripts), a file of at most `fullKeepSize`
// bytes, or a file the root package.json names (main, bin, browser, exports, module, install
// scripts; except native binaries such as a `.node` main). Any OTHER file keeps only its first `headBytes` bytes (enough for ELF/PE/Mach-O/wasm
// magic-byte checks), so the PackageFiles map then holds TRUNCATED bytes for it: a `.wasm`, `.node`,
// image or big data file. `ReadTarballResult.sizes` has every file's real size and `.truncated`
// the set of truncated paths.
import { createGunzip } from 'node:zlib';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import type { Finding, PackageFiles } from './types';
import { AnalyzerError, isAnalyzerError } from './errors';

/** Unpacking limits. Defaults (DEFAULT_TAR_LIMITS) let the largest popular packages through. */
export interface TarLimits {
  /**
   * Bytes of decompressed tar stream (headers and padding included). The gzip-bomb guard: counting
   * stops the stream as soon as it is exceeded. Default 512 MiB (measured: next 16.4.6 unpacks to
   * 199 MB in 8 711 files, @next/swc-linux-x64-gnu to 101 MB, prisma 7 to 42 MB, typescript 5.9 to 24 MB).
   */
  readonly maxUnpackedSize: number;
  /**
   * Largest file kept in full (JS-like files, package.json, manifest-named files). Default 64 MiB
   * (typescript's biggest file is ~9 MB). Larger files that need not be kept in full only keep a head.
   */
  readonly maxEntrySize: number;
  /** Tar entries of any type (directories included). Default 100 000 (icon packages ship ~40 000). */
  readonly maxEntries: number;
  /** Characters in one entry name, before normalisation. Default 4096 (Linux PATH_MAX). */
  readonly maxPathLength: number;
  /** Path segments after normalisation. Default 256 (node-tar refuses beyond 1024). */
  readonly maxPathDepth: number;
  /** Bytes kept of a file that is not kept in full (magic-byte checks). Default 4096. */
  readonly headBytes: number;
  /** Any file of at most this many bytes is kept in full, whatever its name. Default 64 KiB. */
  readonly fullKeepSize: number;
  /** Archive findings recorded before one summary finding replaces the rest. Default 1000. */
  readonly maxFindings: number;
}

export const DEFAULT_TAR_LIMITS: Readonly<TarLimits> = Object.freeze({
  maxUnpackedSize: 512 * 1024 * 1024,
  maxEntrySize: 64 * 1024 * 1024,
  maxEntries: 100_000,
  maxPathLength: 4096,
  maxPathDepth: 256,
  headBytes: 4096,
  fullKeepSize: 64 * 1024,
  maxFindings: 1000,
});

export type ReadTarballResult =
  | {
      readonly ok: true;
      /** Sorted by path; see the header comment for which files hold truncated bytes. */
      readonly files: PackageFiles;
      /** Archive findings (hostile or odd entries), in archive order. */
      readonly findings: Finding[];
      /** Real size of every file in `files` (larger than its bytes when truncated). */
      readonly sizes: ReadonlyMap<string, number>;
      /** Paths whose bytes in `files` are only the first `headBytes` bytes. */
      readonly truncated: ReadonlySet<string>;
      /** Decompressed tar bytes read. */
      readonly unpackedBytes: number;
    }
  | { readonly ok: false; readonly error: AnalyzerError };

/** Extensions of files whose bytes are always kept in full (CAPABILITIES.md "Which files count", plus TS/Flow). */
const JS_LIKE = new Set(['.js', '.cjs', '.mjs', '.jsx', '.ts', '.cts', '.mts', '.tsx']);

export function isJsLikePath(p: string): boolean {
  return JS_LIKE.has(path.posix.extname(p).toLowerCase());
}

/**
 * Native binaries: a manifest may name one (`"main": "addon.linux-x64.node"`, as the @next/swc-*
 * packages do, ~100 MB), but they are not parsed, only recognised by name and magic bytes, so their
 * head is enough and they are never re-read in full.
 */
const NATIVE_BINARY = new Set(['.node', '.wasm', '.so', '.dylib', '.dll', '.exe']);

export function isNativeBinaryPath(p: string): boolean {
  return NATIVE_BINARY.has(path.posix.extname(p).toLowerCase());
}

export function resolveTarLimits(limits: Partial<TarLimits> = {}): TarLimits {
  const out: { -readonly [K in keyof TarLimits]: number } = { ...DEFAULT_TAR_LIMITS };
  for (const key of Object.keys(DEFAULT_TAR_LIMITS) as (keyof TarLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TypeError(`TarLimits.${key} must be a finite number >= 0, got ${String(v)}`);
    }
    out[key] = v;
  }
  return out;
}

/**
 * Unpacks a gzipped npm tarball in memory. Never throws and never rejects: bad input is
 * `{ ok: false, error }` with an AnalyzerError (CAPGATE_ARCHIVE_CORRUPT or CAPGATE_ARCHIVE_LIMIT).
 */
export async function readTarball(bytes: Uint8Array, limits?: Partial<TarLimits>): Promise<ReadTarballResult> {
  try {
    return await readTarballOrThrow(bytes, resolveTarLimits(limits));
  } catch (e) {
    if (isAnalyzerError(e)) return { ok: false, error: e };
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: new AnalyzerError('CAPGATE_ANALYSIS_FAILED', `unpacking failed: ${message}`, {}, { cause: e }) };
  }
}

interface KeptFile {
  ordinal: number;
  size: number;
  bytes: Buffer;
  truncated: boolean;
}

async function readTarballOrThrow(input: Uint8Array, limits: TarLimits): Promise<ReadTarballResult> {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  checkGzipMagic(bytes);

  const findings: Finding[] = [];
  let omitted = 0;
  const addFinding = (ruleId: string, file: string, message: string): void => {
    if (findings.length < limits.maxFindings) findings.push({ ruleId, file, message });
    else omitted++;
  };

  const kept = new Map<string, KeptFile>();
  const foldedNames = new Map<string, string>();
  // tar entries are strictly sequential (tar-stream waits for next()), so the record being filled
  // by onData is always the one the last decide() call created.
  let current: KeptFile | null = null;

  const unpackedBytes = await scan(bytes, limits, (header, ordinal) => {
    current = null;
    const raw = header.name;
    if (raw.length > limits.maxPathLength) {
      throw limitError('maxPathLength', limits.maxPathLength, raw.length, `entry name is ${raw.length} characters long`, raw.slice(0, 200));
    }
    const type = header.type;
    if (type === 'directory') return 0;
    if (type === 'symlink' || type === 'link') {
      const kind = type === 'symlink' ? 'symbolic link' : 'hard link';
      addFinding('archive/link', raw, `skipped ${kind} to ${JSON.stringify(header.linkname ?? '')} (npm does not install links from tarballs)`);
      return 0;
    }
    if (type === 'character-device' || type === 'block-device' || type === 'fifo') {
      addFinding('archive/device', raw, `skipped ${type} entry`);
      return 0;
    }
    if (type !== 'file' && type !== 'contiguous-file') {
      addFinding('archive/unsupported-entry', raw, `skipped entry of unsupported type ${String(type)}`);
      return 0;
    }

    const norm = normalizeEntryPath(raw);
    if (norm.kind === 'skip') {
      addFinding(norm.ruleId, raw, norm.message);
      return 0;
    }
    const p = norm.path;
    if (norm.depth > limits.maxPathDepth) {
      throw limitError('maxPathDepth', limits.maxPathDepth, norm.depth, `entry path is ${norm.depth} folders deep`, p.slice(0, 200));
    }
    for (const note of norm.notes) addFinding(note.ruleId, raw, note.message);

    const previous = kept.get(p);
    if (previous) {
      addFinding('archive/duplicate', p, 'duplicate entry: the last copy wins, as npm overwrites earlier copies when extracting');
      kept.delete(p);
    } else {
      const folded = p.normalize('NFC').toLowerCase();
      const other = foldedNames.get(folded);
      if (other !== undefined && other !== p) {
        addFinding(
          'archive/duplicate',
          p,
          `differs from ${JSON.stringify(other)} only by case or Unicode normalisation: they collide on case-insensitive file systems; both are analyzed`,
        );
      } else {
        foldedNames.set(folded, p);
      }
    }

    const size = header.size ?? 0;
    const keep = bytesToKeep(p, size, limits);
    current = { ordinal, size, bytes: EMPTY, truncated: keep < size };
    kept.set(p, current);
    return keep;
  }, (ordinal, data) => {
    if (current?.ordinal === ordinal) current.bytes = data;
  });

  // Files the manifest names (bin without an extension, a main with an odd extension...) must be
  // complete: when one of them was truncated, read the archive a second time for just those.
  const wanted = new Map<number, KeptFile>();
  for (const name of manifestNamedFiles(kept.get('package.json')?.bytes)) {
    const file = kept.get(name);
    if (file?.truncated && !isNativeBinaryPath(name)) {
      if (file.size > limits.maxEntrySize) {
        throw limitError('maxEntrySize', limits.maxEntrySize, file.size, `${name} (named by package.json) is ${file.size} bytes`, name);
      }
      wanted.set(file.ordinal, file);
    }
  }
  if (wanted.size > 0) {
    await scan(bytes, limits, (header, ordinal) => (wanted.has(ordinal) ? (header.size ?? 0) : 0), (ordinal, data) => {
      const file = wanted.get(ordinal);
      if (file) {
        file.bytes = data;
        file.truncated = data.length < file.size;
      }
    });
  }

  if (omitted > 0) {
    findings.push({ ruleId: 'archive/findings-truncated', file: '', message: `${omitted} more archive findings were not recorded (maxFindings ${limits.maxFindings})` });
  }

  const files = new Map<string, Uint8Array>();
  const sizes = new Map<string, number>();
  const truncated = new Set<string>();
  for (const name of [...kept.keys()].sort()) {
    const file = kept.get(name);
    if (!file) continue;
    files.set(name, file.bytes);
    sizes.set(name, file.size);
    if (file.truncated) truncated.add(name);
  }
  return { ok: true, files, findings, sizes, truncated, unpackedBytes };
}

const EMPTY = Buffer.alloc(0);

/**
 * How many bytes of a `size`-byte file at package path `p` are kept (see the header comment): all of
 * them for JS-like files, package.json, extension-less files and small files, else `headBytes`.
 * Throws CAPGATE_ARCHIVE_LIMIT when a JS-like file or a package.json is larger than maxEntrySize.
 * Shared with the CLI's folder reader so that a folder and its tarball give the same files.
 */
export function bytesToKeep(p: string, size: number, limits: TarLimits): number {
  const mustKeep = isJsLikePath(p) || path.posix.basename(p) === 'package.json';
  const keepFull = mustKeep || path.posix.extname(p) === '' || size <= limits.fullKeepSize;
  if (keepFull && size > limits.maxEntrySize) {
    if (mustKeep) throw limitError('maxEntrySize', limits.maxEntrySize, size, `${p} is ${size} bytes`, p);
    return Math.min(size, limits.headBytes);
  }
  return keepFull ? size : Math.min(size, limits.headBytes);
}

function checkGzipMagic(bytes: Buffer): void {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return;
  let hint = '';
  if (bytes.length === 0) hint = ' (empty input)';
  else if (bytes.length >= 262 && bytes.subarray(257, 262).toString('latin1') === 'ustar') hint = ' (an uncompressed tar; npm tarballs are gzipped)';
  else if (bytes[0] === 0x50 && bytes[1] === 0x4b) hint = ' (looks like a zip archive)';
  else if (bytes[0] === 0x3c || bytes[0] === 0x7b) hint = ' (looks like an HTML or JSON document, not a tarball)';
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new AnalyzerError('CAPGATE_ARCHIVE_CORRUPT', `not gzip data: expected 1f 8b, found ${head || 'nothing'}${hint}`);
}

/** A CAPGATE_ARCHIVE_LIMIT error naming the TarLimits key. */
export function limitError(limit: keyof TarLimits, expected: number, found: number, what: string, file?: string): AnalyzerError {
  const details = file === undefined ? { limit, expected, found } : { limit, expected, found, file };
  return new AnalyzerError('CAPGATE_ARCHIVE_LIMIT', `archive exceeds limit ${limit} (${expected}): ${what}`, details);
}

function corrupt(message: string, cause?: unknown): AnalyzerError {
  return new AnalyzerError('CAPGATE_ARCHIVE_CORRUPT', message, {}, { cause });
}

/**
 * Streams gunzip -> tar-stream. For every entry, `decide` says how many bytes to keep (0: none) and
 * may throw an AnalyzerError to stop; `onData` then receives the kept bytes. Resolves with the
 * decompressed byte count. Enforces maxUnpackedSize and maxEntries.
 */
function scan(
  bytes: Buffer,
  limits: TarLimits,
  decide: (header: EntryHeader, ordinal: number) => number,
  onData: (ordinal: number, data: Buffer) => void,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let unpacked = 0;
    let ordinal = 0;
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    // allowUnknownFormat: old (pre-POSIX, "v7") tar headers without the ustar magic, which npm's
    // extractor accepts; the header checksum is still verified.
    const extractOptions: Parameters<typeof tar.extract>[0] & { allowUnknownFormat: boolean } = { allowUnknownFormat: true };
    const extract = tar.extract(extractOptions);

    const fail = (err: AnalyzerError): void => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      extract.destroy(null);
      reject(err);
    };

    gunzip.on('error', (e: Error) => fail(corrupt(`corrupt or truncated gzip data: ${e.message}`, e)));
    extract.on('error', (e: unknown) => {
      if (isAnalyzerError(e)) return fail(e);
      const message = e instanceof Error ? e.message : String(e);
      fail(corrupt(/Unexpected end/i.test(message) ? `truncated tar archive: ${message}` : `corrupt tar archive: ${message}`, e));
    });
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      unpacked += chunk.length;
      if (unpacked > limits.maxUnpackedSize) {
        fail(limitError('maxUnpackedSize', limits.maxUnpackedSize, unpacked, `more than ${limits.maxUnpackedSize} bytes once decompressed (gzip bomb?)`));
        return;
      }
      if (!extract.write(chunk)) gunzip.pause();
    });
    extract.on('drain', () => {
      if (!settled) gunzip.resume();
    });
    gunzip.on('end', () => {
      if (!settled) extract.end(null);
    });
    extract.on('finish', () => {
      if (settled) return;
      settled = true;
      resolve(unpacked);
    });

    extract.on('entry', (header, stream, next) => {
      if (settled) return;
      const index = ordinal++;
      if (ordinal > limits.maxEntries) {
        fail(limitError('maxEntries', limits.maxEntries, ordinal, `more than ${limits.maxEntries} entries`));
        return;
      }
      let keep: number;
      try {
        keep = decide(header as EntryHeader, index);
      } catch (e) {
        fail(isAnalyzerError(e) ? e : new AnalyzerError('CAPGATE_ANALYSIS_FAILED', `unpacking failed: ${String(e)}`, {}, { cause: e }));
        return;
      }
      const chunks: Buffer[] = [];
      let got = 0;
      stream.on('data', (data: unknown) => {
        if (got >= keep || !(data instanceof Uint8Array)) return;
        const chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        const part = chunk.length <= keep - got ? chunk : chunk.subarray(0, keep - got);
        chunks.push(part);
        got += part.length;
      });
      stream.on('end', () => {
        if (settled) return;
        // Copy, so that a kept head does not pin the whole decompressed chunk it came from.
        if (keep > 0) onData(index, Buffer.concat(chunks, got));
        next();
      });
      stream.on('error', (e: unknown) => {
        fail(corrupt(`corrupt tar entry ${JSON.stringify(header.name)}: ${e instanceof Error ? e.message : String(e)}`, e));
      });
    });

    gunzip.end(bytes);
  });
}

/** tar-stream's header as it really is: `type` is null for type flags it does not know. */
type EntryHeader = Omit<tar.Header, 'type' | 'linkname'> & { readonly type: tar.Header['type'] | null; readonly linkname: string | null };

type NormalizedPath =
  | {
      readonly kind: 'ok';
      readonly path: string;
      readonly depth: number;
      readonly notes: readonly { readonly ruleId: string; readonly message: string }[];
    }
  | { readonly kind: 'skip'; readonly ruleId: string; readonly message: string };

/**
 * Maps a tar entry name to the package-relative path npm would install it at (`strip: 1`), or says
 * why it is skipped. Exported for tests and for the CLI's directory reader.
 */
export function normalizeEntryPath(raw: string): NormalizedPath {
  const notes: { ruleId: string; message: string }[] = [];
  if (raw.includes('\0')) return { kind: 'skip', ruleId: 'archive/invalid-name', message: 'skipped: entry name contains a NUL byte' };
  const slashed = raw.replace(/\\/g, '/');
  if (/^(?:[A-Za-z]:|\/)/.test(slashed)) {
    notes.push({ ruleId: 'archive/path-traversal', message: 'absolute path: kept at the path npm would write inside the package (root and first folder stripped)' });
  }
  const segments = slashed.split('/');
  const first = segments.shift() ?? '';
  if (first === '..') {
    notes.push({ ruleId: 'archive/path-traversal', message: "'..' as the stripped first folder: kept at the path npm would write inside the package" });
  }
  const rest = segments.filter((s) => s !== '' && s !== '.' && !/^[A-Za-z]:$/.test(s));
  if (rest.includes('..')) {
    return { kind: 'skip', ruleId: 'archive/path-traversal', message: "skipped: path contains '..' (it would escape the package folder)" };
  }
  if (rest.length === 0) {
    return { kind: 'skip', ruleId: 'archive/invalid-name', message: 'skipped: file is not inside a folder (npm strips the first path segment, so it is never installed)' };
  }
  const p = rest.join('/');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\ufffd]/.test(p)) {
    notes.push({ ruleId: 'archive/invalid-name', message: 'entry name contains control characters or undecodable bytes: kept' });
  }
  return { kind: 'ok', path: p, depth: rest.length, notes };
}

/**
 * Package-relative paths the root package.json names (main, module, browser, bin, exports, install
 * scripts): these are code, whatever their extension, so their bytes are kept in full.
 */
export function manifestNamedFiles(manifestBytes: Uint8Array | undefined): Set<string> {
  const out = new Set<string>();
  if (!manifestBytes || manifestBytes.length === 0) return out;
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return out;
  }
  if (typeof manifest !== 'object' || manifest === null) return out;
  const m = manifest as Record<string, unknown>;
  const add = (value: unknown): void => {
    if (typeof value !== 'string' || value.includes('*')) return;
    const n = path.posix.normalize(value.replace(/\\/g, '/')).replace(/^(?:\.\/|\/)+/, '');
    if (n === '' || n === '.' || n.startsWith('../')) return;
    out.add(n);
    // require() resolution of an extension-less main: `lib/cli` -> lib/cli, lib/cli.js, lib/cli/index.js.
    out.add(n + '.js');
    out.add(n + '/index.js');
  };
  const walk = (value: unknown, depth: number): void => {
    if (depth > 32) return;
    if (typeof value === 'string') add(value);
    else if (Array.isArray(value)) for (const v of value) walk(v, depth + 1);
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith('.') && !k.includes('*')) add(k);
        walk(v, depth + 1);
      }
    }
  };
  add(m['main']);
  add(m['module']);
  walk(m['bin'], 0);
  walk(m['browser'], 0);
  walk(m['exports'], 0);
  const scripts = m['scripts'];
  if (typeof scripts === 'object' && scripts !== null) {
    for (const key of ['preinstall', 'install', 'postinstall', 'prepare']) {
      const cmd = (scripts as Record<string, unknown>)[key];
      if (typeof cmd !== 'string') continue;
      for (const token of cmd.split(/[\s;&|()"'`<>]+/)) if (/[./]/.test(token) && !token.startsWith('-')) add(token);
    }
  }
  return out;
}
