// Owns the Verdaccio middleware plugin `capgate` (config key `capgate` under `middlewares`):
// validates its config, wires the policy store, the analyzer pool and the gate, and mounts the
// routes before Verdaccio's own router. The same class is the filter plugin (`filters: capgate:`,
// filter_metadata); both instances share one core (see CapgateCore). Verdaccio 6 loads it from the `plugins:` folder as
// `verdaccio-capgate` (plugin/loader/verdaccio-capgate.ts) and calls
// `new Plugin(config, { config: verdaccioConfig, logger })`, then `register_middlewares(app, auth, storage)`.
import * as path from 'node:path';
import type { Application } from 'express';
import { RULES_VERSION, diffPolicies, manifestOf } from '../analyzer';
import { AnalyzerPool, DEFAULT_ANALYSIS_THREADS } from '../analyzer/pool';
import { AlertDispatcher } from '../alerts/dispatcher';
import { createStore } from '../policy-store';
import { createCluster, selectedStoreType } from './cluster';
import type { Cluster } from './cluster';
import type { PolicyStore } from '../policy-store/store';
import { parseConfig } from './config';
import type { PluginConfig } from './config';
import { ConfigError, GateError } from './errors';
import { Gate } from './gate';
import type { DiffFn, GateLogger, TarballAnalyzer } from './gate';
import { mountReview } from './review/mount';
import { capgateApi } from './routes/api';
import { tarballGate } from './routes/tarball-gate';
import { BackgroundQueue } from './filter/background';
import { skipFilterCheckForGate, unfilteredSource } from './filter/bypass';
import { DecisionIndex } from './filter/decision-index';
import { MetadataFilter } from './filter/metadata-filter';
import type { PackumentLike } from './filter/packument-filter';
import { viewPackument } from './packument';
import { VerdaccioRegistrySource } from './verdaccio-source';
import type { VerdaccioAuth, VerdaccioStorage } from './verdaccio-source';

export { parseConfig, DEFAULT_CONFIG } from './config';
export type { PluginConfig } from './config';
export { Gate } from './gate';
export type { GateOutcome, RegistrySource, TarballAnalyzer } from './gate';
export { GateError, ConfigError, GATE_ERROR_CODES, GATE_ERROR_DESCRIPTIONS } from './errors';
export { HTTP_STATUS_BY_CODE } from './http-errors';
export { parseTarballRequest } from './tarball-url';

/** The part of Verdaccio's Config the plugin reads. */
export interface VerdaccioConfigLike {
  readonly storage?: unknown;
  readonly configPath?: unknown;
  readonly self_path?: unknown;
  readonly middlewares?: unknown;
  readonly filters?: unknown;
}

export interface PluginOptions {
  readonly config: VerdaccioConfigLike;
  readonly logger: GateLogger;
}

/** Replacements for tests and for other stores (issue 4's PostgreSQL store). */
export interface PluginOverrides {
  readonly store?: PolicyStore;
  readonly analyzer?: TarballAnalyzer & { close?: () => Promise<void> };
  readonly diff?: DiffFn;
  readonly rulesVersion?: string;
}

/**
 * Everything one gated registry process holds once, whichever of the middleware and the filter
 * plugin Verdaccio constructs first: Verdaccio 6.8 builds the filter instance (storage.init) before
 * the middleware instance (api/index.js), from the same Config object, so both find one core in
 * CORES (keyed by that object) and share one store, one analyzer pool, one gate and one index.
 */
class CapgateCore {
  readonly config: PluginConfig;
  readonly store: PolicyStore;
  readonly storeDir: string | null;
  readonly logger: GateLogger;
  readonly analyzer: TarballAnalyzer & { close?: () => Promise<void> };
  readonly diff: DiffFn;
  readonly rulesVersion: string;
  readonly cluster: Cluster;
  readonly alerts: AlertDispatcher | null;
  /** Decisions per package for the metadata filter, dropped on every decision change. */
  readonly index: DecisionIndex;
  readonly filter: MetadataFilter;
  readonly background: BackgroundQueue;
  readonly injectedStore: boolean;
  gate: Gate | null = null;
  private initPromise: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(config: PluginConfig, options: PluginOptions, overrides: PluginOverrides) {
    this.logger = options.logger;
    this.config = config;
    LIVE_CORES.add(this);
    this.rulesVersion = overrides.rulesVersion ?? RULES_VERSION;
    this.diff = overrides.diff ?? diffPolicies;
    this.injectedStore = overrides.store !== undefined;
    if (overrides.store !== undefined) {
      this.store = overrides.store;
      this.storeDir = null;
    } else {
      const opened = openStore(this.config, options.config, this.logger);
      this.storeDir = opened.dir;
      this.store = opened.store;
    }
    if (overrides.analyzer !== undefined) {
      this.analyzer = overrides.analyzer;
    } else {
      const a = this.config.analysis;
      // Every worker stays alive between installs (minThreads = threads): a worker started for a
      // burst of requests loads the analyzer and compiles it again, and loses its scan cache.
      const threads = a.threads ?? DEFAULT_ANALYSIS_THREADS;
      const poolOpts: { threads: number; minThreads: number; timeoutMs: number; maxHeapMb?: number } = { threads, minThreads: threads, timeoutMs: a.timeoutMs };
      if (a.maxHeapMb !== null) poolOpts.maxHeapMb = a.maxHeapMb;
      const pool = new AnalyzerPool(poolOpts);
      // Load and JIT-compile the analyzer in every worker now, so the first tarballs requested do
      // not pay for cold workers (best effort: warmUp never rejects).
      void pool.warmUp();
      this.analyzer = pool;
    }
    this.cluster = createCluster({ config: this.config, store: this.store, logger: this.logger });
    const { targets, publicUrl } = this.config.alerts;
    // Claims are taken as this instance (unique per process), so two instances never deliver one event at once.
    this.alerts =
      targets.length === 0
        ? null
        : new AlertDispatcher({
            store: this.store,
            targets,
            owner: this.cluster.owner,
            ...(publicUrl === null ? {} : { publicUrl }),
            logger: this.logger,
            onResult: this.cluster.onDeliveryResult,
          });
    // The store is initialised on first use, also when only the filter is configured.
    this.index = new DecisionIndex({ listDecisions: async (q) => (await this.ready(), this.store.listDecisions(q)) }, this.config.cacheSize);
    const bg = this.config.background;
    this.background = new BackgroundQueue({ concurrency: bg.concurrency, queueSize: bg.queueSize, maxWaitMs: bg.maxWaitMs, logger: this.logger });
    this.filter = new MetadataFilter({
      index: this.index,
      mode: this.config.mode,
      rulesVersion: this.rulesVersion,
      maxBackgroundVersions: bg.maxVersions,
      onUndecided: (name, packument, versions) => this.analyseAhead(name, packument, versions),
      logger: this.logger,
    });
    this.logger.info(
      { mode: this.config.mode, onError: this.config.onError, store: this.storeDir ?? (overrides.store === undefined ? 'postgres' : 'injected'), rules: this.rulesVersion, instance: this.cluster.instanceId },
      'capgate: loaded (mode @{mode}, onError @{onError}, store @{store}, rules @{rules}, instance @{instance})',
    );
  }

  /** Initialises the store once; a failed attempt is retried by the next caller. */
  ready(): Promise<void> {
    if (this.initPromise === null) {
      this.initPromise = this.store.init().catch((e: unknown) => {
        this.initPromise = null;
        throw new GateError('CAPGATE_STORE_UNAVAILABLE', `policy store: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
      });
    }
    return this.initPromise;
  }

  /** Background analysis of the newest undecided versions of a packument (needs the gate: the middleware). */
  private analyseAhead(name: string, packument: unknown, versions: readonly string[]): void {
    const gate = this.gate;
    if (gate === null) return;
    const view = viewPackument(packument);
    for (const version of versions) {
      const entry = view.versions.get(version);
      if (entry === undefined) continue;
      this.background.enqueue(`${name}@${version}`, () => this.ready().then(() => gate.warm({ name, entry, view })));
    }
  }

  close(): Promise<void> {
    if (this.closing === null) {
      LIVE_CORES.delete(this);
      this.closing = (async () => {
        this.background.close();
        this.cluster.close();
        await this.alerts?.stop();
        await this.analyzer.close?.();
        await this.store.close();
      })();
    }
    return this.closing;
  }
}

/** Cores not yet closed in this process, so that `capgate serve` can release leases, claims and workers on SIGTERM. */
const LIVE_CORES = new Set<CapgateCore>();

/** Closes every capgate core of this process (shutdown of `capgate serve`). */
export async function closeAllCores(): Promise<void> {
  await Promise.all([...LIVE_CORES].map((core) => core.close()));
}

/** One core per Verdaccio Config object (the middleware and the filter plugin share it). */
const CORES = new WeakMap<object, CapgateCore>();

export default class CapgatePlugin {
  private readonly core: CapgateCore;

  constructor(pluginConfig: unknown, options: PluginOptions, overrides: PluginOverrides = {}) {
    const shareable = Object.keys(overrides).length === 0 && typeof options.config === 'object' && options.config !== null;
    const existing = shareable ? CORES.get(options.config) : undefined;
    if (existing !== undefined) {
      this.core = existing;
      return;
    }
    // Verdaccio merges the whole server config into a plugin's first argument
    // (@verdaccio/loaders legacyMergeConfigs), so the block itself is read from the server config.
    this.core = new CapgateCore(parseConfig(ownBlock(options.config, pluginConfig)), options, overrides);
    if (shareable) CORES.set(options.config, this.core);
  }

  get config(): PluginConfig {
    return this.core.config;
  }
  get store(): PolicyStore {
    return this.core.store;
  }
  get storeDir(): string | null {
    return this.core.storeDir;
  }
  get logger(): GateLogger {
    return this.core.logger;
  }
  /** Instance id, analysis leases, cache invalidation and metrics (plugin/cluster). */
  get cluster(): Cluster {
    return this.core.cluster;
  }
  /** Webhook alerts from the store's outbox; null without `alerts.targets`. */
  get alerts(): AlertDispatcher | null {
    return this.core.alerts;
  }
  /** Set by register_middlewares. */
  get gate(): Gate | null {
    return this.core.gate;
  }
  /** Background analysis at packument time (tests wait for it with `background.idle()`). */
  get background(): BackgroundQueue {
    return this.core.background;
  }

  /** Initialises the store once; a failed attempt is retried by the next caller. */
  ready(): Promise<void> {
    return this.core.ready();
  }

  /**
   * Verdaccio filter plugin hook (`filters: capgate:`): hides held and denied versions (enforce
   * mode), repoints dist-tags, and starts background analysis of the newest undecided versions.
   */
  filter_metadata<T extends PackumentLike>(manifest: T): Promise<T> {
    return this.core.filter.filterMetadata(manifest);
  }

  register_middlewares(app: Application, auth: VerdaccioAuth, storage: VerdaccioStorage): void {
    const core = this.core;
    // The gate reads packuments and tarballs past capgate's own filter (plugin/filter/bypass.ts).
    skipFilterCheckForGate(storage);
    const gate = new Gate({
      config: core.config,
      store: core.store,
      registry: unfilteredSource(new VerdaccioRegistrySource(storage)),
      analyzer: core.cluster.instrument(core.analyzer),
      diff: core.diff,
      rulesVersion: core.rulesVersion,
      logger: core.logger,
      onChange: (name) => core.index.invalidate(name),
      visiblePackument: (packument) => core.filter.visible(packument as PackumentLike),
      manifestOf: (bytes) => manifestOf(bytes),
      ...core.cluster.gateDeps((record) => {
        if (record.state === 'held' || record.state === 'flagged') void core.alerts?.notify(record.state, record);
      }),
    });
    core.gate = gate;
    core.cluster.attach([(name, version) => gate.invalidate(name, version), (name) => core.index.invalidate(name)]);
    const startAlerts = (): void => {
      // The delivery loop starts once the store is ready (retried while it is not).
      core.ready().then(
        () => {
          if (core.alerts === null) return;
          core.alerts.start();
          // Re-enqueues the alerts of recent decisions, in case an instance died between a decision and its alert.
          core.cluster.sweepAlerts(core.alerts);
        },
        () => void setTimeout(startAlerts, 5000).unref(),
      );
    };
    if (core.alerts !== null) startAlerts();
    core.ready().catch((e: unknown) => {
      core.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'capgate: policy store not ready: @{err}');
    });
    const info = { mode: core.config.mode, onError: core.config.onError, rulesVersion: core.rulesVersion };
    app.use(core.cluster.routes());
    // Verdaccio keeps the filter plugins it loaded in storage.filters: the filter is active for this
    // gate when one of them is a capgate instance on this core (health reports it; `capgate serve` checks).
    const filterActive = (): boolean => {
      const filters = (storage as { filters?: unknown }).filters;
      return Array.isArray(filters) && filters.some((f: unknown) => f instanceof CapgatePlugin && f.core === core);
    };
    const settled = (name: string, version: string): Promise<void> => gate.settled(name, version, core.config.analysis.timeoutMs);
    app.use(capgateApi({ store: core.store, ready: () => core.ready(), auth, logger: core.logger, info, filterActive, settled }));
    mountReview(app, {
      store: core.store,
      reviewers: core.config.reviewers,
      auth,
      ...(core.alerts === null ? {} : { alerts: core.alerts }),
      onDecisionChanged: (name, version) => {
        gate.invalidate(name, version);
        core.cluster.metrics.invalidated('review');
      },
      logger: core.logger,
      ...(core.config.publicUrl === null ? {} : { allowedOrigins: [core.config.publicUrl] }),
    });
    const gateHandler = tarballGate({ gate, auth, logger: core.logger, ready: () => core.ready() });
    app.use(core.cluster.observeTarballs(gateHandler));
  }

  /** Stops background analysis and the analyzer workers and closes the store (tests, shutdown); shared, so once. */
  close(): Promise<void> {
    return this.core.close();
  }
}

/**
 * The plugin block: `middlewares: capgate:` (one config for the gate and the filter). A
 * `filters: capgate:` block only enables the filter; it holds the options when there is no
 * middleware block, and must be empty when there is one (two configs for one gate would disagree).
 */
function ownBlock(config: VerdaccioConfigLike | undefined, fallback: unknown): unknown {
  const mw = blockOf(config?.middlewares);
  const filter = blockOf(config?.filters);
  if (mw.found) {
    if (filter.found && filter.block !== null && filter.block !== undefined && !(typeof filter.block === 'object' && Object.keys(filter.block).length === 0)) {
      throw new ConfigError(['filters.capgate: leave empty (`capgate: {}`) when `middlewares: capgate:` is configured; options belong under middlewares']);
    }
    return mw.block;
  }
  if (filter.found) return filter.block;
  return fallback;
}

function blockOf(section: unknown): { found: boolean; block: unknown } {
  if (typeof section === 'object' && section !== null && 'capgate' in section) return { found: true, block: (section as Record<string, unknown>)['capgate'] };
  return { found: false, block: undefined };
}

function openStore(config: PluginConfig, verdaccio: VerdaccioConfigLike | undefined, logger: GateLogger): { store: PolicyStore; dir: string | null } {
  if (selectedStoreType(config.store.type) === 'postgres') {
    const url = config.store.url ?? process.env['DATABASE_URL'] ?? '';
    if (url === '') throw new ConfigError(['capgate.store.url: required for `type: postgres` or CAPGATE_STORE=postgres (or set DATABASE_URL)']);
    const pg = config.store.schema === null ? { kind: 'postgres' as const, url, logger } : { kind: 'postgres' as const, url, schema: config.store.schema, logger };
    return { store: createStore(pg), dir: null };
  }
  const dir = resolveStoreDir(config, verdaccio);
  return { store: createStore({ kind: 'file', dir, logger }), dir };
}

/** `<verdaccio storage>/.capgate` unless `store.path` says otherwise; relative paths resolve against the config file. */
export function resolveStoreDir(config: PluginConfig, verdaccio: VerdaccioConfigLike | undefined): string {
  const configPath = typeof verdaccio?.configPath === 'string' ? verdaccio.configPath : typeof verdaccio?.self_path === 'string' ? verdaccio.self_path : null;
  const base = configPath === null ? process.cwd() : path.dirname(configPath);
  if (config.store.path !== null) return path.resolve(base, config.store.path);
  const storage = verdaccio?.storage;
  if (typeof storage !== 'string' || storage === '') {
    throw new ConfigError(['capgate.store.path: required when Verdaccio has no `storage` folder (a storage plugin is configured)']);
  }
  return path.resolve(base, storage, '.capgate');
}
