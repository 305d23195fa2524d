// Owns diffPolicies: what a new version gains over its baseline and the decision that follows
// (DESIGN.md "Baseline and decision"): any gained block-tier id -> block, any gained flag-tier id ->
// flag, else allow; keypaths, hosts, dependency names and install commands as lower-tier details.
import type { CapabilityId, Decision, Evidence, PackagePolicy, PolicyDiff, Tier } from './types';
import { DEFAULT_TIERS } from './types';

export interface DiffOptions {
  /** Operator overrides of DEFAULT_TIERS. */
  readonly tiers?: Partial<Record<CapabilityId, Tier>>;
  /** Brand-new package policy (baseline null); default 'flag': flag when it has block-tier capabilities. */
  readonly newPackage?: 'allow' | 'flag' | 'block';
  /**
   * Registry mode: policies of newly added (or re-resolved) dependencies, null = unknown. A newly
   * added dependency with a known policy passes its capabilities on (evidence `via: name@version`)
   * and is not itself a `new-dependency`. Absent => offline: every new dependency is a flag.
   */
  readonly dependencyPolicies?: ReadonlyMap<string, PackagePolicy | null>;
  /** Scoped approvals in force: never counted as gained. */
  readonly approvedCapabilities?: readonly CapabilityId[];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function normaliseCommand(cmd: string): string {
  return cmd.trim().replace(/\s+/g, ' ');
}

/** Install scripts that are new or whose command changed. */
function changedScripts(base: Readonly<Record<string, string>>, next: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [name, cmd] of Object.entries(next)) {
    const old = base[name];
    if (old === undefined || normaliseCommand(old) !== normaliseCommand(cmd)) out.push(name);
  }
  return out.sort(compareStrings);
}

function withVia(list: readonly Evidence[] | undefined, via: string): Evidence[] {
  return (list ?? []).map((e) => ({ ...e, via }));
}

/** Compares a new version's policy with its baseline (null for a brand-new package). */
export function diffPolicies(baseline: PackagePolicy | null, next: PackagePolicy, opts: DiffOptions = {}): PolicyDiff {
  const tierOf = (id: CapabilityId): Tier => opts.tiers?.[id] ?? DEFAULT_TIERS[id];
  const approved = new Set<CapabilityId>(opts.approvedCapabilities ?? []);
  const evidence: Partial<Record<CapabilityId, Evidence[]>> = {};
  const addEvidence = (id: CapabilityId, list: readonly Evidence[]): void => {
    const cur = evidence[id] ?? [];
    evidence[id] = [...cur, ...list];
  };

  const baseCaps = new Set<CapabilityId>(baseline?.capabilities ?? []);
  const baseDeps = baseline?.dependencies ?? {};
  const newDependencies = Object.keys(next.dependencies)
    .filter((d) => baseline === null || !Object.prototype.hasOwnProperty.call(baseDeps, d))
    .sort(compareStrings);
  const baseKeypaths = new Set(baseline?.keypaths ?? []);
  const baseHosts = new Set(baseline?.hosts ?? []);
  const newKeypaths = next.keypaths.filter((k) => !baseKeypaths.has(k));
  const newHosts = next.hosts.filter((h) => !baseHosts.has(h));
  const changedInstallScripts = changedScripts(baseline?.installScripts ?? {}, next.installScripts);

  const gained = new Set<CapabilityId>();
  for (const id of next.capabilities) {
    if (!baseCaps.has(id)) {
      gained.add(id);
      addEvidence(id, next.evidence[id] ?? []);
    }
  }
  // A changed install command is as good as a new one: the code npm runs at install time changed.
  if (baseline !== null && changedInstallScripts.length > 0 && next.capabilities.includes('install-script') && !gained.has('install-script')) {
    gained.add('install-script');
    const changed = new Set(changedInstallScripts.map((n) => 'scripts.' + n));
    addEvidence('install-script', (next.evidence['install-script'] ?? []).filter((e) => changed.has(e.api) || !e.api.startsWith('scripts.')));
  }

  // Dependencies: inherited capabilities where known, else a new-dependency flag.
  const unknownDeps: string[] = [];
  for (const dep of newDependencies) {
    // Type-only packages (@types/*) ship declarations, never code that runs.
    if (dep.startsWith('@types/')) continue;
    const known = opts.dependencyPolicies?.get(dep);
    if (known === undefined || known === null) {
      unknownDeps.push(dep);
      continue;
    }
    const via = `${known.name || dep}@${known.version}`;
    for (const id of known.capabilities) {
      if (baseCaps.has(id)) continue;
      gained.add(id);
      addEvidence(id, withVia(known.evidence[id], via));
    }
  }
  if (baseline !== null && unknownDeps.length > 0) {
    gained.add('new-dependency');
    addEvidence(
      'new-dependency',
      unknownDeps.map((d) => ({ file: 'package.json', line: 0, column: 0, api: 'dep:' + d, snippet: `"${d}": ${JSON.stringify(next.dependencies[d] ?? '')}`.slice(0, 120) })),
    );
  }
  for (const id of approved) {
    gained.delete(id);
    delete evidence[id];
  }
  // Reading conventional configuration variables (terminal, locale, paths, CI markers) is not a new
  // capability a reviewer needs to see: env-read counts when a variable outside that list is read.
  if (gained.has('env-read') && baseline !== null) {
    const named = (evidence['env-read'] ?? []).filter((e) => e.via === undefined && !isConventionalEnv(e.api));
    const inherited = (evidence['env-read'] ?? []).filter((e) => e.via !== undefined);
    const ownKeys = next.keypaths.filter((k) => k.startsWith('process.env') && !baseKeypaths.has(k) && !isConventionalEnv(k));
    if (named.length === 0 && inherited.length === 0 && ownKeys.length === 0) {
      gained.delete('env-read');
      delete evidence['env-read'];
    }
  }
  // Flag-tier ids gained only in files no entry point reaches (tests, examples) are not review work.
  if (baseline !== null) {
    for (const id of [...gained]) {
      if (tierOf(id) === 'flag' && id !== 'new-dependency' && onlyUnreachable(evidence[id])) {
        gained.delete(id);
        delete evidence[id];
      }
    }
  }

  const gainedList = [...gained].sort(compareStrings);
  const lost = (baseline?.capabilities ?? []).filter((id) => !next.capabilities.includes(id)).sort(compareStrings);

  // New hosts are a lower-tier detail, but their evidence is what a reviewer wants to see.
  if (newHosts.length > 0 && !gained.has('url-literals') && baseline !== null) {
    const wanted = new Set(newHosts.map((h) => 'host:' + h));
    addEvidence('url-literals', (next.evidence['url-literals'] ?? []).filter((e) => wanted.has(e.api)));
  }

  let decision: Decision;
  if (baseline === null) {
    const hasBlock = gainedList.some((id) => tierOf(id) === 'block');
    decision = hasBlock ? (opts.newPackage ?? 'flag') : 'allow';
  } else {
    decision = 'allow';
    for (const id of gainedList) {
      let tier = tierOf(id);
      // Gained only in files no entry point reaches (tests, examples shipped by mistake): weigh lower.
      if (tier === 'block' && onlyUnreachable(evidence[id])) tier = 'flag';
      if (tier === 'block') {
        decision = 'block';
        break;
      }
      decision = 'flag';
    }
  }

  const sortedEvidence: Partial<Record<CapabilityId, readonly Evidence[]>> = {};
  for (const id of Object.keys(evidence).sort(compareStrings) as CapabilityId[]) {
    const list = evidence[id];
    if (list !== undefined && list.length > 0) sortedEvidence[id] = list;
  }
  return {
    gained: gainedList,
    lost,
    decision,
    evidence: sortedEvidence,
    baseline: baseline === null ? null : baseline.version,
    details: { newKeypaths, newHosts, newDependencies, changedInstallScripts },
  };
}

/** Conventional, non-secret configuration variables. */
const CONVENTIONAL_ENV = new Set([
  'NODE_ENV', 'HOME', 'PATH', 'PATHEXT', 'SHELL', 'TERM', 'TERM_PROGRAM', 'TERM_PROGRAM_VERSION', 'COLORTERM', 'FORCE_COLOR',
  'NO_COLOR', 'NODE_DISABLE_COLORS', 'CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID', 'DEBUG', 'NODE_DEBUG',
  'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TMPDIR', 'TEMP', 'TMP', 'PWD', 'EDITOR', 'VISUAL',
  'PAGER', 'COLUMNS', 'LINES', 'NODE_OPTIONS', 'NODE_PATH', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME',
  'XDG_STATE_HOME', 'XDG_RUNTIME_DIR', 'APPDATA', 'LOCALAPPDATA', 'USERPROFILE', 'HOMEDRIVE', 'HOMEPATH',
  'SystemRoot', 'windir', 'ComSpec', 'COMSPEC', 'ProgramFiles', 'WT_SESSION', 'ConEmuANSI', 'TEAMCITY_VERSION',
  'GITHUB_ACTIONS', 'GITLAB_CI', 'TRAVIS', 'CIRCLECI', 'APPVEYOR', 'BUILDKITE', 'DRONE', 'TF_BUILD', 'VERCEL', 'NETLIFY',
]);

function isConventionalEnv(api: string): boolean {
  const m = /^process\.env\.(.+)$/.exec(api);
  return m?.[1] !== undefined && CONVENTIONAL_ENV.has(m[1]);
}

function onlyUnreachable(list: readonly Evidence[] | undefined): boolean {
  return list !== undefined && list.length > 0 && list.every((e) => e.reachable === false);
}
