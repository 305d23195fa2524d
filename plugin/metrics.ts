// Owns the plugin's Prometheus metrics (DESIGN.md "HTTP": GET /-/capgate/metrics): one prom-client
// Registry per plugin instance (never the global one, so two plugins in one process, or a host app
// with its own metrics, do not collide), every series labelled with `capgate_instance`, and the
// route that serves them in the text exposition format.
//
// The label is `capgate_instance`, not `instance`: Prometheus sets `instance` itself (the scrape
// target) and would rename ours to `exported_instance` unless `honor_labels` is set.
//
// Access: the route is open, like Verdaccio's own `/-/ping`. The figures are counts and durations
// (no package names, no versions, no users), and `capgate serve` binds loopback by default. Behind a
// public load balancer, block `/-/capgate/metrics` there, or set `metrics: false` in the plugin
// config to drop the route.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DecisionRecord } from '../policy-store/store';
import type { BackgroundPriority, TarballAnalyzer } from './gate';
import { requestPath } from './tarball-url';

export const METRICS_PATH = '/-/capgate/metrics';

/** Where an answer about a known decision came from (`miss`: neither knew it). */
export type CacheResult = 'lru' | 'store' | 'miss';

/** How a tarball request ended: `served` bytes, `refused` by a decision, or `failed` (an error answer). */
export type TarballResult = 'served' | 'refused' | 'failed';

export interface MetricsOptions {
  /** Value of the `capgate_instance` label on every series (see cluster/instance.ts). */
  readonly instance: string;
  /** Read on every scrape; a failure leaves the last value and counts a scrape error. */
  readonly outboxDepth?: () => Promise<number>;
}

const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The plugin's metrics. Recording methods never throw. */
export class CapgateMetrics {
  readonly registry: Registry;
  readonly instance: string;
  private readonly analyses: Counter<'result'>;
  private readonly analysisSeconds: Histogram<'result'>;
  private readonly analysisFailures: Counter<'code'>;
  private readonly analysesInProgress: Gauge;
  private readonly decisions: Counter<'state'>;
  private readonly tarballs: Counter<'result' | 'state'>;
  private readonly cache: Counter<'result'>;
  private readonly leaseWaits: Counter;
  private readonly leaseWaitSeconds: Histogram<'outcome'>;
  private readonly leaseTakeovers: Counter;
  private readonly invalidations: Counter<'source'>;
  private readonly deliveries: Counter<'result'>;
  private readonly scrapeErrors: Counter<'source'>;

  constructor(opts: MetricsOptions) {
    this.instance = opts.instance;
    this.registry = new Registry();
    this.registry.setDefaultLabels({ capgate_instance: opts.instance });
    const registers = [this.registry];
    this.analyses = new Counter({ name: 'capgate_analyses_total', help: 'Tarball analyses run by this instance (new versions and baselines), by result.', labelNames: ['result'], registers });
    this.analysisSeconds = new Histogram({
      name: 'capgate_analysis_duration_seconds',
      help: 'Wall time of one tarball analysis in the worker pool.',
      labelNames: ['result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.analysisFailures = new Counter({ name: 'capgate_analysis_failures_total', help: 'Failed analyses by error code.', labelNames: ['code'], registers });
    this.analysesInProgress = new Gauge({ name: 'capgate_analyses_in_progress', help: 'Analyses running in this instance now.', registers });
    this.decisions = new Counter({ name: 'capgate_decisions_total', help: 'Automatic decisions made and stored by this instance, by state.', labelNames: ['state'], registers });
    this.tarballs = new Counter({
      name: 'capgate_tarball_requests_total',
      help: 'Tarball requests answered by the gate: result served|refused|failed, state of the decision behind it (none when there was none).',
      labelNames: ['result', 'state'],
      registers,
    });
    this.cache = new Counter({ name: 'capgate_decision_cache_total', help: 'Known-decision lookups by where the answer came from (lru, store, miss).', labelNames: ['result'], registers });
    this.leaseWaits = new Counter({ name: 'capgate_lease_waits_total', help: 'Times this instance waited for another instance holding an analysis lease.', registers });
    this.leaseWaitSeconds = new Histogram({
      name: 'capgate_lease_wait_seconds',
      help: "Time spent waiting for another instance's analysis; outcome result (it finished), takeover (its lease expired or was released) or gave-up.",
      labelNames: ['outcome'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.leaseTakeovers = new Counter({ name: 'capgate_lease_takeovers_total', help: 'Analysis leases taken after waiting on another holder (it died or gave the work up).', registers });
    this.invalidations = new Counter({ name: 'capgate_cache_invalidations_total', help: 'Cached decisions dropped after a change notification, by source.', labelNames: ['source'], registers });
    this.deliveries = new Counter({ name: 'capgate_alert_deliveries_total', help: 'Alert delivery attempts by this instance, by result (ok, failed).', labelNames: ['result'], registers });
    this.scrapeErrors = new Counter({ name: 'capgate_metrics_collect_errors_total', help: 'Failures reading a value at scrape time, by source.', labelNames: ['source'], registers });
    const readDepth = opts.outboxDepth;
    const scrapeErrors = this.scrapeErrors;
    new Gauge({
      name: 'capgate_outbox_depth',
      help: 'Alert deliveries not yet delivered (shared by every instance on the same store; read at scrape time).',
      registers,
      async collect() {
        if (readDepth === undefined) return;
        try {
          this.set(await readDepth());
        } catch {
          scrapeErrors.inc({ source: 'outbox' });
        }
      },
    });
    // Series with a fixed label set start at zero, so a rate() or an "== 1" check sees them before the first event.
    for (const result of ['ok', 'failed']) {
      this.analyses.inc({ result }, 0);
      this.deliveries.inc({ result }, 0);
    }
    this.leaseWaits.inc(0);
    this.leaseTakeovers.inc(0);
  }

  analysisStarted(): void {
    this.analysesInProgress.inc();
  }

  /** Ends an analysis started with analysisStarted. */
  analysis(seconds: number, failureCode: string | null): void {
    this.analysesInProgress.dec();
    const result = failureCode === null ? 'ok' : 'failed';
    this.analyses.inc({ result });
    this.analysisSeconds.observe({ result }, seconds);
    if (failureCode !== null) this.analysisFailures.inc({ code: failureCode });
  }

  decided(record: Pick<DecisionRecord, 'state'>): void {
    this.decisions.inc({ state: record.state });
  }

  tarball(result: TarballResult, state: string | null): void {
    this.tarballs.inc({ result, state: state ?? 'none' });
  }

  cacheLookup(result: CacheResult): void {
    this.cache.inc({ result });
  }

  leaseWaitStarted(): void {
    this.leaseWaits.inc();
  }

  leaseWaitEnded(seconds: number, outcome: 'result' | 'takeover' | 'gave-up'): void {
    this.leaseWaitSeconds.observe({ outcome }, seconds);
    if (outcome === 'takeover') this.leaseTakeovers.inc();
  }

  invalidated(source: 'notification' | 'review'): void {
    this.invalidations.inc({ source });
  }

  delivery(ok: boolean): void {
    this.deliveries.inc({ result: ok ? 'ok' : 'failed' });
  }

  /** The exposition text (what the route serves). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Wraps the analyzer so every analysis (new versions and baselines) is counted and timed. */
export function instrumentAnalyzer<A extends TarballAnalyzer>(analyzer: A, metrics: CapgateMetrics, clock: () => number = () => performance.now()): TarballAnalyzer {
  return {
    async analyze(bytes: Uint8Array, opts?: { affinity?: string; background?: BackgroundPriority }) {
      const started = clock();
      metrics.analysisStarted();
      try {
        const policy = await analyzer.analyze(bytes, opts);
        metrics.analysis((clock() - started) / 1000, null);
        return policy;
      } catch (e) {
        metrics.analysis((clock() - started) / 1000, codeOf(e));
        throw e;
      }
    },
    foreground: () => analyzer.foreground?.() ?? ((): void => undefined),
    poke: () => analyzer.poke?.(),
  };
}

/** `GET|HEAD /-/capgate/metrics`: the exposition text; anything else goes on. */
export function metricsRoute(metrics: CapgateMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = requestPath(req.url);
    if (path !== METRICS_PATH && path !== `${METRICS_PATH}/`) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: 'CAPGATE_BAD_REQUEST', message: 'metrics answer GET only' }));
      return;
    }
    void metrics.text().then(
      (text) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', metrics.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Content-Length', Buffer.byteLength(text));
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        res.statusCode = 500;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: 'CAPGATE_INTERNAL', message: `metrics: ${message}` }));
      },
    );
  };
}

/**
 * Counts tarball answers when the response finishes: 200 = served, 403 with a decision header =
 * refused, anything else = failed. The state comes from the gate's `X-Capgate-Decision` header.
 */
export function countTarballAnswer(res: Response, metrics: CapgateMetrics): void {
  res.once('finish', () => {
    const header = res.getHeader('X-Capgate-Decision');
    const state = typeof header === 'string' ? header : null;
    const result: TarballResult = res.statusCode === 200 ? 'served' : res.statusCode === 403 && state !== null ? 'refused' : 'failed';
    metrics.tarball(result, state);
  });
}

function codeOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') return (e as { code: string }).code;
  return 'CAPGATE_ANALYSIS_FAILED';
}
