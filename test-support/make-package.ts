// Builds npm-style package tarballs in memory for tests and benchmarks (fixtures from code, no binaries).
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import * as tar from 'tar-stream';

/** A file's content: a string, bytes, a JSON-able object (for package.json) or a function whose body becomes the file. */
export type FileContent = string | Uint8Array | Record<string, unknown> | ((...args: never[]) => unknown);

/** Fixed mtime so that the same files always give the same bytes (and the same sha512). */
const FIXED_MTIME = new Date('1985-10-26T08:15:00Z');

/** Turns a function fixture into source: the body of the function, so tests can write real code. */
export function functionBody(fn: (...args: never[]) => unknown): string {
  const src = fn.toString();
  const arrow = /^\s*(?:async\s*)?\(?[^)]*\)?\s*=>\s*/.exec(src);
  if (arrow && !src.startsWith('function')) {
    const rest = src.slice(arrow[0].length);
    if (rest.startsWith('{')) return rest.slice(1, rest.lastIndexOf('}')).trim() + '\n';
    return rest.trim() + ';\n';
  }
  return src.slice(src.indexOf('{') + 1, src.lastIndexOf('}')).trim() + '\n';
}

export function toBytes(content: FileContent): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof Uint8Array) return Buffer.from(content);
  if (typeof content === 'function') return Buffer.from(functionBody(content), 'utf8');
  return Buffer.from(JSON.stringify(content, null, 2) + '\n', 'utf8');
}

/**
 * makeTarball({ 'package.json': {...}, 'index.js': () => { ... } }) -> gzipped tar with entries under
 * `package/`, sorted, fixed mtime, so the result is byte-for-byte stable.
 */
export async function makeTarball(files: Readonly<Record<string, FileContent>>, opts: { prefix?: string } = {}): Promise<Buffer> {
  const prefix = opts.prefix ?? 'package/';
  const pack = tar.pack();
  const gzip = createGzip({ level: 6 });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    gzip.on('data', (c: Buffer) => chunks.push(c));
    gzip.on('end', () => resolve(Buffer.concat(chunks)));
    gzip.on('error', reject);
    pack.on('error', reject);
  });
  pack.pipe(gzip);
  for (const name of Object.keys(files).sort()) {
    const content = files[name];
    if (content === undefined) continue;
    const body = toBytes(content);
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name: prefix + name, size: body.length, mtime: FIXED_MTIME, mode: 0o644 }, body, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  return done;
}

/** The dist.integrity npm would compute for these bytes. */
export function integrityOf(bytes: Uint8Array): string {
  return 'sha512-' + createHash('sha512').update(bytes).digest('base64');
}

/** Shorthand: a package.json plus files. */
export function makePackage(
  manifest: { name: string; version: string } & Record<string, unknown>,
  files: Readonly<Record<string, FileContent>> = {},
): Promise<Buffer> {
  return makeTarball({ 'package.json': manifest, ...files });
}
