// Owns which files of a package can run: the entry points package.json names (main, exports under
// every condition, browser, module, bin, imports, install-script files, index.js by default) and the
// static require/import edges between files. A dynamic require in a reachable file, or a package with
// no resolvable entry point, makes every file reachable.
import { posix } from 'node:path';

export interface ReachabilityInput {
  readonly manifest: Readonly<Record<string, unknown>> | undefined;
  readonly files: ReadonlySet<string>;
  /** Specifiers each scanned file loads. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
  /** Scanned files that load something dynamically. */
  readonly dynamic: ReadonlySet<string>;
  readonly installScripts: Readonly<Record<string, string>>;
}

const EXTENSIONS = ['', '.js', '.cjs', '.mjs', '.json', '.node', '.jsx', '.ts', '.cts', '.mts', '.wasm'];
const INDEXES = ['/index.js', '/index.cjs', '/index.mjs', '/index.json', '/index.node', '/index.jsx'];

function clean(p: string): string | undefined {
  const n = posix.normalize(p.replace(/\\/g, '/'));
  if (n.startsWith('../') || n === '..') return undefined;
  return n.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/$/, '');
}

/** Resolves a package-relative path the way Node does for a relative require (files, then index files, then a folder's package.json main). */
export function resolveFile(files: ReadonlySet<string>, rel: string): string | undefined {
  const base = clean(rel);
  if (base === undefined) return undefined;
  for (const ext of EXTENSIONS) {
    const c = base + ext;
    if (c !== '' && files.has(c)) return c;
  }
  for (const idx of INDEXES) {
    const c = base === '' || base === '.' ? idx.slice(1) : base + idx;
    if (files.has(c)) return c;
  }
  return undefined;
}

function collectStrings(value: unknown, out: string[], depth = 0): void {
  if (depth > 20) return;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // An `exports` or `browser` key that is itself a path (`"./lib/x.js": false`) also names a file.
      if (k.startsWith('./')) out.push(k);
      collectStrings(v, out, depth + 1);
    }
  }
}

/** Expands an exports pattern (`./lib/*.js`) against the file list. */
function expandPattern(files: ReadonlySet<string>, pattern: string): string[] {
  const p = clean(pattern);
  if (p === undefined) return [];
  const star = p.indexOf('*');
  const prefix = p.slice(0, star);
  const suffix = p.slice(star + 1).replace(/\*/g, '');
  const out: string[] = [];
  for (const f of files) if (f.startsWith(prefix) && f.endsWith(suffix)) out.push(f);
  return out;
}

/** Entry points named by the manifest and install scripts. */
export function entryPoints(input: Pick<ReachabilityInput, 'manifest' | 'files' | 'installScripts'>): string[] {
  const { manifest, files } = input;
  const names: string[] = [];
  if (manifest !== undefined) {
    for (const field of ['main', 'module', 'browser', 'react-native', 'unpkg', 'jsdelivr', 'jsnext:main', 'es2015', 'esnext', 'exports', 'imports', 'bin', 'directories']) {
      const v = manifest[field];
      if (field === 'directories') {
        const bin = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['bin'] : undefined;
        if (typeof bin === 'string') {
          const dir = clean(bin);
          if (dir !== undefined) for (const f of files) if (f.startsWith(dir + '/')) names.push(f);
        }
        continue;
      }
      collectStrings(v, names);
    }
  }
  if (manifest === undefined || typeof manifest['main'] !== 'string') names.push('index.js');
  for (const cmd of Object.values(input.installScripts)) {
    for (const token of cmd.split(/[\s;&|()<>]+/)) {
      const t = token.replace(/^['"]|['"]$/g, '');
      if (t !== '' && !t.startsWith('-')) names.push(t);
    }
  }
  const out = new Set<string>();
  for (const n of names) {
    if (n.includes('*')) {
      for (const f of expandPattern(files, n)) out.add(f);
      continue;
    }
    const r = resolveFile(files, n);
    if (r !== undefined) out.add(r);
  }
  return [...out].sort();
}

/**
 * The set of reachable files, or 'all' when reachability cannot be bounded (a dynamic require in a
 * reachable file, or no entry point at all).
 */
export function reachableFiles(input: ReachabilityInput): ReadonlySet<string> | 'all' {
  const entries = entryPoints(input);
  if (entries.length === 0) return 'all';
  const name = typeof input.manifest?.['name'] === 'string' ? input.manifest['name'] : undefined;
  const seen = new Set<string>(entries);
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (input.dynamic.has(file)) return 'all';
    const dir = posix.dirname(file);
    for (const spec of input.edges.get(file) ?? []) {
      let targets: string[] = [];
      if (spec.startsWith('./') || spec.startsWith('../')) {
        const r = resolveFile(input.files, posix.join(dir, spec)) ?? resolveFile(input.files, spec);
        if (r !== undefined) targets = [r];
      } else if (spec.startsWith('/')) {
        continue;
      } else if (name !== undefined && (spec === name || spec.startsWith(name + '/'))) {
        const rest = spec.slice(name.length + 1);
        const r = rest === '' ? undefined : resolveFile(input.files, rest);
        targets = r !== undefined ? [r] : entries;
      } else if (/\.(?:c|m)?js$/.test(spec) && !spec.includes(':')) {
        // Path-like literal without ./ (`'lib/worker.js'`): relative to the file, then to the root.
        const r = resolveFile(input.files, posix.join(dir, spec)) ?? resolveFile(input.files, spec);
        if (r !== undefined) targets = [r];
      }
      for (const t of targets) {
        if (!seen.has(t)) {
          seen.add(t);
          queue.push(t);
        }
      }
    }
  }
  return seen;
}
