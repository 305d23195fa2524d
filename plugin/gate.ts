// Owns the decision for one tarball (DESIGN.md "The flow of one tarball request" and "Baseline and
// decision"): resolve the version from the packument, answer known decisions from the LRU and the
// store, otherwise read, verify, analyze, pick the baseline, diff, decide and store. Knows nothing
// of HTTP or Verdaccio: the registry, analyzer and store come in through small interfaces so the
// metadata filter and review API (issues 4 and 5) can reuse it.
import { LRUCache } from 'lru-cache';
import semver from 'semver';
import { DEFAULT_TIERS } from '../analyzer/types';
import type { TarballManifest } from '../analyzer';
import type { CapabilityId, PackagePolicy, PolicyDiff, Tier } from '../analyzer/types';
import type { DecisionRecord, PolicyStore, VersionState } from '../policy-store/store';
import { newPackagePolicyFor, tiersFor } from './config';
import { emptyPolicy } from './empty-policy';
import type { PluginConfig } from './config';
import { GateError } from './errors';
import type { GateErrorCode } from './errors';
import { expectedDigest, matchesDigest, sha512Sri } from './integrity';
import type { ExpectedDigest } from './integrity';
import { decisionReason } from './message';
import { baselineCandidates, versionsForFile, viewPackument } from './packument';
import type { PackumentView, VersionEntry } from './packument';
import { changedDependencies, pickVersion } from './transitive/dependencies';
import { inheritDependencies } from './transitive/inherit';
import type { Inheritance } from './transitive/inherit';

/** Verdaccio's storage seen from the gate (see verdaccio-source.ts). `ctx` is opaque request context. */
export interface RegistrySource {
  /** Throws GateError CAPGATE_NOT_FOUND or CAPGATE_UPSTREAM_UNAVAILABLE. */
  getPackument(name: string, ctx: unknown): Promise<unknown>;
  /** Throws GateError CAPGATE_NOT_FOUND, CAPGATE_UPSTREAM_UNAVAILABLE or CAPGATE_TARBALL_TOO_LARGE. */
  readTarball(name: string, filename: string, maxBytes: number): Promise<Buffer>;
}

/** The analyzer seen from the gate: AnalyzerPool in production. Rejects with `{ code }` errors. */
export interface TarballAnalyzer {
  /**
   * `affinity`: the package name, so versions of one package share a worker's scan cache.
   * `background`: no request waits on it; an object is read again while the job waits, so that the
   * gate can raise it (see AnalyzeOptions.background in analyzer/pool.ts).
   */
  analyze(bytes: Uint8Array, opts?: { affinity?: string; background?: BackgroundPriority }): Promise<PackagePolicy>;
  /** Marks work a request waits on until the returned function is called: background jobs wait meanwhile. */
  foreground?(): () => void;
  /** A waiting job's priority was raised: look again. */
  poke?(): void;
}

export interface DiffOptions {
  tiers?: Partial<Record<CapabilityId, Tier>>;
  newPackage?: 'allow' | 'flag' | 'block';
  approvedCapabilities?: readonly CapabilityId[];
  /** Policies of new (or re-ranged) dependencies, null = unknown (analyzer/diff.ts). */
  dependencyPolicies?: ReadonlyMap<string, PackagePolicy | null>;
}
export type DiffFn = (baseline: PackagePolicy | null, next: PackagePolicy, opts?: DiffOptions) => PolicyDiff;

/** Narrow pino-compatible logger (Verdaccio injects pino). */
export interface GateLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * Runs a piece of work once across instances (plugin/cluster/lease.ts LeaseCoordinator): `lookup`
 * finds another instance's result, `work` produces it. Without one, the work just runs.
 */
export interface AnalysisCoordinator {
  once<T>(req: { key: string; name: string; version: string; lookup(): Promise<T | undefined>; work(): Promise<T> }): Promise<T>;
}

/** Hooks for metrics (plugin/metrics.ts). Must not throw. */
export interface GateObserver {
  /** A known-decision lookup was answered by the LRU, by the store, or by neither. */
  cacheLookup?(result: 'lru' | 'store' | 'miss'): void;
  /** An automatic decision was stored by this instance. */
  decided?(record: DecisionRecord): void;
}

export interface GateDeps {
  readonly config: PluginConfig;
  readonly store: PolicyStore;
  readonly registry: RegistrySource;
  readonly analyzer: TarballAnalyzer;
  readonly diff: DiffFn;
  readonly rulesVersion: string;
  readonly logger: GateLogger;
  readonly now?: () => Date;
  readonly coordinator?: AnalysisCoordinator;
  readonly observer?: GateObserver;
  /** Cached decisions expire after this many ms (a safety net for missed change notifications); default: never. */
  readonly decisionTtlMs?: number;
  /** Told of every decision this gate stores and every invalidation (the metadata filter's index). Must not throw. */
  readonly onChange?: (name: string, version: string) => void;
  /**
   * A dependency's packument as clients see it (hidden versions removed), for resolving new
   * dependencies the way npm would; default: the registry's packument as is.
   */
  readonly visiblePackument?: (packument: unknown) => Promise<unknown>;
  /**
   * Reads a tarball's package.json as the analyzer would (analyzer manifestOf), without analysing
   * it: lets enforce mode serve before the decision a version whose baseline declares the same
   * dependencies (see Gate.inheritsNothing). Without it, such versions wait for their decision.
   */
  readonly manifestOf?: (bytes: Buffer) => Promise<TarballManifest | null>;
}

/** What the route does with a tarball request. */
export type GateOutcome =
  | {
      readonly kind: 'serve';
      readonly name: string;
      readonly version: string;
      readonly bytes: Buffer;
      /** The decision behind serving; null when served because of onError: allow / monitor, or before the decision (`pending`). */
      readonly record: DecisionRecord | null;
      /** Set when served despite a failure (onError: allow, or monitor mode). */
      readonly failure: GateError | null;
      /**
       * True when served once the version itself was analysed but before its decision was made: no
       * baseline could make it refused (see Gate.releasable); the decision is recorded when done.
       */
      readonly pending: boolean;
    }
  | { readonly kind: 'refuse'; readonly name: string; readonly version: string; readonly record: DecisionRecord };

/** Failures that `onError: allow` (and monitor mode) may serve through, once the bytes are verified. */
const FAIL_OPEN_CODES: ReadonlySet<GateErrorCode> = new Set([
  'CAPGATE_ANALYSIS_FAILED',
  'CAPGATE_ANALYSIS_TIMEOUT',
  'CAPGATE_ARCHIVE_CORRUPT',
  'CAPGATE_ARCHIVE_LIMIT',
  'CAPGATE_STORE_UNAVAILABLE',
]);

const ANALYZER_CODES: ReadonlySet<string> = new Set([
  'CAPGATE_ARCHIVE_CORRUPT',
  'CAPGATE_ARCHIVE_LIMIT',
  'CAPGATE_ANALYSIS_TIMEOUT',
  'CAPGATE_ANALYSIS_FAILED',
]);

const REFUSING_STATES: ReadonlySet<VersionState> = new Set(['held', 'denied']);

/** Why an earlier version cannot serve as a baseline (skipped; anything else is a failure of the gate). */
const BASELINE_SKIP_CODES: ReadonlySet<GateErrorCode> = new Set([
  'CAPGATE_NOT_FOUND',
  'CAPGATE_TARBALL_TOO_LARGE',
  'CAPGATE_INTEGRITY_MISMATCH',
  'CAPGATE_MANIFEST_MISMATCH',
  'CAPGATE_ARCHIVE_CORRUPT',
  'CAPGATE_ARCHIVE_LIMIT',
  'CAPGATE_ANALYSIS_TIMEOUT',
  'CAPGATE_ANALYSIS_FAILED',
  'CAPGATE_INTERNAL',
]);

/** An analysis outcome shared between callers with different failure rules. */
type PolicyResult = { readonly ok: true; readonly policy: PackagePolicy } | { readonly ok: false; readonly error: GateError };

/** A background job's priority, which the gate clears when a request comes to wait on that job. */
export type BackgroundPriority = boolean | { readonly background: boolean };

/** What `decideNew` produces: its decision, and the analysed bytes, or a failure served through. */
interface Decided {
  readonly record: DecisionRecord | null;
  readonly bytes: Buffer;
  readonly failure: GateError | null;
}

/** One decision in progress, shared by every request for the same bytes. */
interface Flight {
  readonly decided: Promise<Decided>;
  /** Resolves with the analysed bytes when they may be served before the decision (never rejects; may never resolve). */
  readonly released: Promise<Buffer>;
}

/** The baseline a version was served against before its decision, and what its package.json declares. */
interface PinnedBaseline {
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
}

interface BaselineChoice {
  readonly version: string | null;
  readonly policy: PackagePolicy | null;
  /** True when earlier versions exist but none could serve (held, denied or unreadable). */
  readonly noneUsable: boolean;
}

export class Gate {
  private readonly deps: GateDeps;
  private readonly decisions: LRUCache<string, DecisionRecord>;
  /**
   * (name, file) -> packument entry. A published version's file name and integrity do not change
   * (npm refuses republishing), and a decision only applies to the integrity it was made on, so a
   * known decision can be answered without reading (and parsing) the packument again: the warm path
   * is a store-free LRU hit plus reading and hashing the bytes.
   */
  private readonly files: LRUCache<string, VersionEntry>;
  private readonly flights = new Map<string, Flight>();
  /** One analysis per tarball whoever needs it (its decision, a baseline, a dependency's inheritance). */
  private readonly policyFlights = new Map<string, { readonly result: Promise<PolicyResult>; readonly priority: { background: boolean } }>();
  /** Baseline tarballs read while the new version is analysed, by name@version (see prefetchBaseline). */
  private readonly prefetched = new Map<string, Promise<Buffer | null>>();

  constructor(deps: GateDeps) {
    this.deps = deps;
    this.decisions = new LRUCache<string, DecisionRecord>(
      deps.decisionTtlMs === undefined ? { max: deps.config.cacheSize } : { max: deps.config.cacheSize, ttl: deps.decisionTtlMs },
    );
    this.files = new LRUCache<string, VersionEntry>({ max: deps.config.cacheSize });
  }

  get config(): PluginConfig {
    return this.deps.config;
  }

  /** Forgets a cached decision (after a review changed it). */
  invalidate(name: string, version: string): void {
    this.decisions.delete(key(name, version));
    this.deps.onChange?.(name, version);
  }

  /**
   * Decides one version ahead of its tarball request (background analysis at packument time):
   * nothing happens when a decision is known; otherwise the same single flight as a tarball
   * request. Never serves, never throws (failures are logged at debug and left to the tarball gate).
   */
  async warm(p: { name: string; entry: VersionEntry; view: PackumentView }): Promise<void> {
    const { name, entry } = p;
    const digest = expectedDigest(entry.integrity, entry.shasum);
    if (!digest.ok) return;
    try {
      if ((await this.knownDecision(name, entry.version, digest.expected.sri)) !== null) return;
      await this.flight(name, entry, p.view, digest.expected).decided;
    } catch (e) {
      const err = toGateError(e);
      this.deps.logger.debug({ pkg: name, version: entry.version, code: err.code, err: err.message }, 'capgate: background analysis of @{pkg}@@{version} failed (@{code}); the tarball gate decides');
    }
  }

  /** Gate a tarball request for `name`'s file `filename`. Throws GateError when it must refuse for a failure. */
  async checkTarball(p: { name: string; filename: string; ctx?: unknown }): Promise<GateOutcome> {
    const fileKey = `${p.name}\u0000${p.filename}`;
    const remembered = this.files.get(fileKey);
    if (remembered !== undefined) {
      const digest = expectedDigest(remembered.integrity, remembered.shasum);
      if (digest.ok) {
        const known = await this.knownDecision(p.name, remembered.version, digest.expected.sri).catch(() => null);
        if (known !== null) return this.answerKnown(p.name, remembered, digest.expected, known);
      }
    }
    const view = viewPackument(await this.deps.registry.getPackument(p.name, p.ctx));
    const matches = versionsForFile(view, p.filename);
    if (matches.length === 0) {
      throw new GateError('CAPGATE_TARBALL_UNKNOWN', `no version of ${p.name} has the tarball ${p.filename}`, { name: p.name, filename: p.filename });
    }
    const entry = matches[0];
    if (entry === undefined || matches.length > 1) {
      throw new GateError('CAPGATE_TARBALL_AMBIGUOUS', `versions ${matches.map((m) => m.version).join(', ')} of ${p.name} share the tarball ${p.filename}`, {
        name: p.name,
        filename: p.filename,
      });
    }
    this.files.set(fileKey, entry);
    return this.checkVersion({ name: p.name, entry, view });
  }

  /** Gate one version whose packument entry is known (also used for background analysis). */
  async checkVersion(p: { name: string; entry: VersionEntry; view: PackumentView }): Promise<GateOutcome> {
    const { name, entry } = p;
    const version = entry.version;
    const digest = expectedDigest(entry.integrity, entry.shasum);
    let expected: ExpectedDigest | null = null;
    if (digest.ok) {
      expected = digest.expected;
    } else if (this.failsOpen()) {
      this.deps.logger.error({ pkg: name, version, code: 'CAPGATE_INTEGRITY_MISSING', reason: digest.reason }, 'capgate: @{pkg}@@{version} has no usable integrity; analysing unverified bytes (onError: allow)');
    } else {
      throw new GateError('CAPGATE_INTEGRITY_MISSING', digest.reason, { name, version });
    }

    if (expected !== null) {
      const known = await this.knownDecision(name, version, expected.sri).catch((e: unknown) => {
        const err = toGateError(e);
        // onError: allow goes on to analyse (and serves if the store stays unreachable).
        if (err.code === 'CAPGATE_STORE_UNAVAILABLE' && this.failsOpen()) return null;
        throw err;
      });
      if (known !== null) return this.answerKnown(name, entry, expected, known);
    }

    const flight = this.flight(name, entry, p.view, expected);
    const result = await Promise.race([flight.decided, flight.released]);
    if (Buffer.isBuffer(result)) return { kind: 'serve', name, version, bytes: result, record: null, failure: null, pending: true };
    if (result.record !== null && REFUSING_STATES.has(result.record.state) && this.deps.config.mode === 'enforce') {
      return { kind: 'refuse', name, version, record: result.record };
    }
    return { kind: 'serve', name, version, bytes: result.bytes, record: result.record, failure: result.failure, pending: false };
  }

  /** The decision in progress for these bytes, started if there is none (single flight per process). */
  private flight(name: string, entry: VersionEntry, view: PackumentView, expected: ExpectedDigest | null): Flight {
    const flightKey = `${key(name, entry.version)}#${expected?.sri ?? 'unverified'}`;
    const existing = this.flights.get(flightKey);
    if (existing !== undefined) return existing;
    let wasReleased = false;
    let resolveRelease: (bytes: Buffer) => void = () => undefined;
    const released = new Promise<Buffer>((resolve) => (resolveRelease = resolve));
    const release = (bytes: Buffer): void => {
      wasReleased = true;
      resolveRelease(bytes);
    };
    // The decision is work a request waits on until it can be answered (released or decided).
    const done = this.deps.analyzer.foreground?.() ?? ((): void => undefined);
    void released.then(done);
    const decided = this.decideNew(name, entry, view, expected, release).finally(() => {
      this.flights.delete(flightKey);
      done();
    });
    // Requests answered at release do not wait for the decision: its failure is logged here (the
    // next request for the version decides again). Requests that wait log their own failures.
    decided.catch((e: unknown) => {
      if (!wasReleased) return;
      const err = toGateError(e);
      this.deps.logger.warn({ pkg: name, version: entry.version, code: err.code, err: err.message }, 'capgate: @{pkg}@@{version} was served, but its decision failed (@{code}): @{err}');
    });
    const flight: Flight = { decided, released };
    this.flights.set(flightKey, flight);
    return flight;
  }

  /**
   * Resolves once no decision for (name, version) is in progress in this process, so that what a
   * client was just served is on record when it asks (the policy API). Bounded by `timeoutMs`.
   */
  async settled(name: string, version: string, timeoutMs: number): Promise<void> {
    const prefix = `${key(name, version)}#`;
    const pending = [...this.flights.entries()].filter(([k]) => k.startsWith(prefix)).map(([, f]) => f.decided.catch(() => undefined));
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.all(pending).then(() => undefined), timeout]);
    if (timer !== undefined) clearTimeout(timer);
  }

  private async answerKnown(name: string, entry: VersionEntry, expected: ExpectedDigest, known: DecisionRecord): Promise<GateOutcome> {
    const version = entry.version;
    if (REFUSING_STATES.has(known.state) && this.deps.config.mode === 'enforce') return { kind: 'refuse', name, version, record: known };
    const bytes = await this.readVerified(name, version, entry, expected);
    return { kind: 'serve', name, version, bytes, record: known, failure: null, pending: false };
  }

  /** Decision for (name, version) if it applies to these bytes and these rules; LRU first, then the store. */
  async knownDecision(name: string, version: string, sri: string): Promise<DecisionRecord | null> {
    const cached = this.decisions.get(key(name, version));
    if (cached !== undefined && this.applies(cached, sri)) {
      this.deps.observer?.cacheLookup?.('lru');
      return cached;
    }
    const stored = await this.storeCall(() => this.deps.store.getDecision({ name, version }));
    if (stored === null || !this.applies(stored, sri)) {
      this.deps.observer?.cacheLookup?.('miss');
      return null;
    }
    this.deps.observer?.cacheLookup?.('store');
    this.decisions.set(key(name, version), stored);
    return stored;
  }

  /** Human decisions hold for the bytes they were made on; automatic ones also need the same rules. */
  private applies(record: DecisionRecord, sri: string): boolean {
    if (record.integrity !== sri) return false;
    if (record.state === 'approved' || record.state === 'denied') return true;
    return record.rulesVersion === this.deps.rulesVersion;
  }

  private failsOpen(): boolean {
    return this.deps.config.onError === 'allow' || this.deps.config.mode === 'monitor';
  }

  private async decideNew(
    name: string,
    entry: VersionEntry,
    view: PackumentView,
    expected: ExpectedDigest | null,
    release: (bytes: Buffer) => void = () => undefined,
  ): Promise<Decided> {
    const version = entry.version;
    const bytes = await this.readBytes(name, entry);
    if (expected !== null && !matchesDigest(bytes, expected)) {
      throw new GateError('CAPGATE_INTEGRITY_MISMATCH', `the tarball does not match the packument's ${expected.algorithm} integrity`, {
        name,
        version,
        expected: expected.sri,
        actual: expected.algorithm === 'sha512' ? sha512Sri(bytes) : undefined,
      });
    }
    const sri = expected?.sri ?? sha512Sri(bytes);
    if (expected === null) {
      const known = await this.knownDecision(name, version, sri);
      if (known !== null) return { record: known, bytes, failure: null };
    }
    try {
      const record = await this.once(`decision:${key(name, version)}#${sri}`, name, version, () => this.knownDecision(name, version, sri), () => this.analyseAndDecide(name, version, sri, bytes, view, release));
      return { record, bytes, failure: null };
    } catch (e) {
      const err = toGateError(e);
      if (FAIL_OPEN_CODES.has(err.code) && this.failsOpen()) {
        this.deps.logger.error({ pkg: name, version, code: err.code, err: err.message }, 'capgate: serving @{pkg}@@{version} undecided after @{code} (onError: allow or monitor)');
        return { record: null, bytes, failure: err };
      }
      throw err;
    }
  }

  /** Runs `work` through the coordinator (once across instances) when there is one. */
  private once<T>(k: string, name: string, version: string, lookup: () => Promise<T | null>, work: () => Promise<T>): Promise<T> {
    const coordinator = this.deps.coordinator;
    if (coordinator === undefined) return work();
    return coordinator.once({ key: k, name, version, lookup: async () => (await lookup()) ?? undefined, work });
  }

  private async analyseAndDecide(name: string, version: string, sri: string, bytes: Buffer, view: PackumentView, release: (bytes: Buffer) => void): Promise<DecisionRecord> {
    const prefetch = this.prefetchBaseline(name, version, view);
    try {
      // The policy may be known already (analysed as another version's baseline or dependency).
      const result = await this.sharedPolicy(name, version, sri, async () => bytes, false);
      if (!result.ok) throw result.error;
      const policy = result.policy;
      // A version that can do nothing and depends on nothing gains nothing against any baseline:
      // it is served now, and its baseline is named but not analysed (the analysis pool is what a
      // cold install waits on), so its decision (allow) is only a few store calls away.
      const trivial = canGainNothing(policy);
      // Otherwise it is served now when no baseline can make it refused; what its decision still
      // needs (baseline, dependencies) is analysed in the background, after the jobs requests wait on.
      const background = !trivial && this.releasable(name, policy);
      // In enforce mode, a version with no block-tier capability can still be held for what new
      // dependencies pass on: not when its dependencies are those its baseline declares.
      const pinned = trivial || background ? null : await this.inheritsNothing(name, version, view, policy);
      const early = background || pinned !== null;
      // A store write takes a few hundred ms while a cold install keeps the store busy: requests
      // wait for no decision that cannot refuse.
      if (trivial || early) release(bytes);
      const baseline = await this.findBaseline(name, version, view, { analyse: !trivial, background: early, pinned });
      if (pinned !== null && baseline.version !== pinned.version) {
        // The baseline was held or denied in the meantime: the decision is made against the next one.
        this.deps.logger.warn({ pkg: name, version, pinned: pinned.version, baseline: baseline.version ?? 'none' }, 'capgate: @{pkg}@@{version} was served against baseline @{pinned}, which is no longer usable; deciding against @{baseline}');
      }
      return await this.decide(name, version, sri, policy, baseline, early);
    } finally {
      // Unused (no analysis needed it): drop the bytes.
      if (prefetch !== null && this.prefetched.get(prefetch.key) === prefetch.bytes) this.prefetched.delete(prefetch.key);
    }
  }

  /**
   * On a cold install the nearest earlier version is usually needed as the baseline (trust on first
   * use) right after the new version's analysis: read its tarball (through Verdaccio's storage, so
   * from the uplink when not cached) while the analysis runs, instead of after it. Only when no
   * policy of it is stored yet. The read bytes are only a head start: policyOf still checks them
   * against the packument's integrity before anything analyses them, and a failed read is simply
   * done again there, with its own error.
   */
  private prefetchBaseline(name: string, version: string, view: PackumentView): { key: string; bytes: Promise<Buffer | null> } | null {
    const entry = baselineCandidates(view, version)[0];
    if (entry === undefined) return null;
    const k = key(name, entry.version);
    if (this.prefetched.has(k)) return null;
    const bytes = (async (): Promise<Buffer | null> => {
      const stored = await this.deps.store.getPolicy({ name, version: entry.version });
      if (stored !== null && stored.policy.rulesVersion === this.deps.rulesVersion) return null;
      return await this.readBytes(name, entry);
    })().catch(() => null);
    this.prefetched.set(k, bytes);
    return { key: k, bytes };
  }

  /**
   * True when no baseline and no dependency can make this version refused, so it may be served
   * before its decision: in monitor mode (never refuses), and in enforce mode when it has no
   * capability of the `block` tier (for this package) and no dependency whose inherited capabilities
   * or `new-dependency` flag could gain one. The decision (allow or flag) is still made and recorded.
   */
  releasable(name: string, policy: PackagePolicy): boolean {
    const { config } = this.deps;
    if (config.mode === 'monitor') return true;
    const tierOf = this.tierOf(name);
    if (policy.capabilities.some((id) => tierOf(id) === 'block')) return false;
    const deps = Object.keys(policy.dependencies).filter((d) => !d.startsWith('@types/'));
    if (deps.length === 0) return true;
    return config.transitive.depth <= 0 && tierOf('new-dependency') !== 'block';
  }

  /**
   * Enforce mode, a version with no capability of the `block` tier (for this package) but with
   * dependencies: its decision could only hold it for what new or re-ranged dependencies pass on,
   * or for a new dependency when `new-dependency` is raised to the block tier. Against the baseline
   * it will be diffed with (the nearest earlier version not held or denied), that is nothing when
   * every registry dependency is declared there too, with the same range or with one that resolves
   * to the same version (inheritDependencies counts neither; new `@types/*` ones only raise the
   * `new-dependency` flag). Then the decision can only allow or flag, and this returns that
   * baseline's version and dependencies; else null. They come from the baseline's stored policy, or
   * from the package.json in its verified bytes (already read early, see prefetchBaseline), read
   * with the analyzer's own unpacking; never from the packument. Ranges resolve over the packuments
   * clients see, as inheritDependencies resolves them. The decision then keeps to that baseline
   * (findBaseline's `pinned`). Never throws: null when unsure.
   */
  private async inheritsNothing(name: string, version: string, view: PackumentView, policy: PackagePolicy): Promise<PinnedBaseline | null> {
    const { config } = this.deps;
    const readManifest = this.deps.manifestOf;
    if (readManifest === undefined || config.mode !== 'enforce') return null;
    const tierOf = this.tierOf(name);
    if (policy.capabilities.some((id) => tierOf(id) === 'block')) return null;
    try {
      const candidates = baselineCandidates(view, version);
      const entry = candidates.length === 0 ? undefined : (await this.usableCandidates(name, candidates))[0];
      if (entry === undefined) return null;
      const digest = expectedDigest(entry.integrity, entry.shasum);
      if (!digest.ok) return null;
      let dependencies: Readonly<Record<string, string>>;
      const stored = await this.storeCall(() => this.deps.store.getPolicy({ name, version: entry.version }));
      if (stored !== null && stored.integrity === digest.expected.sri && stored.policy.rulesVersion === this.deps.rulesVersion) {
        dependencies = stored.policy.dependencies;
      } else {
        const early = this.prefetched.get(key(name, entry.version));
        const bytes = early === undefined ? null : await early;
        if (bytes === null || !matchesDigest(bytes, digest.expected)) return null;
        const manifest = await readManifest(bytes);
        if (manifest === null || manifest.name !== name || !sameVersion(manifest.version, entry.version)) return null;
        dependencies = manifest.dependencies;
      }
      const added = Object.keys(policy.dependencies).some((d) => !Object.prototype.hasOwnProperty.call(dependencies, d));
      if (added && tierOf('new-dependency') === 'block') return null;
      const base = { ...emptyPolicy(name, entry.version, this.deps.rulesVersion), dependencies: { ...dependencies } };
      for (const change of changedDependencies(base, policy)) {
        if (change.alias.startsWith('@types/') || change.name.startsWith('@types/')) continue;
        if (change.previousRange === null) return null;
        const raw = await this.deps.registry.getPackument(change.name, undefined);
        const packument = this.deps.visiblePackument === undefined ? raw : await this.deps.visiblePackument(raw);
        const now = pickVersion(packument, change.range);
        if (now !== null && now !== pickVersion(packument, change.previousRange)) return null;
      }
      return { version: entry.version, dependencies };
    } catch (e) {
      this.deps.logger.debug({ pkg: name, version, err: errorMessage(e) }, 'capgate: could not compare the dependencies of @{pkg}@@{version} with its baseline: @{err}');
      return null;
    }
  }

  private async decide(name: string, version: string, sri: string, policy: PackagePolicy, baseline: BaselineChoice, background = false): Promise<DecisionRecord> {
    const { config } = this.deps;
    const approved = await this.approvedCapabilities(name, version);
    const tiers = tiersFor(config, name);
    const diffOpts: DiffOptions = { tiers, newPackage: newPackagePolicyFor(config, name) };
    if (approved.length > 0) diffOpts.approvedCapabilities = approved;
    // Earlier versions exist but none can serve as a baseline: compare with nothing at all, so that
    // every block-tier capability counts as gained (never the lenient brand-new policy).
    const basePolicy =
      baseline.noneUsable || (baseline.version !== null && baseline.policy === null) ? emptyPolicy(name, '0.0.0', this.deps.rulesVersion) : baseline.policy;
    const inheritance = await this.inherit(name, version, basePolicy, policy, background);
    let diffBase = basePolicy;
    if (inheritance !== null) {
      diffOpts.dependencyPolicies = inheritance.dependencyPolicies;
      // A re-ranged dependency that now resolves to another known version is diffed as new, with
      // only what the new resolution has beyond the old one (plugin/transitive/inherit.ts).
      if (basePolicy !== null && inheritance.reranged.length > 0) {
        const deps: Record<string, string> = { ...basePolicy.dependencies };
        for (const alias of inheritance.reranged) delete deps[alias];
        diffBase = { ...basePolicy, dependencies: deps };
      }
    }
    let raw = this.deps.diff(diffBase, policy, diffOpts);
    if (diffBase !== basePolicy && basePolicy !== null) {
      const before = basePolicy.dependencies;
      raw = { ...raw, details: { ...raw.details, newDependencies: raw.details.newDependencies.filter((d) => !Object.prototype.hasOwnProperty.call(before, d)) } };
    }
    const diff: PolicyDiff = withIncomplete({ ...raw, baseline: baseline.version }, basePolicy, policy, inheritance, (id) => tiers[id] ?? DEFAULT_TIERS[id]);
    const state: VersionState = diff.decision === 'block' ? 'held' : diff.decision === 'flag' ? 'flagged' : 'allowed';
    const draft: Omit<DecisionRecord, 'createdAt' | 'updatedAt'> = {
      name,
      version,
      integrity: sri,
      rulesVersion: this.deps.rulesVersion,
      state,
      automatic: diff.decision,
      mode: config.mode,
      baseline: baseline.version,
      diff,
      by: 'capgate',
      reason: decisionReason(diff),
    };
    let record: DecisionRecord;
    try {
      record = await this.storeCall(() => this.deps.store.setDecision({ record: draft, at: this.now() }));
    } catch (e) {
      // A hold is still a hold when it cannot be written down; anything else falls to onError.
      if (state !== 'held') throw e;
      const at = this.now().toISOString();
      record = { ...draft, createdAt: at, updatedAt: at };
      this.deps.logger.error({ pkg: name, version, code: 'CAPGATE_STORE_UNAVAILABLE' }, 'capgate: could not store the hold of @{pkg}@@{version}; refusing anyway');
      return record;
    }
    this.decisions.set(key(name, version), record);
    this.deps.observer?.decided?.(record);
    this.deps.onChange?.(name, version);
    const fields = { pkg: name, version, state, baseline: baseline.version ?? 'none', gained: diff.gained.join(','), mode: config.mode };
    if (state === 'allowed') this.deps.logger.info(fields, 'capgate: @{state} @{pkg}@@{version} (baseline @{baseline}, mode @{mode})');
    else this.deps.logger.warn(fields, 'capgate: @{state} @{pkg}@@{version}: gained @{gained} (baseline @{baseline}, mode @{mode})');
    return record;
  }

  /** Dependency policies for the diff (issue 5); null when inheritance is off. Never throws. */
  private async inherit(name: string, version: string, basePolicy: PackagePolicy | null, policy: PackagePolicy, background: boolean): Promise<Inheritance | null> {
    const t = this.deps.config.transitive;
    if (t.depth <= 0 || Object.keys(policy.dependencies).length === 0) return null;
    try {
      const result = await inheritDependencies({ name, version }, basePolicy, policy, {
        depth: t.depth,
        maxDependencies: t.maxDependencies,
        timeoutMs: t.timeoutMs,
        getPackument: async (dep) => {
          const raw = await this.deps.registry.getPackument(dep, undefined);
          return this.deps.visiblePackument === undefined ? raw : await this.deps.visiblePackument(raw);
        },
        policyOf: (dep, entry) => this.policyOf(dep, entry, background),
      });
      if (result.resolved.length > 0) {
        this.deps.logger.debug({ pkg: name, version, deps: result.resolved.join(',') }, 'capgate: @{pkg}@@{version} inherits from @{deps}');
      }
      return result;
    } catch (e) {
      this.deps.logger.warn({ pkg: name, version, err: errorMessage(e) }, 'capgate: dependencies of @{pkg}@@{version} not resolved: @{err}');
      return null;
    }
  }

  /**
   * Nearest lower version (semver precedence; prereleases only against the same line's
   * prereleases or lower releases) whose decision is not held or denied. Versions the gate never
   * saw are trusted on first use: their policy is computed from their tarball and stored.
   * Infrastructure failures propagate (so onError applies); a broken earlier tarball is skipped.
   */
  async findBaseline(
    name: string,
    version: string,
    view: PackumentView,
    opts: { analyse: boolean; background?: boolean; pinned?: PinnedBaseline | null } = { analyse: true },
  ): Promise<BaselineChoice> {
    const candidates = baselineCandidates(view, version);
    if (candidates.length === 0) return { version: null, policy: null, noneUsable: false };
    for (const c of await this.usableCandidates(name, candidates)) {
      if (!opts.analyse) return { version: c.version, policy: null, noneUsable: false };
      const policy = await this.policyOf(name, c, opts.background === true);
      if (policy !== null) return { version: c.version, policy, noneUsable: false };
      const pinned = opts.pinned;
      if (pinned !== undefined && pinned !== null && pinned.version === c.version) {
        // The version was served against this baseline's dependencies, read from its package.json,
        // but its code could not be analysed: none of its capabilities count (all of the new
        // version's are gained), its dependencies do (as read).
        this.deps.logger.warn({ pkg: name, version, baseline: c.version }, 'capgate: deciding @{pkg}@@{version} against the dependencies of @{baseline} only (its code could not be analysed)');
        return { version: c.version, policy: { ...emptyPolicy(name, c.version, this.deps.rulesVersion), dependencies: { ...pinned.dependencies } }, noneUsable: false };
      }
    }
    return { version: null, policy: null, noneUsable: true };
  }

  /** Baseline candidates (nearest first) whose decision is not held or denied, at most `maxBaselineCandidates`. */
  private async usableCandidates(name: string, candidates: readonly VersionEntry[]): Promise<VersionEntry[]> {
    const refused = new Set<string>();
    for (const r of await this.storeCall(() => this.deps.store.listDecisions({ name }))) if (REFUSING_STATES.has(r.state)) refused.add(r.version);
    return candidates.filter((c) => !refused.has(c.version)).slice(0, this.deps.config.maxBaselineCandidates);
  }

  /** The tier of each capability for this package (`tiers`, `packageTiers`, then the defaults). */
  private tierOf(name: string): (id: CapabilityId) => Tier {
    const tiers = tiersFor(this.deps.config, name);
    return (id) => tiers[id] ?? DEFAULT_TIERS[id];
  }

  /** Stored policy of an earlier version for these bytes and rules, else computed now (single-flight). */
  private async policyOf(name: string, entry: VersionEntry, background: boolean): Promise<PackagePolicy | null> {
    const digest = expectedDigest(entry.integrity, entry.shasum);
    if (!digest.ok) {
      this.deps.logger.debug({ pkg: name, version: entry.version, reason: digest.reason }, 'capgate: skipping baseline candidate @{pkg}@@{version}');
      return null;
    }
    const expected = digest.expected;
    const result = await this.sharedPolicy(name, entry.version, expected.sri, async () => {
      const k = key(name, entry.version);
      const early = this.prefetched.get(k);
      this.prefetched.delete(k);
      const bytes = (early === undefined ? null : await early) ?? (await this.readBytes(name, entry));
      if (!matchesDigest(bytes, expected)) throw new GateError('CAPGATE_INTEGRITY_MISMATCH', 'baseline tarball does not match its integrity');
      return bytes;
    }, background);
    if (result.ok) return result.policy;
    // A broken earlier tarball cannot serve as a baseline; infrastructure failures propagate.
    if (BASELINE_SKIP_CODES.has(result.error.code)) return this.skip(name, entry.version, result.error);
    throw result.error;
  }

  /**
   * The policy of exactly these bytes (name, version, integrity, rules): the stored one, else one
   * analysis shared by every caller in this process (single-flight) and across instances (the
   * coordinator's `policy:` lease), stored for the next caller. Failures are results, not throws,
   * so each caller applies its own rule (a decision fails, a baseline is skipped).
   */
  private sharedPolicy(name: string, version: string, sri: string, readBytes: () => Promise<Buffer>, background: boolean): Promise<PolicyResult> {
    const k = `${key(name, version)}#${sri}`;
    const existing = this.policyFlights.get(k);
    if (existing !== undefined) {
      // A request now waits on what was background work: it runs as foreground from now on.
      if (!background && existing.priority.background) {
        existing.priority.background = false;
        this.deps.analyzer.poke?.();
      }
      return existing.result;
    }
    const priority = { background };
    const stored = async (): Promise<PolicyResult | null> => {
      const s = await this.storeCall(() => this.deps.store.getPolicy({ name, version }));
      return s !== null && s.integrity === sri && s.policy.rulesVersion === this.deps.rulesVersion ? { ok: true, policy: s.policy } : null;
    };
    const result = (async (): Promise<PolicyResult> => (await stored()) ?? this.once(`policy:${k}`, name, version, stored, () => this.analysePolicy(name, version, sri, readBytes, priority)))()
      .catch((e: unknown): PolicyResult => ({ ok: false, error: toGateError(e, { name, version }) }))
      .finally(() => this.policyFlights.delete(k));
    this.policyFlights.set(k, { result, priority });
    return result;
  }

  private async analysePolicy(name: string, version: string, sri: string, readBytes: () => Promise<Buffer>, priority: { readonly background: boolean }): Promise<PolicyResult> {
    try {
      const policy = await this.analyze(name, version, await readBytes(), priority);
      if (policy.name !== name || !sameVersion(policy.version, version)) {
        const error = new GateError('CAPGATE_MANIFEST_MISMATCH', `the tarball's package.json says ${policy.name || '(no name)'}@${policy.version || '(no version)'}`, {
          name,
          version,
          found: { name: policy.name, version: policy.version },
        });
        return { ok: false, error };
      }
      await this.storeCall(() => this.deps.store.putPolicy({ name, version, integrity: sri, policy }));
      return { ok: true, policy };
    } catch (e) {
      return { ok: false, error: toGateError(e, { name, version }) };
    }
  }

  private skip(name: string, version: string, err: GateError): null {
    this.deps.logger.warn({ pkg: name, version, code: err.code, err: err.message }, 'capgate: @{pkg}@@{version} cannot serve as a baseline (@{code})');
    return null;
  }

  private async approvedCapabilities(name: string, version: string): Promise<CapabilityId[]> {
    const approvals = await this.storeCall(() => this.deps.store.listScopedApprovals({ name }));
    const now = this.now().getTime();
    const ids = new Set<CapabilityId>();
    for (const a of approvals) {
      if (a.expiresAt !== null && Date.parse(a.expiresAt) <= now) continue;
      if (semver.validRange(a.range) === null || !semver.satisfies(version, a.range, { includePrerelease: true })) continue;
      ids.add(a.capability);
    }
    return [...ids].sort();
  }

  private async readBytes(name: string, entry: VersionEntry): Promise<Buffer> {
    return this.deps.registry.readTarball(name, entry.filename, this.deps.config.analysis.maxTarballBytes);
  }

  private async readVerified(name: string, version: string, entry: VersionEntry, expected: ExpectedDigest): Promise<Buffer> {
    const bytes = await this.readBytes(name, entry);
    if (!matchesDigest(bytes, expected)) {
      throw new GateError('CAPGATE_INTEGRITY_MISMATCH', `the tarball does not match the packument's ${expected.algorithm} integrity`, { name, version, expected: expected.sri });
    }
    return bytes;
  }

  private async analyze(name: string, version: string, bytes: Uint8Array, priority: { readonly background: boolean }): Promise<PackagePolicy> {
    try {
      // Foreground jobs pass no priority (the plain call); background ones the live object.
      return await this.deps.analyzer.analyze(bytes, priority.background ? { affinity: name, background: priority } : { affinity: name });
    } catch (e) {
      throw toGateError(e, { name, version });
    }
  }

  private async storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof GateError) throw e;
      const code = errorCode(e);
      if (code === 'CAPGATE_POLICY_STORE_INVALID_KEY') throw new GateError('CAPGATE_BAD_REQUEST', errorMessage(e), {}, { cause: e });
      throw new GateError('CAPGATE_STORE_UNAVAILABLE', `policy store: ${errorMessage(e)}`, {}, { cause: e });
    }
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** Maps analyzer and unknown errors onto the catalogue (the analyzer's codes are the same names). */
export function toGateError(e: unknown, details: Readonly<Record<string, unknown>> = {}): GateError {
  if (e instanceof GateError) return e;
  const code = errorCode(e);
  if (code !== null && ANALYZER_CODES.has(code)) return new GateError(code as GateErrorCode, errorMessage(e), details, { cause: e });
  return new GateError('CAPGATE_INTERNAL', errorMessage(e), details, { cause: e });
}

function errorCode(e: unknown): string | null {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') return (e as { code: string }).code;
  return null;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function key(name: string, version: string): string {
  return `${name}@${version}`;
}

function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = semver.parse(a);
  const pb = semver.parse(b);
  return pa !== null && pb !== null && pa.compare(pb) === 0 && pa.build.join('.') === pb.build.join('.');
}

/**
 * New dependencies whose known policy is incomplete (a dependency of theirs could not be known
 * within the bounds) keep a `new-dependency` flag beside what they pass on: analyzer/diff.ts only
 * flags dependencies whose policy is entirely unknown.
 */
export function withIncomplete(diff: PolicyDiff, base: PackagePolicy | null, next: PackagePolicy, inheritance: Inheritance | null, tierOf: (id: CapabilityId) => Tier): PolicyDiff {
  if (base === null || inheritance === null || inheritance.incomplete.length === 0) return diff;
  const evidence = { ...diff.evidence };
  const flagged = new Set((evidence['new-dependency'] ?? []).map((e) => e.api));
  const extra = inheritance.incomplete
    .filter((d) => !flagged.has('dep:' + d))
    .map((d) => ({ file: 'package.json', line: 0, column: 0, api: 'dep:' + d, snippet: `"${d}": ${JSON.stringify(next.dependencies[d] ?? '')}`.slice(0, 120) }));
  if (extra.length === 0) return diff;
  evidence['new-dependency'] = [...(evidence['new-dependency'] ?? []), ...extra];
  const gained = diff.gained.includes('new-dependency') ? diff.gained : [...diff.gained, 'new-dependency' as const].sort();
  const tier = tierOf('new-dependency');
  const decision = diff.decision === 'block' || tier === 'block' ? 'block' : 'flag';
  return { ...diff, gained, evidence, decision };
}

/** True when a diff against any baseline is empty: no capabilities, dependencies or install scripts. */
export function canGainNothing(policy: PackagePolicy): boolean {
  return policy.capabilities.length === 0 && Object.keys(policy.dependencies).length === 0 && Object.keys(policy.installScripts).length === 0;
}

