// Tests metrics.ts: the series and labels Prometheus scrapes, the analyzer wrapper, the route on a
// bare express app over real HTTP, and that two instances in one process keep separate registries.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { register as globalRegistry } from 'prom-client';
import type { PackagePolicy } from '../analyzer/types';
import { CapgateMetrics, countTarballAnswer, instrumentAnalyzer, METRICS_PATH, metricsRoute } from './metrics';

/** True when `line` (`name{a="x",b="y"} value`) is in the text, whatever the order of its labels. */
function sample(text: string, line: string): boolean {
  const norm = (l: string): string | null => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
    if (m === null) return null;
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((p) => `${p[1]}=${p[2]}`).sort();
    return `${m[1]}{${labels.join(',')}} ${m[3]}`;
  };
  const want = norm(line);
  return want !== null && text.split('\n').some((l) => norm(l) === want);
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('CapgateMetrics', () => {
  it('labels every series with capgate_instance and starts fixed series at zero', async () => {
    const m = new CapgateMetrics({ instance: 'gate-1' });
    const text = await m.text();
    expect(sample(text, 'capgate_analyses_total{result="ok",capgate_instance="gate-1"} 0')).toBe(true);
    expect(sample(text, 'capgate_lease_waits_total{capgate_instance="gate-1"} 0')).toBe(true);
    expect(sample(text, 'capgate_alert_deliveries_total{result="failed",capgate_instance="gate-1"} 0')).toBe(true);
  });

  it('counts analyses, failures by code, decisions, tarball answers, cache lookups, waits and deliveries', async () => {
    const m = new CapgateMetrics({ instance: 'i' });
    m.analysisStarted();
    m.analysis(0.2, null);
    m.analysisStarted();
    m.analysis(1.5, 'CAPGATE_ANALYSIS_TIMEOUT');
    m.decided({ state: 'held' });
    m.tarball('refused', 'held');
    m.tarball('served', 'approved');
    m.tarball('failed', null);
    m.cacheLookup('lru');
    m.cacheLookup('store');
    m.leaseWaitStarted();
    m.leaseWaitEnded(2, 'takeover');
    m.invalidated('notification');
    m.delivery(false);
    const text = await m.text();
    for (const line of [
      'capgate_analyses_total{result="ok",capgate_instance="i"} 1',
      'capgate_analyses_total{result="failed",capgate_instance="i"} 1',
      'capgate_analyses_in_progress{capgate_instance="i"} 0',
      'capgate_analysis_failures_total{code="CAPGATE_ANALYSIS_TIMEOUT",capgate_instance="i"} 1',
      'capgate_analysis_duration_seconds_count{result="ok",capgate_instance="i"} 1',
      'capgate_analysis_duration_seconds_bucket{le="0.25",result="ok",capgate_instance="i"} 1',
      'capgate_decisions_total{state="held",capgate_instance="i"} 1',
      'capgate_tarball_requests_total{result="refused",state="held",capgate_instance="i"} 1',
      'capgate_tarball_requests_total{result="served",state="approved",capgate_instance="i"} 1',
      'capgate_tarball_requests_total{result="failed",state="none",capgate_instance="i"} 1',
      'capgate_decision_cache_total{result="lru",capgate_instance="i"} 1',
      'capgate_lease_waits_total{capgate_instance="i"} 1',
      'capgate_lease_takeovers_total{capgate_instance="i"} 1',
      'capgate_lease_wait_seconds_count{outcome="takeover",capgate_instance="i"} 1',
      'capgate_cache_invalidations_total{source="notification",capgate_instance="i"} 1',
      'capgate_alert_deliveries_total{result="failed",capgate_instance="i"} 1',
    ]) {
      expect({ line, found: sample(text, line) }).toEqual({ line, found: true });
    }
  });

  it('reads the outbox depth at scrape time and survives a store that fails', async () => {
    let depth = 3;
    let fail = false;
    const m = new CapgateMetrics({
      instance: 'i',
      outboxDepth: async () => {
        if (fail) throw new Error('store down');
        return depth;
      },
    });
    expect(sample(await m.text(), 'capgate_outbox_depth{capgate_instance="i"} 3')).toBe(true);
    depth = 0;
    expect(sample(await m.text(), 'capgate_outbox_depth{capgate_instance="i"} 0')).toBe(true);
    fail = true;
    await m.text();
    // Series are rendered concurrently, so the failure shows from the next scrape on; the depth keeps its last value.
    const text = await m.text();
    expect(sample(text, 'capgate_outbox_depth{capgate_instance="i"} 0')).toBe(true);
    expect(sample(text, 'capgate_metrics_collect_errors_total{source="outbox",capgate_instance="i"} 1')).toBe(true);
  });

  it('keeps its own registry: two instances in one process do not collide, the global registry stays empty', async () => {
    const one = new CapgateMetrics({ instance: 'one' });
    const two = new CapgateMetrics({ instance: 'two' });
    one.decided({ state: 'allowed' });
    expect(sample(await two.text(), 'capgate_decisions_total{state="allowed",capgate_instance="two"} 1')).toBe(false);
    expect(await globalRegistry.metrics()).not.toContain('capgate_');
  });
});

describe('instrumentAnalyzer', () => {
  const policy = { name: 'x' } as unknown as PackagePolicy;
  it('counts and times successes and failures (by code), passing results and errors through', async () => {
    const m = new CapgateMetrics({ instance: 'i' });
    let t = 0;
    const ok = instrumentAnalyzer({ analyze: async () => ((t += 500), policy) }, m, () => t);
    await expect(ok.analyze(new Uint8Array())).resolves.toBe(policy);
    const bad = instrumentAnalyzer(
      {
        analyze: async () => {
          throw Object.assign(new Error('boom'), { code: 'CAPGATE_ARCHIVE_CORRUPT' });
        },
      },
      m,
    );
    await expect(bad.analyze(new Uint8Array())).rejects.toThrow('boom');
    const text = await m.text();
    expect(sample(text, 'capgate_analysis_duration_seconds_sum{result="ok",capgate_instance="i"} 0.5')).toBe(true);
    expect(sample(text, 'capgate_analysis_failures_total{code="CAPGATE_ARCHIVE_CORRUPT",capgate_instance="i"} 1')).toBe(true);
    expect(sample(text, 'capgate_analyses_in_progress{capgate_instance="i"} 0')).toBe(true);
  });
});

describe('metricsRoute', () => {
  let server: http.Server;
  let port: number;
  const m = new CapgateMetrics({ instance: 'route' });
  beforeAll(async () => {
    const app = express();
    app.use(metricsRoute(m));
    app.get('/-/tarball', (_req, res) => {
      countTarballAnswer(res, m);
      res.setHeader('X-Capgate-Decision', 'held');
      res.status(403).end();
    });
    app.use((_req, res) => void res.status(404).end('next'));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('serves the exposition text on GET and HEAD, 405 otherwise, and leaves other paths alone', async () => {
    const r = await get(port, METRICS_PATH);
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain');
    expect(r.body).toContain('# TYPE capgate_analyses_total counter');
    expect((await get(port, `${METRICS_PATH}?x=1`, 'HEAD')).status).toBe(200);
    expect((await get(port, METRICS_PATH, 'POST')).status).toBe(405);
    expect((await get(port, '/-/capgate/metricsx')).body).toBe('next');
  });

  it('counts a refusal with the decision header as refused', async () => {
    expect((await get(port, '/-/tarball')).status).toBe(403);
    expect((await get(port, METRICS_PATH)).body).toContain('capgate_tarball_requests_total{result="refused",state="held",capgate_instance="route"} 1');
  });
});
