// Facade of the cluster module (DESIGN.md "Scale"): everything one gated registry needs to work
// beside others on a shared store, built from the plugin config in one call so plugin/index.ts only
// wires it: the instance id, the analysis lease coordinator, cache invalidation on decision changes,
// the metrics (and their route), and the test-only analysis delay.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { DecisionRecord, PolicyStore } from '../../policy-store/store';
import type { PluginConfig } from '../config';
import type { AnalysisCoordinator, GateLogger, GateObserver, TarballAnalyzer } from '../gate';
import { CapgateMetrics, countTarballAnswer, instrumentAnalyzer, metricsRoute } from '../metrics';
import { parseTarballRequest } from '../tarball-url';
import { instanceIdOf, ownerIdOf } from './instance';
import { startAlertSweep } from './alert-sweep';
import type { SweepAlerts } from './alert-sweep';
import { subscribeInvalidation } from './invalidation';
import type { Invalidator } from './invalidation';
import { LeaseCoordinator } from './lease';
import { delayedForTests } from './test-delay';

export { instanceIdOf, ownerIdOf } from './instance';
export { LeaseCoordinator, leaseKey } from './lease';
export type { LeaseCoordinatorOptions, LeaseMetrics, OnceRequest } from './lease';
export { subscribeInvalidation } from './invalidation';
export { startAlertSweep, sweepAlerts } from './alert-sweep';
export type { SweepAlerts, SweepDeps } from './alert-sweep';
export type { Invalidator } from './invalidation';
export { selectedStoreType } from './store-choice';
export { delayedForTests, TEST_DELAY_ENV } from './test-delay';

export interface ClusterOptions {
  readonly config: PluginConfig;
  readonly store: PolicyStore;
  readonly logger: GateLogger;
  /** Default process.env (CAPGATE_INSTANCE_ID, and the test delay under NODE_ENV=test). */
  readonly env?: NodeJS.ProcessEnv;
}

/** The Gate dependencies the cluster provides. */
export interface ClusterGateDeps {
  readonly coordinator: AnalysisCoordinator;
  readonly observer: GateObserver;
  readonly decisionTtlMs: number;
}

export class Cluster {
  readonly instanceId: string;
  /** Owner of this process's analysis leases and outbox claims (unique per process). */
  readonly owner: string;
  readonly metrics: CapgateMetrics;
  readonly coordinator: LeaseCoordinator;
  private readonly config: PluginConfig;
  private readonly store: PolicyStore;
  private readonly logger: GateLogger;
  private readonly env: NodeJS.ProcessEnv;
  private unsubscribe: (() => void) | null = null;
  private stopSweep: (() => void) | null = null;

  constructor(opts: ClusterOptions) {
    this.config = opts.config;
    this.store = opts.store;
    this.logger = opts.logger;
    this.env = opts.env ?? process.env;
    this.instanceId = instanceIdOf(opts.config.cluster.instanceId, this.env);
    this.owner = ownerIdOf(this.instanceId);
    this.metrics = new CapgateMetrics({ instance: this.instanceId, outboxDepth: () => this.store.outboxDepth() });
    const ttlMs = opts.config.cluster.leaseTtlMs;
    this.coordinator = new LeaseCoordinator({
      store: opts.store,
      owner: this.owner,
      ttlMs,
      // A live holder renews its lease; this bounds the wait if it hangs: its own analysis timeout,
      // a baseline's, and two lease lifetimes of slack.
      maxWaitMs: 2 * opts.config.analysis.timeoutMs + 2 * ttlMs,
      metrics: this.metrics,
      logger: opts.logger,
    });
  }

  /** Spread into the Gate's dependencies. `onDecided` also hears of every automatic decision stored (alerts). */
  gateDeps(onDecided?: (record: DecisionRecord) => void): ClusterGateDeps {
    const metrics = this.metrics;
    return {
      coordinator: this.coordinator,
      observer: {
        cacheLookup: (r) => metrics.cacheLookup(r),
        decided: (record) => {
          metrics.decided(record);
          onDecided?.(record);
        },
      },
      decisionTtlMs: this.config.cluster.cacheTtlMs,
    };
  }

  /** The analyzer the gate should use: counted and timed (and slowed down in tests, see test-delay.ts). */
  instrument(analyzer: TarballAnalyzer): TarballAnalyzer {
    const slowed = delayedForTests(analyzer, this.env, this.logger);
    return instrumentAnalyzer(slowed, this.metrics);
  }

  /**
   * Drops every cache entry of a version when its decision changes on any instance (and wakes this
   * instance's lease waiters for it). Call once the caches exist; idempotent.
   */
  attach(caches: readonly Invalidator[]): void {
    if (this.unsubscribe !== null) return;
    const coordinator = this.coordinator;
    this.unsubscribe = subscribeInvalidation({
      store: this.store,
      targets: [...caches, (name, version) => coordinator.notify(name, version)],
      onInvalidated: () => this.metrics.invalidated('notification'),
      logger: this.logger,
    });
  }

  /** `GET /-/capgate/metrics` (unless `metrics: false`). Mount before Verdaccio's router. */
  routes(): RequestHandler {
    if (!this.config.metrics) return (_req: Request, _res: Response, next: NextFunction) => next();
    return metricsRoute(this.metrics);
  }

  /** Wraps the tarball route so every tarball answer is counted (served, refused, failed). */
  observeTarballs(handler: RequestHandler): RequestHandler {
    const metrics = this.metrics;
    return (req: Request, res: Response, next: NextFunction): void => {
      const parsed = parseTarballRequest(req.method, req.url);
      if (parsed !== null) countTarballAnswer(res, metrics);
      // A type-only RequestHandler call: express passes the same three arguments.
      void handler(req, res, next);
    };
  }

  /**
   * Re-enqueues the alerts of recent decisions (idempotent) now and every 5 minutes, so an instance
   * killed between storing a decision and enqueueing its alert loses no alert (alert-sweep.ts).
   */
  sweepAlerts(alerts: SweepAlerts): void {
    if (this.stopSweep !== null) return;
    this.stopSweep = startAlertSweep({ store: this.store, alerts, logger: this.logger });
  }

  /** For the alert dispatcher's `onResult`. */
  readonly onDeliveryResult = (r: { readonly ok: boolean }): void => this.metrics.delivery(r.ok);

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.stopSweep?.();
    this.stopSweep = null;
  }
}

export function createCluster(opts: ClusterOptions): Cluster {
  return new Cluster(opts);
}
