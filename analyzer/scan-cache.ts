// Owns the per-process cache of file scans keyed by content hash: consecutive versions of a package
// share most files byte for byte, so the baseline's analysis pays for most of the next version's.
// A scan depends only on the bytes (file names are re-attached), so cached and fresh results are equal.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { FileScan } from './scan';

/** Bytes of cached scan results kept per process (results are small: hits, edges, findings). */
const MAX_CACHE_BYTES = 32 * 1024 * 1024;

const cache = new LRUCache<string, FileScan>({
  maxSize: MAX_CACHE_BYTES,
  sizeCalculation: (scan) => 64 + scan.hits.reduce((n, h) => n + 48 + h.api.length + h.snippet.length, 0) + scan.edges.reduce((n, e) => n + 16 + e.length, 0) + scan.findings.length * 128,
});

export function contentKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

export function getCachedScan(key: string): FileScan | undefined {
  return cache.get(key);
}

export function setCachedScan(key: string, scan: FileScan): void {
  cache.set(key, scan);
}

/** Empties the cache (tests and benchmarks that want cold figures). */
export function clearScanCache(): void {
  cache.clear();
}
