// Owns transitive capability inheritance (issue 5): the dependencies a version adds (or re-ranges)
// are resolved the way npm would, their policies found through the gate's verified path, and the
// result handed to diffPolicies as `dependencyPolicies` so the parent gains what its new
// dependencies can do, with evidence naming the dependency (`via`), file and line.
//
// Choices (documented in plugin/README.md):
// - A new dependency counts with its own capabilities plus, down to `depth`, those of its own
//   registry dependencies (their evidence files are named `node_modules/<dep>/<file>`, where npm
//   would install them under it). Each name@version is counted once per decision (cycles end there).
// - A changed range counts only when it now resolves to another version, and then only with the
//   capabilities the new resolution has beyond the previously resolved one (diffPolicies also
//   subtracts the baseline's own). When either resolution's policy is unknown it is not counted:
//   the dependency's own update is gated on its own tarball anyway.
// - A new dependency whose policy (or a dependency of it within `depth`) cannot be known within
//   the bounds (work, time, missing packument, unreadable tarball) stays a `new-dependency` flag;
//   its known capabilities still count.
import type { CapabilityId, Evidence, PackagePolicy } from '../../analyzer/types';
import { viewPackument } from '../packument';
import type { VersionEntry } from '../packument';
import { changedDependencies, pickVersion } from './dependencies';
import { emptyPolicy } from '../empty-policy';

export interface InheritDeps {
  /** The dependency's packument as clients of this registry see it (hidden versions removed). Throws when unavailable. */
  getPackument(name: string): Promise<unknown>;
  /** The policy of one version through the gate's verified path (stored, else analysed); null when unusable. */
  policyOf(name: string, entry: VersionEntry): Promise<PackagePolicy | null>;
  /** Levels followed: 1 = the new dependencies only, 2 = also their dependencies. 0 = nothing resolved. */
  readonly depth: number;
  /** Dependency versions resolved at most. */
  readonly maxDependencies: number;
  /** Time allowed in ms; what is not known by then is unknown. */
  readonly timeoutMs: number;
}

export interface Inheritance {
  /** For diffPolicies' `dependencyPolicies`: keyed by the dependency key of package.json. */
  readonly dependencyPolicies: ReadonlyMap<string, PackagePolicy | null>;
  /** Keys whose range changed and now resolves to a version with a known policy: to diff as new. */
  readonly reranged: readonly string[];
  /** New dependency keys whose known policy is incomplete (a dependency of theirs is unknown): they stay a flag too. */
  readonly incomplete: readonly string[];
  /** name@version of every dependency version resolved (for logs). */
  readonly resolved: readonly string[];
}

interface Walk {
  readonly deps: InheritDeps;
  readonly deadline: Promise<'timeout'>;
  readonly visited: Set<string>;
  readonly resolved: string[];
  budget: number;
  timedOut: boolean;
}

interface Resolved {
  readonly policy: PackagePolicy;
  /** True when every dependency within depth was known. */
  readonly complete: boolean;
}

/** Resolves the dependencies `next` adds or re-ranges compared with `baseline` (null: brand new, all count). */
export async function inheritDependencies(parent: { name: string; version: string }, baseline: PackagePolicy | null, next: PackagePolicy, deps: InheritDeps): Promise<Inheritance> {
  const policies = new Map<string, PackagePolicy | null>();
  const reranged: string[] = [];
  const incomplete: string[] = [];
  const changes = changedDependencies(baseline, next).filter((c) => !c.alias.startsWith('@types/') && !c.name.startsWith('@types/'));
  if (deps.depth <= 0 || changes.length === 0) return { dependencyPolicies: policies, reranged, incomplete, resolved: [] };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deps.timeoutMs);
    timer.unref();
  });
  const walk: Walk = { deps, deadline, visited: new Set([`${parent.name}@${parent.version}`]), resolved: [], budget: deps.maxDependencies, timedOut: false };
  try {
    await Promise.all(
      changes.map(async (change) => {
        const packument = await bounded(walk, () => deps.getPackument(change.name));
        if (change.previousRange === null) {
          const r = packument === null ? null : await resolveVersion(walk, change.name, packument, change.range, deps.depth - 1);
          policies.set(change.alias, r?.policy ?? null);
          if (r !== null && !r.complete) incomplete.push(change.alias);
          return;
        }
        if (packument === null) return;
        const now = pickVersion(packument, change.range);
        const before = pickVersion(packument, change.previousRange);
        if (now === null || now === before) return;
        const [r, prev] = await Promise.all([
          resolveVersion(walk, change.name, packument, change.range, deps.depth - 1),
          before === null ? Promise.resolve(null) : resolveVersion(walk, change.name, packument, change.previousRange, deps.depth - 1, { countOnce: false }),
        ]);
        if (r === null || (before !== null && prev === null)) return;
        policies.set(change.alias, withoutCapabilities(r.policy, prev?.policy.capabilities ?? []));
        reranged.push(change.alias);
      }),
    );
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  return { dependencyPolicies: policies, reranged: reranged.sort(), incomplete: incomplete.sort(), resolved: walk.resolved.sort() };
}

/**
 * Policy of the version `range` resolves to, with its dependencies' capabilities folded in down to
 * `levels` more levels. null when unknown (no such version, out of budget or time, unreadable).
 */
async function resolveVersion(walk: Walk, name: string, packument: unknown, range: string, levels: number, opts: { countOnce: boolean } = { countOnce: true }): Promise<Resolved | null> {
  const version = pickVersion(packument, range);
  if (version === null) return null;
  const id = `${name}@${version}`;
  if (opts.countOnce) {
    // Already counted in this decision (a cycle, or two paths to one version): nothing more to add.
    if (walk.visited.has(id)) return { policy: emptyPolicy(name, version, ''), complete: true };
    walk.visited.add(id);
  }
  const entry = viewPackument(packument).versions.get(version);
  if (entry === undefined || walk.budget <= 0) return null;
  walk.budget--;
  const own = await bounded(walk, () => walk.deps.policyOf(name, entry));
  if (own === null) return null;
  walk.resolved.push(id);
  if (levels <= 0) return { policy: own, complete: true };
  const children = changedDependencies(null, own).filter((c) => !c.name.startsWith('@types/'));
  let complete = true;
  const inherited = await Promise.all(
    children.map(async (child) => {
      const childPackument = await bounded(walk, () => walk.deps.getPackument(child.name));
      const r = childPackument === null ? null : await resolveVersion(walk, child.name, childPackument, child.range, levels - 1);
      if (r === null || !r.complete) complete = false;
      return r === null ? null : { alias: child.alias, policy: r.policy };
    }),
  );
  let policy = own;
  for (const x of inherited) if (x !== null) policy = foldIn(policy, x.alias, x.policy);
  return { policy, complete };
}

/** Runs `fn` unless the budget of time is spent; null when it fails or time runs out. */
async function bounded<T>(walk: Walk, fn: () => Promise<T>): Promise<T | null> {
  if (walk.timedOut) return null;
  try {
    const r = await Promise.race([fn(), walk.deadline]);
    if (r === 'timeout') {
      walk.timedOut = true;
      return null;
    }
    return r;
  } catch {
    return null;
  }
}

/** `into` plus the capabilities of its dependency `alias` it does not already have, evidence under node_modules/<alias>/. */
export function foldIn(into: PackagePolicy, alias: string, dep: PackagePolicy): PackagePolicy {
  const have = new Set<CapabilityId>(into.capabilities);
  const added = dep.capabilities.filter((c) => !have.has(c));
  if (added.length === 0) return into;
  const evidence: Partial<Record<CapabilityId, readonly Evidence[]>> = { ...into.evidence };
  for (const id of added) evidence[id] = (dep.evidence[id] ?? []).map((e) => ({ ...e, file: `node_modules/${alias}/${e.file}` }));
  return { ...into, capabilities: [...into.capabilities, ...added].sort(), evidence };
}

/** `policy` without the capabilities in `remove` (and their evidence). */
export function withoutCapabilities(policy: PackagePolicy, remove: readonly CapabilityId[]): PackagePolicy {
  if (remove.length === 0) return policy;
  const drop = new Set(remove);
  const evidence: Partial<Record<CapabilityId, readonly Evidence[]>> = {};
  for (const [id, list] of Object.entries(policy.evidence) as [CapabilityId, readonly Evidence[]][]) if (!drop.has(id)) evidence[id] = list;
  return { ...policy, capabilities: policy.capabilities.filter((c) => !drop.has(c)), evidence };
}

