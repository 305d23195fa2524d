// Owns the Verdaccio middleware plugin `capgate` (config key `capgate` under `middlewares`):
// validates its config, wires the policy store, the analyzer pool and the gate, and mounts the
// routes before Verdaccio's own router. Verdaccio 6 loads it from the `plugins:` folder as
// `verdaccio-capgate` (plugin/loader/verdaccio-capgate.ts) and calls
// `new Plugin(config, { config: verdaccioConfig, logger })`, then `register_middlewares(app, auth, storage)`.
import * as path from 'node:path';
import type { Application } from 'express';
import { RULES_VERSION, diffPolicies } from '../analyzer';
import { AnalyzerPool } from '../analyzer/pool';
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

export default class CapgatePlugin {
  readonly config: PluginConfig;
  readonly store: PolicyStore;
  readonly storeDir: string | null;
  readonly logger: GateLogger;
  private readonly analyzer: TarballAnalyzer & { close?: () => Promise<void> };
  private readonly diff: DiffFn;
  private readonly rulesVersion: string;
  private initPromise: Promise<void> | null = null;
  /** Instance id, analysis leases, cache invalidation and metrics (plugin/cluster). */
  readonly cluster: Cluster;
  /** Webhook alerts from the store's outbox; null without `alerts.targets`. */
  readonly alerts: AlertDispatcher | null;
  /** Set by register_middlewares. */
  gate: Gate | null = null;

  constructor(pluginConfig: unknown, options: PluginOptions, overrides: PluginOverrides = {}) {
    this.logger = options.logger;
    // Verdaccio merges the whole server config into a middleware's first argument
    // (@verdaccio/loaders legacyMergeConfigs), so the block itself is read from the server config.
    const own = ownBlock(options.config);
    this.config = parseConfig(own.found ? own.block : pluginConfig);
    this.rulesVersion = overrides.rulesVersion ?? RULES_VERSION;
    this.diff = overrides.diff ?? diffPolicies;
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
      const poolOpts: { threads?: number; timeoutMs: number; maxHeapMb?: number } = { timeoutMs: a.timeoutMs };
      if (a.threads !== null) poolOpts.threads = a.threads;
      if (a.maxHeapMb !== null) poolOpts.maxHeapMb = a.maxHeapMb;
      this.analyzer = new AnalyzerPool(poolOpts);
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

  register_middlewares(app: Application, auth: VerdaccioAuth, storage: VerdaccioStorage): void {
    const gate = new Gate({
      config: this.config,
      store: this.store,
      registry: new VerdaccioRegistrySource(storage),
      analyzer: this.cluster.instrument(this.analyzer),
      diff: this.diff,
      rulesVersion: this.rulesVersion,
      logger: this.logger,
      ...this.cluster.gateDeps((record) => {
        if (record.state === 'held' || record.state === 'flagged') void this.alerts?.notify(record.state, record);
      }),
    });
    this.gate = gate;
    this.cluster.attach([(name, version) => gate.invalidate(name, version)]);
    const startAlerts = (): void => {
      // The delivery loop starts once the store is ready (retried while it is not).
      this.ready().then(
        () => this.alerts?.start(),
        () => void setTimeout(startAlerts, 5000).unref(),
      );
    };
    if (this.alerts !== null) startAlerts();
    this.ready().catch((e: unknown) => {
      this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'capgate: policy store not ready: @{err}');
    });
    const info = { mode: this.config.mode, onError: this.config.onError, rulesVersion: this.rulesVersion };
    app.use(this.cluster.routes());
    app.use(capgateApi({ store: this.store, ready: () => this.ready(), auth, logger: this.logger, info }));
    mountReview(app, {
      store: this.store,
      reviewers: this.config.reviewers,
      auth,
      ...(this.alerts === null ? {} : { alerts: this.alerts }),
      onDecisionChanged: (name, version) => {
        gate.invalidate(name, version);
        this.cluster.metrics.invalidated('review');
      },
      logger: this.logger,
      ...(this.config.publicUrl === null ? {} : { allowedOrigins: [this.config.publicUrl] }),
    });
    const gateHandler = tarballGate({ gate, auth, logger: this.logger, ready: () => this.ready() });
    app.use(this.cluster.observeTarballs(gateHandler));
  }

  /** Stops the analyzer workers and closes the store (tests, shutdown). */
  async close(): Promise<void> {
    this.cluster.close();
    await this.alerts?.stop();
    await this.analyzer.close?.();
    await this.store.close();
  }
}

function ownBlock(config: VerdaccioConfigLike | undefined): { found: boolean; block: unknown } {
  const mw = config?.middlewares;
  if (typeof mw === 'object' && mw !== null && 'capgate' in mw) return { found: true, block: (mw as Record<string, unknown>)['capgate'] };
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
