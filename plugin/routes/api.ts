// Owns the plugin's read-only HTTP API under /-/capgate/v1 (DESIGN.md "HTTP"):
//   GET /-/capgate/v1/health                     plugin loaded, store reachable (200, else 503);
//                                                `filter`: capgate's metadata filter is active
//   GET /-/capgate/v1/policies/<name>/<version>  policy, decision, evidence, baseline
// Names come URL-encoded as npm sends them (`@scope%2fname`); `@scope/name` is accepted too.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import semver from 'semver';
import type { PolicyStore } from '../../policy-store/store';
import { GateError } from '../errors';
import type { GateLogger } from '../gate';
import { toGateError } from '../gate';
import { decodedSegments, isValidPackageName, requestPath } from '../tarball-url';
import { checkAccess } from '../verdaccio-source';
import type { VerdaccioAuth } from '../verdaccio-source';
import { API_PREFIX, sendGateError, sendJson } from './respond';
import { remoteUserOf } from './tarball-gate';

export interface ApiDeps {
  readonly store: PolicyStore;
  /** Resolves once the store is initialised (rejects if it could not be). */
  readonly ready: () => Promise<void>;
  readonly auth: VerdaccioAuth;
  readonly logger: GateLogger;
  readonly info: Readonly<Record<string, unknown>>;
  /** True when Verdaccio runs capgate's metadata filter (`filters: capgate:`) for this gate; default false. */
  readonly filterActive?: () => boolean;
  /**
   * Resolves once this instance has no decision of (name, version) in progress (Gate.settled): a
   * version served before its decision (monitor mode, or nothing it could be refused for) is on
   * record by the time a client asks about it. Default: no wait.
   */
  readonly settled?: (name: string, version: string) => Promise<void>;
}

export type PolicyPath = { ok: true; name: string; version: string } | { ok: false; reason: string };

/** Parses the part after `/policies/`: `<name>/<version>` or `@scope/<name>/<version>`. */
export function parsePolicyPath(rest: string): PolicyPath {
  const segments = decodedSegments(rest);
  if (segments === null) return { ok: false, reason: 'malformed percent-encoding' };
  let name: string;
  let version: string;
  if (segments.length === 2) [name, version] = segments as [string, string];
  else if (segments.length === 3 && (segments[0] ?? '').startsWith('@')) name = `${segments[0]}/${segments[1]}`, version = segments[2] ?? '';
  else return { ok: false, reason: 'expected /policies/<name>/<version>' };
  if (!isValidPackageName(name)) return { ok: false, reason: `invalid package name ${JSON.stringify(name.slice(0, 100))}` };
  if (version.length > 256 || semver.valid(version) !== version) return { ok: false, reason: `invalid version ${JSON.stringify(version.slice(0, 100))}` };
  return { ok: true, name, version };
}

export function capgateApi(deps: ApiDeps): RequestHandler {
  const { store, ready, auth, logger } = deps;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = requestPath(req.url);
    if (path === `${API_PREFIX}/health` || path === `${API_PREFIX}/health/`) {
      void (async () => {
        try {
          await ready();
          await store.health();
          sendJson(res, 200, { ok: true, plugin: 'capgate', store: 'reachable', filter: deps.filterActive?.() ?? false, ...deps.info });
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          logger.error({ code: 'CAPGATE_STORE_UNAVAILABLE', err: message }, 'capgate: health check failed: @{err}');
          sendJson(res, 503, {
            ok: false,
            plugin: 'capgate',
            store: 'unreachable',
            filter: deps.filterActive?.() ?? false,
            code: 'CAPGATE_STORE_UNAVAILABLE',
            error: `capgate: policy store unreachable: ${message}`,
            ...deps.info,
          });
        }
      })();
      return;
    }
    const prefix = `${API_PREFIX}/policies/`;
    if (!path.startsWith(prefix)) return next();
    const parsed = parsePolicyPath(path.slice(prefix.length));
    if (!parsed.ok) {
      sendGateError(res, new GateError('CAPGATE_BAD_REQUEST', parsed.reason), { name: null, version: null, link: null });
      return;
    }
    const { name, version } = parsed;
    void (async () => {
      try {
        await checkAccess(auth, name, remoteUserOf(req));
        await ready();
        await deps.settled?.(name, version);
        const [decision, stored] = await Promise.all([store.getDecision({ name, version }), store.getPolicy({ name, version })]);
        if (decision === null && stored === null) {
          sendGateError(res, new GateError('CAPGATE_NOT_FOUND', 'capgate has no policy or decision for this version'), { name, version, link: null });
          return;
        }
        sendJson(res, 200, {
          name,
          version,
          state: decision?.state ?? null,
          decision,
          baseline: decision?.baseline ?? null,
          gained: decision?.diff.gained ?? [],
          evidence: decision?.diff.evidence ?? {},
          integrity: stored?.integrity ?? decision?.integrity ?? null,
          policy: stored?.policy ?? null,
        });
      } catch (e) {
        const err = e instanceof GateError ? e : storeFailure(e);
        sendGateError(res, err, { name, version, link: null });
      }
    })();
  };
}

function storeFailure(e: unknown): GateError {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (code === 'CAPGATE_POLICY_STORE_INVALID_KEY') return new GateError('CAPGATE_BAD_REQUEST', e instanceof Error ? e.message : String(e));
  if (typeof code === 'string' && code.startsWith('CAPGATE_POLICY_STORE')) return new GateError('CAPGATE_STORE_UNAVAILABLE', e instanceof Error ? e.message : String(e));
  return toGateError(e);
}
