// Owns the gate's view of Verdaccio's storage without capgate's own metadata filter. Verdaccio 6.8
// applies filter plugins inside storage.getPackage (lib/storage.js _syncUplinksMetadata ->
// _applyFilters) and before every storage.getTarball (_isTarballAllowedByFilters, which re-reads
// the cached packument from disk and runs the filters). The gate must see hidden versions (to refuse
// a lockfile's hidden version with its own reason, not a 404) and read their bytes, so its calls run
// inside an AsyncLocalStorage context that capgate's filter_metadata recognises and passes through.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RegistrySource } from '../gate';

const bypass = new AsyncLocalStorage<true>();

/** Runs `fn` (and everything it starts asynchronously) with capgate's metadata filter switched off. */
export function unfiltered<T>(fn: () => T): T {
  return bypass.run(true, fn);
}

/** True inside `unfiltered`: the caller is the gate, which must see every version. */
export function isUnfiltered(): boolean {
  return bypass.getStore() === true;
}

/** The same registry source with every call made inside `unfiltered`. */
export function unfilteredSource(source: RegistrySource): RegistrySource {
  return {
    getPackument: (name, ctx) => unfiltered(() => source.getPackument(name, ctx)),
    readTarball: (name, filename, maxBytes) => unfiltered(() => source.readTarball(name, filename, maxBytes)),
  };
}

/** The part of Verdaccio 6.8's Storage this module patches (lib/storage.js). */
export interface FilterCheckingStorage {
  _isTarballAllowedByFilters?: (name: string, filename: string) => Promise<boolean>;
}

const PATCHED = Symbol.for('capgate.unfilteredTarballCheck');

/**
 * Makes Verdaccio's per-tarball filter check free for the gate's own reads: inside `unfiltered` the
 * answer is always "allowed" (capgate's filter would pass everything through anyway), so the cached
 * packument is not read from disk and parsed again for every tarball the gate serves. Other callers
 * get Verdaccio's check unchanged. A storage without the method (another Verdaccio) is left alone.
 */
export function skipFilterCheckForGate(storage: object): void {
  const s = storage as FilterCheckingStorage & { [PATCHED]?: true };
  const original = s._isTarballAllowedByFilters;
  if (typeof original !== 'function' || s[PATCHED] === true) return;
  s._isTarballAllowedByFilters = function (this: unknown, name: string, filename: string): Promise<boolean> {
    if (isUnfiltered()) return Promise.resolve(true);
    return original.call(storage, name, filename);
  };
  s[PATCHED] = true;
}
