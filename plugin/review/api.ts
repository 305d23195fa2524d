// Owns the review HTTP API: the review queue, approve/deny (with scoped approvals) and the audit log,
// under /-/capgate/v1/. Mounted by the plugin after Verdaccio's auth middleware (req.remote_user).
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AuditEntry, DecisionRecord, PolicyStore, ScopedApproval, VersionState } from '../../policy-store/store';
import type { AlertEventType } from '../../policy-store/store';
import { requireReviewer, type ReviewerConfig, type ReviewUser } from './auth';
import { checkPackageName, checkReviewBody, parseReviewPath, type ReviewBody } from './validate';

export const API_PREFIX = '/-/capgate/v1';

/** The narrow logger the router uses (Verdaccio's pino logger fits). */
export interface ReviewLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** What the review API needs from the alert dispatcher (alerts/dispatcher.ts AlertDispatcher). */
export interface ReviewAlerts {
  notify(type: AlertEventType, record: DecisionRecord, extra?: Readonly<Record<string, unknown>>): Promise<boolean>;
}

export interface ReviewRouterDeps {
  readonly store: PolicyStore;
  readonly reviewers: ReviewerConfig;
  /**
   * Verdaccio's `auth` (register_middlewares' second argument, passed as is): its
   * webUIJWTmiddleware lets the review page's web-login token in. Without it, only npm tokens and
   * basic auth (what Verdaccio's api middleware reads) are accepted.
   */
  readonly auth?: unknown;
  readonly alerts?: ReviewAlerts;
  /** Called after every human decision so the gate drops its cached decision. Must not throw (it is guarded). */
  onDecisionChanged(name: string, version: string): void;
  readonly logger: ReviewLogger;
  /**
   * Origins besides the request's own that may POST (e.g. the configured publicUrl behind a proxy
   * that rewrites Host). Compared exactly (`scheme://host[:port]`).
   */
  readonly allowedOrigins?: readonly string[];
  /** For tests. */
  readonly now?: () => Date;
}

const STATE_OF: Readonly<Record<string, VersionState>> = {
  pending: 'held',
  held: 'held',
  flagged: 'flagged',
  approved: 'approved',
  denied: 'denied',
  allowed: 'allowed',
};

/** A decision as the API shows it: the stored record plus the package@version key. */
export function reviewItem(r: DecisionRecord): Record<string, unknown> {
  return {
    name: r.name,
    version: r.version,
    state: r.state,
    automatic: r.automatic,
    mode: r.mode,
    baseline: r.baseline,
    integrity: r.integrity,
    rulesVersion: r.rulesVersion,
    gained: r.diff.gained,
    lost: r.diff.lost,
    evidence: r.diff.evidence,
    details: r.diff.details,
    by: r.by,
    reason: r.reason,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function badRequest(res: Response, message: string): void {
  res.status(400).json({ error: 'CAPGATE_REVIEW_BAD_REQUEST', message });
}

function errorCode(e: unknown): string | null {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') return (e as { code: string }).code;
  return null;
}

function limitOf(raw: unknown, def: number, max: number): number | null {
  if (raw === undefined) return def;
  if (typeof raw !== 'string' || !/^\d{1,6}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : null;
}

/**
 * Refuses cross-site writes: JSON only (an HTML form cannot send `application/json`), the
 * browser's `Sec-Fetch-Site` must not be cross-site, and an `Origin`, when sent, must be this
 * registry's. Page actions carry a Bearer header (never cookies), so there is no ambient credential
 * beyond a browser's cached basic auth, which these checks also keep out.
 */
function sameOriginJson(allowed: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site') {
      res.status(403).json({ error: 'CAPGATE_REVIEW_CROSS_SITE', message: 'cross-site requests are refused' });
      return;
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin !== '') {
      let ok = allowed.includes(origin);
      if (!ok) {
        try {
          ok = origin !== 'null' && new URL(origin).host === req.headers.host;
        } catch {
          ok = false;
        }
      }
      if (!ok) {
        res.status(403).json({ error: 'CAPGATE_REVIEW_CROSS_SITE', message: 'request origin is not this registry' });
        return;
      }
    }
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'CAPGATE_REVIEW_BAD_REQUEST', message: 'send the body as application/json' });
      return;
    }
    next();
  };
}

/** The review API router. Every route requires an authenticated reviewer. */
export function createReviewRouter(deps: ReviewRouterDeps): Router {
  const router = express.Router();
  const now = deps.now ?? ((): Date => new Date());
  const reviewer = requireReviewer(deps.reviewers, deps.auth);
  const noStore = (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  };
  const storeFailed = (res: Response, e: unknown, what: string): void => {
    const code = errorCode(e);
    deps.logger.error({ code, error: e instanceof Error ? e.message : String(e) }, `capgate review: ${what} failed`);
    if (code === 'CAPGATE_POLICY_STORE_INVALID_KEY') {
      badRequest(res, 'invalid package name or version');
      return;
    }
    res.status(503).json({ error: code ?? 'CAPGATE_POLICY_STORE_UNAVAILABLE', message: `the policy store could not ${what}` });
  };

  router.get(`${API_PREFIX}/reviews`, noStore, reviewer, (req, res) => {
    const raw = req.query['state'] ?? 'pending';
    const state = typeof raw === 'string' ? STATE_OF[raw] : undefined;
    if (state === undefined) {
      badRequest(res, 'state must be pending, approved, denied or flagged');
      return;
    }
    const limit = limitOf(req.query['limit'], 100, 1000);
    if (limit === null) {
      badRequest(res, 'limit must be an integer from 1 to 1000');
      return;
    }
    deps.store.listByState({ state, limit }).then(
      (records) => res.json({ state: typeof raw === 'string' ? raw : 'pending', items: records.map(reviewItem) }),
      (e: unknown) => storeFailed(res, e, 'list reviews'),
    );
  });

  router.get(`${API_PREFIX}/audit`, noStore, reviewer, (req, res) => {
    const rawName = req.query['name'];
    let name: string | undefined;
    if (rawName !== undefined) {
      if (typeof rawName !== 'string') {
        badRequest(res, 'name must be given once');
        return;
      }
      const n = checkPackageName(rawName);
      if (!n.ok) {
        badRequest(res, n.error);
        return;
      }
      name = n.value;
    }
    const limit = limitOf(req.query['limit'], 50, 1000);
    if (limit === null) {
      badRequest(res, 'limit must be an integer from 1 to 1000');
      return;
    }
    deps.store.listAudit(name === undefined ? { limit } : { name, limit }).then(
      (entries: AuditEntry[]) => res.json({ entries }),
      (e: unknown) => storeFailed(res, e, 'read the audit log'),
    );
  });

  const writeGuard = sameOriginJson(deps.allowedOrigins ?? []);
  const json = express.json({ limit: '16kb', type: 'application/json', strict: true });

  router.post(/^\/-\/capgate\/v1\/reviews\/(.+)$/, noStore, reviewer, writeGuard, json, (req, res) => {
    // Parse the raw path (not express' decoded params) so each segment is decoded exactly once.
    const rawPath = (req.originalUrl.split('?')[0] ?? '').slice(`${API_PREFIX}/reviews/`.length);
    const target = parseReviewPath(rawPath);
    if (!target.ok) {
      badRequest(res, target.error);
      return;
    }
    const body = checkReviewBody(req.body as unknown, now());
    if (!body.ok) {
      badRequest(res, body.error);
      return;
    }
    const user = res.locals['reviewer'] as ReviewUser;
    void decide(res, user, target.value.name, target.value.version, body.value);
  });

  async function decide(
    res: Response,
    user: ReviewUser,
    name: string,
    version: string,
    body: ReviewBody,
  ): Promise<void> {
    let current: DecisionRecord | null;
    try {
      current = await deps.store.getDecision({ name, version });
    } catch (e) {
      storeFailed(res, e, 'read the decision');
      return;
    }
    if (current === null) {
      res.status(404).json({ error: 'CAPGATE_REVIEW_NOT_FOUND', message: `capgate has no decision for ${name}@${version} (install it once so it is analyzed)` });
      return;
    }
    const state: VersionState = body.decision === 'approve' ? 'approved' : 'denied';
    const at = now();
    let stored: DecisionRecord;
    const scoped: ScopedApproval[] = [];
    try {
      const { createdAt: _c, updatedAt: _u, ...rest } = current;
      stored = await deps.store.setDecision({ record: { ...rest, state, by: user.name, reason: body.reason }, at });
      if (body.scope !== null) {
        for (const capability of body.scope.capabilities) {
          const approval = await deps.store.addScopedApproval({
            approval: { name, range: body.scope.range, capability, expiresAt: body.scope.expiresAt, by: user.name, reason: body.reason },
            at,
          });
          scoped.push(approval);
          await deps.store.appendAudit({
            entry: {
              name,
              version,
              action: 'scoped-approval',
              by: user.name,
              reason: body.reason,
              details: { id: approval.id, range: approval.range, capability, expiresAt: approval.expiresAt },
            },
            at,
          });
        }
      }
    } catch (e) {
      storeFailed(res, e, 'record the decision');
      return;
    }
    deps.logger.info(
      { pkg: name, version, state, by: user.name, scoped: scoped.length },
      `capgate review: @{by} set @{pkg}@@{version} to @{state}`,
    );
    try {
      deps.onDecisionChanged(name, version);
    } catch (e) {
      deps.logger.warn({ pkg: name, version, error: e instanceof Error ? e.message : String(e) }, 'capgate review: cache invalidation failed');
    }
    // A store write (the outbox); delivery is asynchronous and never changes the decision.
    if (deps.alerts !== undefined) await deps.alerts.notify(state, stored);
    res.json({ ok: true, item: reviewItem(stored), scopedApprovals: scoped });
  }

  // Malformed JSON and oversized bodies from express.json land here: answer JSON, never a bare 500.
  // Scoped to the API prefix on purpose: a layer that matches every path makes express 4 leave this
  // router through setImmediate (router/index.js, "idx >= stack.length"), and by then Verdaccio's
  // auth middleware has resumed the request stream, so the body of a later request that Verdaccio
  // itself handles (npm adduser, npm publish) would be lost ("stream is not readable").
  router.use(API_PREFIX, (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof (err as { status: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: 'CAPGATE_REVIEW_BAD_REQUEST', message: status === 413 ? 'body too large' : 'body is not valid JSON' });
      return;
    }
    deps.logger.error({ error: err instanceof Error ? err.message : String(err) }, 'capgate review: unexpected error');
    res.status(500).json({ error: 'CAPGATE_REVIEW_INTERNAL', message: 'unexpected error' });
  });

  return router;
}
