// Owns "which dependencies did this update add or re-point, and which version would npm install":
// the input of transitive capability inheritance (a new dependency's capabilities count as the parent's).
import npa from 'npm-package-arg';
import pickManifest from 'npm-pick-manifest';
import type { PackagePolicy } from '../../analyzer/types';

export interface DependencyChange {
  /** The name npm installs under (the key in package.json). */
  readonly alias: string;
  /** The registry package actually fetched (differs from alias for `npm:` aliases). */
  readonly name: string;
  /** The range to resolve against `name`'s packument. */
  readonly range: string;
  /** null when the dependency is new; else the range the baseline asked for. */
  readonly previousRange: string | null;
}

/**
 * Registry dependencies of `next` that are new or whose range changed since `baseline`.
 * Git, URL, file and tarball specifiers are skipped here: they are `url-dependency` findings already.
 */
export function changedDependencies(baseline: PackagePolicy | null, next: PackagePolicy): DependencyChange[] {
  const before = baseline?.dependencies ?? {};
  const out: DependencyChange[] = [];
  for (const alias of Object.keys(next.dependencies).sort()) {
    const spec = next.dependencies[alias] ?? '';
    const previous = Object.prototype.hasOwnProperty.call(before, alias) ? (before[alias] ?? '') : null;
    if (previous === spec) continue;
    const target = registryTarget(alias, spec);
    if (target === null) continue;
    out.push({ alias, name: target.name, range: target.range, previousRange: previous });
  }
  return out;
}

function registryTarget(alias: string, spec: string): { name: string; range: string } | null {
  let parsed: npa.Result;
  try {
    parsed = npa.resolve(alias, spec === '' ? '*' : spec);
  } catch {
    return null;
  }
  if (parsed.type === 'alias') {
    const sub = (parsed as npa.AliasResult).subSpec;
    if (!sub.name || !['range', 'version', 'tag'].includes(sub.type)) return null;
    return { name: sub.name, range: sub.fetchSpec ?? '*' };
  }
  if (!parsed.name || !['range', 'version', 'tag'].includes(parsed.type)) return null;
  return { name: parsed.name, range: parsed.fetchSpec ?? '*' };
}

/**
 * The version npm would install for `range` from `packument` (npm's own picker: the `latest` tag
 * when it satisfies, else the highest satisfying non-deprecated version), or null when none does.
 */
export function pickVersion(packument: unknown, range: string): string | null {
  try {
    return pickManifest(packument, range).version;
  } catch {
    return null;
  }
}
