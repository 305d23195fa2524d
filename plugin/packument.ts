// Owns reading a packument (as Verdaccio's storage returns it) defensively: which version a
// tarball file belongs to and what integrity the registry recorded for it. Never parses the file
// name for a version: a file name is only matched against each version's dist.tarball.
import semver from 'semver';

/** What the gate needs of one version's packument entry. */
export interface VersionEntry {
  readonly version: string;
  /** The tarball URL as recorded in the packument. */
  readonly tarball: string;
  /** The file name part of `tarball`, percent-decoded (what Verdaccio keys its distfiles by). */
  readonly filename: string;
  readonly integrity: string | null;
  readonly shasum: string | null;
}

/** A packument reduced to what the gate reads. Unknown shapes become empty, never a throw. */
export interface PackumentView {
  readonly name: string;
  readonly versions: ReadonlyMap<string, VersionEntry>;
}

export function viewPackument(raw: unknown): PackumentView {
  const rec = isRecord(raw) ? raw : {};
  const name = typeof rec['name'] === 'string' ? rec['name'] : '';
  const versions = new Map<string, VersionEntry>();
  const vs = isRecord(rec['versions']) ? rec['versions'] : {};
  for (const [key, entry] of Object.entries(vs)) {
    if (!isRecord(entry)) continue;
    const dist = isRecord(entry['dist']) ? entry['dist'] : {};
    const tarball = typeof dist['tarball'] === 'string' ? dist['tarball'] : '';
    versions.set(key, {
      version: key,
      tarball,
      filename: tarballFilename(tarball),
      integrity: typeof dist['integrity'] === 'string' ? dist['integrity'] : null,
      shasum: typeof dist['shasum'] === 'string' ? dist['shasum'] : null,
    });
  }
  return { name, versions };
}

/** The last path segment of a tarball URL, percent-decoded; '' when there is none. */
export function tarballFilename(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    const cut = url.search(/[?#]/);
    if (cut !== -1) path = url.slice(0, cut);
  }
  const last = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** Every version whose dist.tarball names this file (normally exactly one). */
export function versionsForFile(view: PackumentView, filename: string): VersionEntry[] {
  return [...view.versions.values()].filter((v) => v.filename !== '' && v.filename === filename);
}

/**
 * Candidate baselines for `version`, nearest first (DESIGN.md "Baseline and decision"): lower
 * releases by semver precedence; for a prerelease also lower prereleases of the same
 * major.minor.patch line. Invalid version strings are ignored.
 */
export function baselineCandidates(view: PackumentView, version: string): VersionEntry[] {
  const target = semver.parse(version);
  if (target === null) return [];
  const targetIsPre = target.prerelease.length > 0;
  const out: { v: semver.SemVer; e: VersionEntry }[] = [];
  for (const entry of view.versions.values()) {
    const v = semver.parse(entry.version);
    if (v === null || semver.compare(v, target) >= 0) continue;
    if (v.prerelease.length > 0) {
      if (!targetIsPre) continue;
      if (v.major !== target.major || v.minor !== target.minor || v.patch !== target.patch) continue;
    }
    out.push({ v, e: entry });
  }
  out.sort((a, b) => semver.rcompare(a.v, b.v));
  return out.map((x) => x.e);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
