// Owns the gate's view of Verdaccio's storage without capgate's own metadata filter. Verdaccio 6.8
// applies filter plugins inside storage.getPackage (lib/storage.js _syncUplinksMetadata ->
// _applyFilters) and before every storage.getTarball (_isTarballAllowedByFilters, which re-reads
// the cached packument from disk and runs the filters). The gate must see hidden versions (to refuse
// a lockfile's hidden version with its own reason, not a 404) and read past the filter check.
//
// No AsyncLocalStorage: on Node 20 it turns on a promise hook for the whole process, a cost every
// request of the registry would pay. Instead a filtered packument carries the packument it was made
// from under a non-enumerable symbol (never serialised, kept by Verdaccio's in-place clean-up), and
// the per-tarball check is skipped while the gate's own getTarball call runs (Verdaccio calls it
// synchronously from getTarball).
import type { RegistrySource } from '../gate';

const UNFILTERED = Symbol.for('capgate.unfilteredPackument');

/** Marks `filtered` as made from `original` (non-enumerable: JSON and spreads never see it). */
export function markFiltered<T extends object>(filtered: T, original: object): T {
  Object.defineProperty(filtered, UNFILTERED, { value: original, enumerable: false, configurable: true });
  return filtered;
}

/** The packument a filtered packument was made from, else the packument itself. */
export function unfilteredOf(packument: unknown): unknown {
  if (typeof packument !== 'object' || packument === null) return packument;
  const original = (packument as { [UNFILTERED]?: unknown })[UNFILTERED];
  return original === undefined ? packument : original;
}

let gateReads = 0;
/** name -> the gate's packument reads in progress (their filter pass starts no background analysis). */
const gatePackumentReads = new Map<string, number>();

/**
 * True while the gate itself reads `name`'s packument: background analysis is for what clients
 * resolve, not for every package whose tarball the gate checks (a lockfile install would otherwise
 * queue the newest versions of its whole tree). Best effort: a client request for the same name at
 * that moment starts none either.
 */
export function isGatePackumentRead(name: string): boolean {
  return (gatePackumentReads.get(name) ?? 0) > 0;
}

/** True while the gate's own tarball read is being set up (synchronously). */
export function isGateRead(): boolean {
  return gateReads > 0;
}

/** The same registry source, seeing hidden versions and reading past Verdaccio's filter check. */
export function unfilteredSource(source: RegistrySource): RegistrySource {
  return {
    getPackument: async (name, ctx) => {
      gatePackumentReads.set(name, (gatePackumentReads.get(name) ?? 0) + 1);
      try {
        return unfilteredOf(await source.getPackument(name, ctx));
      } finally {
        const n = (gatePackumentReads.get(name) ?? 1) - 1;
        if (n <= 0) gatePackumentReads.delete(name);
        else gatePackumentReads.set(name, n);
      }
    },
    readTarball: (name, filename, maxBytes) => {
      gateReads++;
      try {
        return source.readTarball(name, filename, maxBytes);
      } finally {
        gateReads--;
      }
    },
  };
}

/** The part of Verdaccio 6.8's Storage this module patches (lib/storage.js). */
export interface FilterCheckingStorage {
  _isTarballAllowedByFilters?: (name: string, filename: string) => Promise<boolean>;
}

const PATCHED = Symbol.for('capgate.gateSkipsTarballFilterCheck');

/**
 * Makes Verdaccio's per-tarball filter check free for the gate's own reads: the gate decides every
 * tarball itself, so the cached packument is not read from disk and filtered again for each one.
 * Other callers get Verdaccio's check unchanged. A storage without the method is left alone.
 */
export function skipFilterCheckForGate(storage: object): void {
  const s = storage as FilterCheckingStorage & { [PATCHED]?: true };
  const original = s._isTarballAllowedByFilters;
  if (typeof original !== 'function' || s[PATCHED] === true) return;
  s._isTarballAllowedByFilters = function (this: unknown, name: string, filename: string): Promise<boolean> {
    if (isGateRead()) return Promise.resolve(true);
    return original.call(storage, name, filename);
  };
  s[PATCHED] = true;
}
