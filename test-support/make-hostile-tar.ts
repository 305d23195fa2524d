// Builds hostile tar archives from raw 512-byte headers, for regression tests (node-tar's
// test/fixtures/make-tar idea): traversal, absolute paths, links, devices, duplicates, oversized
// entries, gzip bombs, truncated and non-gzip data. Nothing here is committed as a binary.
import { gzipSync } from 'node:zlib';

/** Tar type flags (POSIX ustar + GNU). */
export const TYPE = {
  file: '0',
  hardLink: '1',
  symlink: '2',
  charDevice: '3',
  blockDevice: '4',
  directory: '5',
  fifo: '6',
  contiguous: '7',
  paxHeader: 'x',
  gnuLongName: 'L',
  gnuSparse: 'S',
} as const;

export interface RawEntry {
  /** Entry name as written in the header (no `package/` prefix is added). */
  readonly name: string;
  /** Body; its length is the header size unless `size` says otherwise. */
  readonly body?: string | Uint8Array;
  /** Size written in the header (to lie about the body length). */
  readonly size?: number;
  readonly type?: string;
  readonly linkname?: string;
  /** Header format: POSIX ustar (default), GNU, or old v7 (no magic). */
  readonly format?: 'ustar' | 'gnu' | 'v7';
  /** Write a wrong checksum. */
  readonly badChecksum?: boolean;
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  writeString(block, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

/** One 512-byte header block. Names longer than 100 bytes are cut (use `gnuLongName` entries to go beyond). */
export function rawHeader(entry: RawEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  writeString(block, 0, 100, entry.name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 499162500); // 1985-10-26, fixed for stable bytes
  block.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  writeString(block, 156, 1, entry.type ?? TYPE.file);
  if (entry.linkname !== undefined) writeString(block, 157, 100, entry.linkname);
  const format = entry.format ?? 'ustar';
  if (format === 'ustar') {
    writeString(block, 257, 6, 'ustar\0');
    writeString(block, 263, 2, '00');
  } else if (format === 'gnu') {
    writeString(block, 257, 6, 'ustar ');
    writeString(block, 263, 2, ' \0');
  }
  let sum = 0;
  for (const b of block) sum += b;
  if (entry.badChecksum) sum += 1;
  writeString(block, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return block;
}

function pad(n: number): Buffer {
  const rest = n % 512;
  return Buffer.alloc(rest === 0 ? 0 : 512 - rest);
}

/** An uncompressed tar: headers + bodies + padding (+ the two zero blocks unless `eof: false`). */
export function rawTar(entries: readonly RawEntry[], opts: { eof?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
    if (entry.type === TYPE.gnuLongName || entry.name.length <= 100) {
      parts.push(rawHeader(entry, entry.size ?? body.length), body, pad(body.length));
    } else {
      // GNU long name: an 'L' entry whose body is the name, then the real header.
      const longName = Buffer.from(entry.name + '\0', 'utf8');
      parts.push(rawHeader({ name: '././@LongLink', type: TYPE.gnuLongName, format: 'gnu' }, longName.length), longName, pad(longName.length));
      parts.push(rawHeader({ ...entry, name: entry.name.slice(0, 100) }, entry.size ?? body.length), body, pad(body.length));
    }
  }
  if (opts.eof !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A gzipped raw tar. */
export function rawTgz(entries: readonly RawEntry[], opts: { eof?: boolean } = {}): Buffer {
  return gzipSync(rawTar(entries, opts));
}

const MANIFEST = JSON.stringify({ name: 'hostile', version: '1.0.0', main: 'index.js' });

/** package.json + index.js under `package/`, then the hostile entries. */
export function hostileTgz(extra: readonly RawEntry[], opts: { eof?: boolean } = {}): Buffer {
  return rawTgz(
    [{ name: 'package/package.json', body: MANIFEST }, { name: 'package/index.js', body: 'module.exports = 1;\n' }, ...extra],
    opts,
  );
}

/**
 * A gzip bomb: a valid gzip stream (multi-member, which gunzip accepts) whose first member is a tar
 * header announcing a `size`-byte file, followed by members of compressed zeros, `unpackedMiB` in
 * all. ~1 KB per MiB on disk.
 */
export function gzipBomb(unpackedMiB: number): Buffer {
  const header = rawTar([{ name: 'package/package.json', body: MANIFEST }], { eof: false });
  // A data file (not JS), so that only the unpacked-size limit can stop it.
  const big = rawHeader({ name: 'package/big.dat' }, unpackedMiB * 1024 * 1024);
  const zeros = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  const members: Buffer[] = [gzipSync(Buffer.concat([header, big]))];
  for (let i = 0; i < unpackedMiB; i++) members.push(zeros);
  return Buffer.concat(members);
}

/** Named hostile archives, one per bad-input case (regression tests iterate over these). */
export const hostile = {
  traversal: (): Buffer => hostileTgz([{ name: 'package/../../evil.js', body: 'require("child_process")' }]),
  absolute: (): Buffer => hostileTgz([{ name: '/etc/cron.d/evil', body: '* * * * * root sh' }]),
  symlink: (): Buffer => hostileTgz([{ name: 'package/link.js', type: TYPE.symlink, linkname: '/home/user/.npmrc' }]),
  hardLink: (): Buffer => hostileTgz([{ name: 'package/hard.js', type: TYPE.hardLink, linkname: 'package/index.js' }]),
  device: (): Buffer => hostileTgz([{ name: 'package/dev', type: TYPE.charDevice }]),
  fifo: (): Buffer => hostileTgz([{ name: 'package/pipe', type: TYPE.fifo }]),
  duplicate: (): Buffer => hostileTgz([{ name: 'package/index.js', body: 'require("child_process").exec("id");\n' }]),
  oversized: (bytes: number): Buffer => hostileTgz([{ name: 'package/huge.js', body: Buffer.alloc(bytes, 0x20) }]),
  truncated: (): Buffer => {
    const whole = hostileTgz([{ name: 'package/lib.js', body: 'x'.repeat(20_000) }]);
    return whole.subarray(0, Math.floor(whole.length / 2));
  },
  truncatedTar: (): Buffer => {
    // A complete gzip stream around an incomplete tar: a header announcing 10 000 bytes, 100 given.
    const tarBytes = rawTar([{ name: 'package/package.json', body: MANIFEST }, { name: 'package/cut.js', body: 'x'.repeat(100), size: 10_000 }], { eof: false });
    return gzipSync(tarBytes);
  },
  badChecksum: (): Buffer => rawTgz([{ name: 'package/package.json', body: MANIFEST, badChecksum: true }]),
  notGzip: (): Buffer => Buffer.from('<!doctype html><title>404</title>'),
  plainTar: (): Buffer => rawTar([{ name: 'package/package.json', body: MANIFEST }]),
  empty: (): Buffer => Buffer.alloc(0),
  gzipBomb: (unpackedMiB = 600): Buffer => gzipBomb(unpackedMiB),
  outsideFolder: (): Buffer => hostileTgz([{ name: 'toplevel.js', body: 'x' }]),
  deepPath: (depth: number): Buffer => hostileTgz([{ name: 'package/' + 'd/'.repeat(depth) + 'x.js', body: 'x' }]),
};
