// Owns the metadata side of the gate: hiding held and denied versions from a packument and
// repointing dist-tags, so that resolvers (npm, pnpm, yarn) fall back to the last allowed version.
import semver from 'semver';

/** The packument fields this module reads or rewrites; everything else passes through untouched. */
export interface PackumentLike {
  readonly name?: string;
  readonly versions?: Readonly<Record<string, unknown>>;
  readonly 'dist-tags'?: Readonly<Record<string, unknown>>;
  readonly time?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export interface FilterResult<T extends PackumentLike> {
  /** The same object when nothing was hidden (so it serialises byte-for-byte as before). */
  readonly packument: T;
  readonly hidden: readonly string[];
  /** tag -> [from, to|null]; null means the tag was removed (no allowed version to point to). */
  readonly retagged: Readonly<Record<string, readonly [string, string | null]>>;
}

/**
 * Removes `hide` versions from `versions` and `time`, and repoints every dist-tag that named one of
 * them to the newest remaining version below it of the same kind (a release tag to a release, a
 * prerelease tag to the nearest lower version). Returns the input object itself when nothing is hidden.
 */
export function hideVersions<T extends PackumentLike>(packument: T, hide: ReadonlySet<string>): FilterResult<T> {
  const versions = packument.versions ?? {};
  const hidden = Object.keys(versions).filter((v) => hide.has(v));
  if (hidden.length === 0) return { packument, hidden: [], retagged: {} };

  const keptVersions: Record<string, unknown> = {};
  for (const [v, manifest] of Object.entries(versions)) if (!hide.has(v)) keptVersions[v] = manifest;

  const visible = Object.keys(keptVersions)
    .filter((v) => semver.valid(v) !== null)
    .sort(semver.rcompare);

  const tags: Record<string, unknown> = { ...(packument['dist-tags'] ?? {}) };
  const retagged: Record<string, readonly [string, string | null]> = {};
  for (const [tag, target] of Object.entries(tags)) {
    if (typeof target !== 'string' || !hide.has(target)) continue;
    const replacement = newestBelow(visible, target);
    if (replacement === null) delete tags[tag];
    else tags[tag] = replacement;
    retagged[tag] = [target, replacement];
  }

  const out: Record<string, unknown> = { ...packument, versions: keptVersions, 'dist-tags': tags };
  if (packument.time) {
    const time: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(packument.time)) if (!hide.has(k)) time[k] = t;
    out['time'] = time;
  }
  return { packument: out as T, hidden: hidden.sort(semver.compare), retagged };
}

/** Newest visible version lower than `target`; a release target only falls back to releases. */
function newestBelow(visibleDesc: readonly string[], target: string): string | null {
  const wantRelease = semver.prerelease(target) === null;
  for (const v of visibleDesc) {
    if (!semver.lt(v, target)) continue;
    if (wantRelease && semver.prerelease(v) !== null) continue;
    return v;
  }
  return null;
}
