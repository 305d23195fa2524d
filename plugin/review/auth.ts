// Owns who may review: reads the user Verdaccio authenticated (req.remote_user), accepts the web
// login's JWT for the review page, and checks the reviewer list (by user name or group).
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Reviewers from the plugin config (plus CAPGATE_REVIEWERS for `capgate serve`). */
export interface ReviewerConfig {
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

/**
 * The part of Verdaccio's `Auth` the review API uses: its web-UI JWT middleware, which verifies the
 * token that `POST /-/verdaccio/sec/login` returns (signed with the registry's secret). Verdaccio's
 * own api middleware (run before every plugin) only verifies npm tokens / basic auth.
 */
export interface WebTokenAuth {
  webUIJWTmiddleware(): (req: Request, res: Response, next: NextFunction) => void;
}

/** Verdaccio's Auth object has webUIJWTmiddleware; anything else (a test double, nothing) does not. */
export function isWebTokenAuth(auth: unknown): auth is WebTokenAuth {
  return typeof auth === 'object' && auth !== null && typeof (auth as { webUIJWTmiddleware?: unknown }).webUIJWTmiddleware === 'function';
}

export interface ReviewUser {
  readonly name: string;
  readonly groups: readonly string[];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The authenticated user Verdaccio put on the request, or null for anonymous. */
export function remoteUserOf(req: Request): ReviewUser | null {
  const ru: unknown = (req as Request & { remote_user?: unknown }).remote_user;
  if (typeof ru !== 'object' || ru === null) return null;
  const r = ru as Record<string, unknown>;
  const name = r['name'];
  if (typeof name !== 'string' || name.length === 0) return null;
  return { name, groups: [...new Set([...strings(r['groups']), ...strings(r['real_groups'])])] };
}

/**
 * Groups that never make a reviewer: Verdaccio's pseudo-groups (every user, or every logged-in
 * user, has them) and the user's own name, which verdaccio-htpasswd returns as the user's only
 * group. With self-registration on (Verdaccio's default), anyone could otherwise register the
 * user name `security` and become a member of a reviewer group called `security`.
 */
const PSEUDO_GROUPS = new Set(['$all', '@all', 'all', '$authenticated', '@authenticated', '$anonymous', '@anonymous', 'anonymous']);

export function isReviewer(user: ReviewUser, reviewers: ReviewerConfig): boolean {
  if (reviewers.users.includes(user.name)) return true;
  return user.groups.some((g) => g !== user.name && !PSEUDO_GROUPS.has(g) && reviewers.groups.includes(g));
}

/**
 * Authenticates (401) then authorizes (403) a review request. When Verdaccio's api middleware left
 * the user anonymous and a Bearer token is present, the token is tried as a web-login JWT.
 */
export function requireReviewer(reviewers: ReviewerConfig, auth: unknown): RequestHandler {
  const web = isWebTokenAuth(auth) ? auth.webUIJWTmiddleware() : undefined;
  const decide = (req: Request, res: Response, next: NextFunction): void => {
    const user = remoteUserOf(req);
    if (user === null) {
      res.setHeader('WWW-Authenticate', 'Bearer, Basic realm="capgate"');
      res.status(401).json({ error: 'CAPGATE_REVIEW_UNAUTHENTICATED', message: 'log in: the review API needs an authenticated registry user' });
      return;
    }
    if (!isReviewer(user, reviewers)) {
      res.status(403).json({ error: 'CAPGATE_REVIEW_FORBIDDEN', message: `user "${user.name}" is not a capgate reviewer` });
      return;
    }
    res.locals['reviewer'] = user;
    next();
  };
  return (req, res, next) => {
    const header = req.headers.authorization;
    if (web !== undefined && remoteUserOf(req) === null && typeof header === 'string' && /^Bearer [^\s]+$/i.test(header)) {
      // Verdaccio's middleware skips a request whose user is already named; a token that fails to
      // verify leaves it anonymous. Its error path answers by itself, so only a well-formed
      // `Bearer <token>` header is handed to it.
      web(req, res, (err?: unknown) => {
        if (err !== undefined && err !== null) {
          decide(req, res, next);
          return;
        }
        if (res.headersSent) return;
        decide(req, res, next);
      });
      return;
    }
    decide(req, res, next);
  };
}
