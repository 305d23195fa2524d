// Owns the plugin configuration: the `middlewares: capgate:` block of verdaccio.yaml parsed from
// `unknown` with defaults, every problem reported at once (CAPGATE_CONFIG_INVALID), then frozen
// (fastify lib/initial-config-validation.js).
import { CAPABILITY_IDS, isCapabilityId } from '../analyzer/types';
import type { CapabilityId, Tier } from '../analyzer/types';
import { parseWebhookTargets } from '../alerts/config';
import type { WebhookTarget } from '../alerts/config';
import { isAlertError } from '../alerts/errors';
import { ConfigError } from './errors';
import { parseReviewers } from './review/config';
import type { ReviewerConfig } from './review/auth';

/** Where the policy store keeps its data. */
export interface StoreConfig {
  /** `file` (default): the embedded file store. `postgres`: a PostgreSQL store shared by several instances. */
  readonly type: 'file' | 'postgres';
  /** Folder of the file store; default `<verdaccio storage>/.capgate`. Relative paths resolve against the config file. */
  readonly path: string | null;
  /**
   * PostgreSQL connection URL; default: the DATABASE_URL environment variable at start-up.
   * **WARNING**: a URL with a password written here sits in verdaccio.yaml; prefer DATABASE_URL.
   */
  readonly url: string | null;
  /** PostgreSQL schema of the tables (default `capgate`). */
  readonly schema: string | null;
}

export interface AnalysisConfig {
  /** Worker threads for analysis; default: piscina's default (based on the CPU count). */
  readonly threads: number | null;
  /** Per-tarball analysis time limit in milliseconds (default 30000). The worker is terminated after it. */
  readonly timeoutMs: number;
  /** Heap limit of a worker in MiB; default: Node's. */
  readonly maxHeapMb: number | null;
  /**
   * Largest tarball the gate reads into memory, in bytes (default 128 MiB). Bigger tarballs are
   * refused with CAPGATE_TARBALL_TOO_LARGE, which bounds the memory one request can take.
   */
  readonly maxTarballBytes: number;
}

/** Several instances on one PostgreSQL store (plugin/cluster/README.md). */
export interface ClusterConfig {
  /** This instance's name in metrics (`capgate_instance`) and lease owners; default CAPGATE_INSTANCE_ID, else `<hostname>:<pid>`. */
  readonly instanceId: string | null;
  /**
   * How long an analysis lease outlives an instance that died holding it, in ms (default 15000).
   * The holder renews it every third of this while it works; other instances wait for its decision
   * meanwhile, and take the work over once it expires.
   */
  readonly leaseTtlMs: number;
  /**
   * Cached decisions are read again from the store after this many ms (default 60000): a safety
   * net for a change notification missed while the store's listening connection was down.
   */
  readonly cacheTtlMs: number;
}

/** Webhook alerts (docs/alerts.md): delivered from the store's outbox, at least once. */
export interface AlertsConfig {
  /** Base URL for review links in events; default the top-level `publicUrl`. */
  readonly publicUrl: string | null;
  /** Receivers; none (default) = no alerts are written. */
  readonly targets: readonly WebhookTarget[];
}

/** A policy for brand-new packages (DESIGN.md "Baseline and decision"). */
export type NewPackagePolicy = 'allow' | 'flag' | 'block';

/**
 * Versions analysed ahead of the tarball request, when their packument is asked for (plugin/filter):
 * so that held versions can be hidden before a resolver picks them. An undecided version stays
 * visible; the tarball gate still decides it.
 */
export interface BackgroundConfig {
  /**
   * Undecided versions analysed per packument request, newest first, among the versions newer than
   * the newest decided one (default 3; 0 turns background analysis off).
   */
  readonly maxVersions: number;
  /** Background analyses running at once in this process (default 1), so requests keep the pool. */
  readonly concurrency: number;
  /** Versions waiting at most (default 200); more are dropped until the queue drains. */
  readonly queueSize: number;
  /** A waiting version is dropped when it has not started within this many ms (default 60000). */
  readonly maxWaitMs: number;
}

/**
 * Transitive capabilities (plugin/transitive): a version's new dependencies are resolved the way
 * npm would (npm-pick-manifest over the packument clients see) and their capabilities count as the
 * parent's. A dependency whose policy cannot be known within these bounds stays a `new-dependency` flag.
 */
export interface TransitiveConfig {
  /** Levels followed (default 2: a new dependency and its own dependencies; 0 turns inheritance off). */
  readonly depth: number;
  /** Dependency versions resolved per decision at most (default 16). */
  readonly maxDependencies: number;
  /** Time spent resolving dependencies per decision at most, in ms (default 20000). */
  readonly timeoutMs: number;
}

export interface PluginConfig {
  /**
   * `enforce` (default) refuses held and denied versions. `monitor` serves them and records what
   * enforce would have done (decisions are stored with `mode: 'monitor'`).
   * **WARNING**: `monitor` installs every update, including the ones it would hold.
   */
  readonly mode: 'enforce' | 'monitor';
  /**
   * What to do when the gate cannot decide (analysis failure or timeout, store unreachable, a
   * packument without integrity): `block` (default) refuses with a reason naming the failure,
   * `allow` serves the tarball and logs the failure at `error`.
   * **WARNING**: `allow` serves bytes that were not analyzed when analysis fails. Bytes that do not
   * match the packument integrity are refused either way.
   */
  readonly onError: 'block' | 'allow';
  /** Tier overrides per capability id (defaults: DEFAULT_TIERS of CAPABILITIES.md). */
  readonly tiers: Readonly<Partial<Record<CapabilityId, Tier>>>;
  /**
   * Tier overrides per package (`left-pad`, `@corp/tool`) or per scope (`@corp`), on top of `tiers`:
   * a package's own entry wins over its scope's, which wins over `tiers`. CAPABILITIES.md: "operators
   * can change them per capability, per package and per scope".
   * **WARNING**: lowering `child-process` or `network` to `flag` for a package lets its updates gain
   * them without review.
   */
  readonly packageTiers: Readonly<Record<string, Readonly<Partial<Record<CapabilityId, Tier>>>>>;
  /**
   * Policy for a package with no earlier version at all (with block-tier capabilities, inherited
   * ones included): `flag` (default), `allow` or `block`. In verdaccio.yaml either a word or
   * `{ default: flag, scopes: { '@corp': allow } }`; `newPackageScopes` holds the per-scope part.
   */
  readonly newPackage: NewPackagePolicy;
  /** Per-scope new-package policies (`'@corp': 'allow'`); a scope not listed gets `newPackage`. */
  readonly newPackageScopes: Readonly<Record<string, NewPackagePolicy>>;
  readonly background: BackgroundConfig;
  readonly transitive: TransitiveConfig;
  /** Decisions kept in memory (LRU entries, default 10000). */
  readonly cacheSize: number;
  /** How many lower versions the baseline search may examine before giving up (default 20). */
  readonly maxBaselineCandidates: number;
  /**
   * Public origin used in reviewer links (e.g. `https://npm.example.internal`). Default: the
   * request's own origin, as Verdaccio builds tarball URLs.
   */
  readonly publicUrl: string | null;
  readonly analysis: AnalysisConfig;
  readonly store: StoreConfig;
  readonly cluster: ClusterConfig;
  /**
   * Who may approve and deny (docs/review.md): registry user names and auth-plugin groups, plus the
   * comma-separated CAPGATE_REVIEWERS user names. None = every review request is refused.
   */
  readonly reviewers: ReviewerConfig;
  readonly alerts: AlertsConfig;
  /**
   * Serve `GET /-/capgate/metrics` (Prometheus text format; default true). The route needs no login,
   * like Verdaccio's `/-/ping`: it shows counts and durations only, no package names.
   */
  readonly metrics: boolean;
}

/** The new-package policy for `name`: its scope's, else the default. */
function parseTiers(value: unknown, where: string, issues: string[]): Partial<Record<CapabilityId, Tier>> {
  const tiers: Partial<Record<CapabilityId, Tier>> = {};
  if (value === undefined || value === null) return tiers;
  const t = asRecord(value, where, issues);
  for (const [id, tier] of Object.entries(t ?? {})) {
    if (!isCapabilityId(id)) {
      issues.push(`${where}.${id}: unknown capability id (known: ${CAPABILITY_IDS.join(', ')})`);
      continue;
    }
    if (tier !== 'block' && tier !== 'flag') {
      issues.push(`${where}.${id}: expected "block" or "flag", got ${show(tier)}`);
      continue;
    }
    tiers[id] = tier;
  }
  return tiers;
}

/** The tiers in force for one package: `tiers`, then its scope's `packageTiers`, then its own. */
export function tiersFor(config: Pick<PluginConfig, 'tiers' | 'packageTiers'>, name: string): Partial<Record<CapabilityId, Tier>> {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : null;
  return {
    ...config.tiers,
    ...(scope !== null ? config.packageTiers[scope] : undefined),
    ...config.packageTiers[name],
  };
}

export function newPackagePolicyFor(config: Pick<PluginConfig, 'newPackage' | 'newPackageScopes'>, name: string): NewPackagePolicy {
  if (name.startsWith('@')) {
    const scope = name.slice(0, name.indexOf('/'));
    const own = config.newPackageScopes[scope];
    if (own !== undefined) return own;
  }
  return config.newPackage;
}

export const DEFAULT_CONFIG: PluginConfig = deepFreeze({
  mode: 'enforce',
  onError: 'block',
  tiers: {},
  packageTiers: {},
  newPackage: 'flag',
  newPackageScopes: {},
  background: { maxVersions: 3, concurrency: 1, queueSize: 200, maxWaitMs: 60_000 },
  transitive: { depth: 2, maxDependencies: 16, timeoutMs: 20_000 },
  cacheSize: 10_000,
  maxBaselineCandidates: 20,
  publicUrl: null,
  analysis: { threads: null, timeoutMs: 30_000, maxHeapMb: null, maxTarballBytes: 128 * 1024 * 1024 },
  store: { type: 'file', path: null, url: null, schema: null },
  cluster: { instanceId: null, leaseTtlMs: 15_000, cacheTtlMs: 60_000 },
  metrics: true,
  reviewers: { users: [], groups: [] },
  alerts: { publicUrl: null, targets: [] },
});

const TOP_KEYS = ['mode', 'onError', 'tiers', 'packageTiers', 'newPackage', 'background', 'transitive', 'cacheSize', 'maxBaselineCandidates', 'publicUrl', 'analysis', 'store', 'cluster', 'metrics', 'reviewers', 'alerts'];
const BACKGROUND_KEYS = ['maxVersions', 'concurrency', 'queueSize', 'maxWaitMs'];
const TRANSITIVE_KEYS = ['depth', 'maxDependencies', 'timeoutMs'];
const NEW_PACKAGE_KEYS = ['default', 'scopes'];
const NEW_PACKAGE_POLICIES = ['allow', 'flag', 'block'] as const;
const ALERTS_KEYS = ['publicUrl', 'targets'];
const CLUSTER_KEYS = ['instanceId', 'leaseTtlMs', 'cacheTtlMs'];
const ANALYSIS_KEYS = ['threads', 'timeoutMs', 'maxHeapMb', 'maxTarballBytes'];
const STORE_KEYS = ['type', 'path', 'url', 'schema'];

/**
 * Parses the plugin block. `undefined`/`null` give the defaults. Throws ConfigError listing every
 * issue; the result is deeply frozen.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): PluginConfig {
  const issues: string[] = [];
  const root = asRecord(raw ?? {}, 'capgate', issues) ?? {};
  unknownKeys(root, TOP_KEYS, 'capgate', issues);

  const mode = oneOf(root['mode'], ['enforce', 'monitor'] as const, 'capgate.mode', DEFAULT_CONFIG.mode, issues);
  const onError = oneOf(root['onError'], ['block', 'allow'] as const, 'capgate.onError', DEFAULT_CONFIG.onError, issues);
  let newPackage: NewPackagePolicy = DEFAULT_CONFIG.newPackage;
  const newPackageScopes: Record<string, NewPackagePolicy> = {};
  const np = root['newPackage'];
  if (typeof np === 'object' && np !== null && !Array.isArray(np)) {
    const npr = np as Record<string, unknown>;
    unknownKeys(npr, NEW_PACKAGE_KEYS, 'capgate.newPackage', issues);
    newPackage = oneOf(npr['default'], NEW_PACKAGE_POLICIES, 'capgate.newPackage.default', DEFAULT_CONFIG.newPackage, issues);
    const scopes = asRecord(npr['scopes'] ?? {}, 'capgate.newPackage.scopes', issues) ?? {};
    for (const [scope, policy] of Object.entries(scopes)) {
      if (!/^@[a-z0-9][a-z0-9._~-]*$/.test(scope)) {
        issues.push(`capgate.newPackage.scopes.${scope}: expected a scope such as "@corp"`);
        continue;
      }
      newPackageScopes[scope] = oneOf(policy, NEW_PACKAGE_POLICIES, `capgate.newPackage.scopes.${scope}`, newPackage, issues);
    }
  } else {
    newPackage = oneOf(np, NEW_PACKAGE_POLICIES, 'capgate.newPackage', DEFAULT_CONFIG.newPackage, issues);
  }

  const bg = asRecord(root['background'] ?? {}, 'capgate.background', issues) ?? {};
  unknownKeys(bg, BACKGROUND_KEYS, 'capgate.background', issues);
  const db = DEFAULT_CONFIG.background;
  const background: BackgroundConfig = {
    maxVersions: int(bg['maxVersions'], 'capgate.background.maxVersions', db.maxVersions, 0, 100, issues),
    concurrency: int(bg['concurrency'], 'capgate.background.concurrency', db.concurrency, 1, 64, issues),
    queueSize: int(bg['queueSize'], 'capgate.background.queueSize', db.queueSize, 1, 100_000, issues),
    maxWaitMs: int(bg['maxWaitMs'], 'capgate.background.maxWaitMs', db.maxWaitMs, 100, 3_600_000, issues),
  };
  const tr = asRecord(root['transitive'] ?? {}, 'capgate.transitive', issues) ?? {};
  unknownKeys(tr, TRANSITIVE_KEYS, 'capgate.transitive', issues);
  const dt = DEFAULT_CONFIG.transitive;
  const transitive: TransitiveConfig = {
    depth: int(tr['depth'], 'capgate.transitive.depth', dt.depth, 0, 5, issues),
    maxDependencies: int(tr['maxDependencies'], 'capgate.transitive.maxDependencies', dt.maxDependencies, 1, 1000, issues),
    timeoutMs: int(tr['timeoutMs'], 'capgate.transitive.timeoutMs', dt.timeoutMs, 100, 3_600_000, issues),
  };
  const cacheSize = int(root['cacheSize'], 'capgate.cacheSize', DEFAULT_CONFIG.cacheSize, 1, 10_000_000, issues);
  const maxBaselineCandidates = int(root['maxBaselineCandidates'], 'capgate.maxBaselineCandidates', DEFAULT_CONFIG.maxBaselineCandidates, 1, 1000, issues);

  let publicUrl: string | null = null;
  if (root['publicUrl'] !== undefined && root['publicUrl'] !== null) {
    const v = root['publicUrl'];
    if (typeof v !== 'string' || !isHttpUrl(v)) issues.push(`capgate.publicUrl: expected an http(s) URL, got ${show(v)}`);
    else publicUrl = v.replace(/\/+$/, '');
  }

  const tiers = parseTiers(root['tiers'], 'capgate.tiers', issues);
  const packageTiers: Record<string, Partial<Record<CapabilityId, Tier>>> = {};
  if (root['packageTiers'] !== undefined && root['packageTiers'] !== null) {
    const pt = asRecord(root['packageTiers'], 'capgate.packageTiers', issues);
    for (const [key, value] of Object.entries(pt ?? {})) {
      if (!/^(@[a-z0-9][a-z0-9._~-]*|(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)$/.test(key)) {
        issues.push(`capgate.packageTiers.${key}: expected a package name or a scope (@scope)`);
        continue;
      }
      packageTiers[key] = parseTiers(value, `capgate.packageTiers.${key}`, issues);
    }
  }

  const a = asRecord(root['analysis'] ?? {}, 'capgate.analysis', issues) ?? {};
  unknownKeys(a, ANALYSIS_KEYS, 'capgate.analysis', issues);
  const d = DEFAULT_CONFIG.analysis;
  const analysis: AnalysisConfig = {
    threads: optionalInt(a['threads'], 'capgate.analysis.threads', 1, 256, issues),
    timeoutMs: int(a['timeoutMs'], 'capgate.analysis.timeoutMs', d.timeoutMs, 100, 3_600_000, issues),
    maxHeapMb: optionalInt(a['maxHeapMb'], 'capgate.analysis.maxHeapMb', 16, 65_536, issues),
    maxTarballBytes: int(a['maxTarballBytes'], 'capgate.analysis.maxTarballBytes', d.maxTarballBytes, 1024, 4 * 1024 ** 3, issues),
  };

  const s = asRecord(root['store'] ?? {}, 'capgate.store', issues) ?? {};
  unknownKeys(s, STORE_KEYS, 'capgate.store', issues);
  const type = oneOf(s['type'], ['file', 'postgres'] as const, 'capgate.store.type', 'file', issues);
  const path = optionalString(s['path'], 'capgate.store.path', 'a folder path', issues);
  const url = optionalString(s['url'], 'capgate.store.url', 'a postgres:// URL', issues);
  if (url !== null && !/^postgres(ql)?:\/\//.test(url)) issues.push('capgate.store.url: expected a postgres:// URL');
  const schema = optionalString(s['schema'], 'capgate.store.schema', 'a schema name', issues);
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) issues.push(`capgate.store.schema: expected a lower-case SQL identifier, got ${show(schema)}`);
  if (type === 'file' && (url !== null || schema !== null)) issues.push('capgate.store: `url` and `schema` apply to `type: postgres` only');

  const c = asRecord(root['cluster'] ?? {}, 'capgate.cluster', issues) ?? {};
  unknownKeys(c, CLUSTER_KEYS, 'capgate.cluster', issues);
  const dc = DEFAULT_CONFIG.cluster;
  const instanceId = optionalString(c['instanceId'], 'capgate.cluster.instanceId', 'a name', issues);
  if (instanceId !== null && !/^[\x21-\x7e]{1,128}$/.test(instanceId)) issues.push('capgate.cluster.instanceId: expected 1 to 128 printable ASCII characters without spaces');
  const cluster: ClusterConfig = {
    instanceId,
    leaseTtlMs: int(c['leaseTtlMs'], 'capgate.cluster.leaseTtlMs', dc.leaseTtlMs, 1000, 600_000, issues),
    cacheTtlMs: int(c['cacheTtlMs'], 'capgate.cluster.cacheTtlMs', dc.cacheTtlMs, 1000, 86_400_000, issues),
  };
  let metrics = DEFAULT_CONFIG.metrics;
  if (root['metrics'] !== undefined && root['metrics'] !== null) {
    if (typeof root['metrics'] === 'boolean') metrics = root['metrics'];
    else issues.push(`capgate.metrics: expected true or false, got ${show(root['metrics'])}`);
  }

  const reviewers = parseReviewers(root['reviewers'], env['CAPGATE_REVIEWERS']);
  issues.push(...reviewers.issues);

  const al = asRecord(root['alerts'] ?? {}, 'capgate.alerts', issues) ?? {};
  unknownKeys(al, ALERTS_KEYS, 'capgate.alerts', issues);
  let alertsUrl: string | null = null;
  if (al['publicUrl'] !== undefined && al['publicUrl'] !== null) {
    const v = al['publicUrl'];
    if (typeof v !== 'string' || !isHttpUrl(v)) issues.push(`capgate.alerts.publicUrl: expected an http(s) URL, got ${show(v)}`);
    else alertsUrl = v.replace(/\/+$/, '');
  }
  let targets: readonly WebhookTarget[] = [];
  try {
    targets = parseWebhookTargets(al['targets']);
  } catch (e) {
    if (!isAlertError(e)) throw e;
    issues.push(...(e.issues.length > 0 ? e.issues.map((i) => `capgate.alerts.${i}`) : [`capgate.alerts: ${e.message}`]));
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze({
    mode,
    onError,
    tiers,
    packageTiers,
    newPackage,
    newPackageScopes,
    background,
    transitive,
    cacheSize,
    maxBaselineCandidates,
    publicUrl,
    analysis,
    store: { type, path, url, schema },
    cluster,
    metrics,
    reviewers: reviewers.value,
    alerts: { publicUrl: alertsUrl ?? publicUrl, targets },
  });
}

function asRecord(v: unknown, where: string, issues: string[]): Record<string, unknown> | null {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  issues.push(`${where}: expected an object, got ${show(v)}`);
  return null;
}

function unknownKeys(obj: Record<string, unknown>, known: readonly string[], where: string, issues: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) issues.push(`${where}.${k}: unknown option (known: ${known.join(', ')})`);
  }
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string, dflt: T, issues: string[]): T {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  issues.push(`${where}: expected one of ${allowed.map((x) => `"${x}"`).join(', ')}, got ${show(v)}`);
  return dflt;
}

function int(v: unknown, where: string, dflt: number, min: number, max: number, issues: string[]): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  issues.push(`${where}: expected an integer between ${min} and ${max}, got ${show(v)}`);
  return dflt;
}

function optionalInt(v: unknown, where: string, min: number, max: number, issues: string[]): number | null {
  if (v === undefined || v === null) return null;
  return int(v, where, min, min, max, issues);
}

function optionalString(v: unknown, where: string, what: string, issues: string[]): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.trim() === '') {
    issues.push(`${where}: expected ${what}, got ${show(v)}`);
    return null;
  }
  return v;
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '';
  } catch {
    return false;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
