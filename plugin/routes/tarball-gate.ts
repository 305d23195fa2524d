// Owns the tarball route: every spelling of `GET|HEAD /<name>/-/<file>` (see tarball-url.ts) is
// answered here, before Verdaccio's own router could serve it. Verdaccio's access rules first, then
// the gate; the answer is exactly the analyzed (and verified) bytes, or a JSON refusal.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Gate, GateLogger } from '../gate';
import { toGateError } from '../gate';
import { GateError } from '../errors';
import { refusalText } from '../message';
import { parseTarballRequest } from '../tarball-url';
import { checkAccess } from '../verdaccio-source';
import type { RemoteUser, VerdaccioAuth } from '../verdaccio-source';
import { originOf, policyUrl, sendGateError, sendJson } from './respond';

/** Anonymous user as Verdaccio's createAnonymousRemoteUser builds it (used if no JWT middleware ran). */
const ANONYMOUS: RemoteUser = { name: undefined, groups: ['$all', '$anonymous', '@all', '@anonymous'], real_groups: [] };

export function remoteUserOf(req: Request): RemoteUser {
  const u = (req as Request & { remote_user?: RemoteUser }).remote_user;
  return u ?? ANONYMOUS;
}

export function tarballGate(deps: { gate: Gate; auth: VerdaccioAuth; logger: GateLogger; ready: () => Promise<void> }): RequestHandler {
  const { gate, auth, logger, ready } = deps;
  return (req: Request, res: Response, next: NextFunction): void => {
    const parsed = parseTarballRequest(req.method, req.url);
    if (parsed === null) return next();
    if (parsed.kind === 'bad') {
      sendGateError(res, new GateError('CAPGATE_BAD_REQUEST', parsed.reason), { name: null, version: null, link: null });
      return;
    }
    const { name, filename } = parsed;
    const origin = originOf(req, gate.config.publicUrl);
    void (async () => {
      let version: string | null = null;
      try {
        await checkAccess(auth, name, remoteUserOf(req));
        await ready();
        const outcome = await gate.checkTarball({ name, filename, ctx: req });
        version = outcome.version;
        const link = policyUrl(origin, name, outcome.version);
        if (outcome.kind === 'refuse') {
          const code = outcome.record.state === 'denied' ? 'CAPGATE_DENIED' : 'CAPGATE_HELD';
          logger.info({ pkg: name, version, code, state: outcome.record.state }, 'capgate: refused @{pkg}@@{version} (@{state})');
          res.setHeader('X-Capgate-Decision', outcome.record.state);
          sendJson(res, 403, {
            error: refusalText(outcome.record, link),
            code,
            name,
            version,
            state: outcome.record.state,
            baseline: outcome.record.baseline,
            gained: outcome.record.diff.gained,
            policy: link,
          });
          return;
        }
        if (outcome.failure !== null) res.setHeader('X-Capgate-Failure', outcome.failure.code);
        if (outcome.pending) res.setHeader('X-Capgate-Decision', 'pending');
        if (outcome.record !== null) {
          res.setHeader('X-Capgate-Decision', outcome.record.state);
          if (outcome.record.state !== 'allowed') {
            logger.debug({ pkg: name, version, state: outcome.record.state, mode: gate.config.mode }, 'capgate: serving @{pkg}@@{version} (@{state}, @{mode})');
          }
        }
        res.statusCode = 200;
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', outcome.bytes.length);
        if (req.method === 'HEAD') res.end();
        else res.end(outcome.bytes);
      } catch (e) {
        const err = toGateError(e);
        const v = err.details['version'];
        if (version === null && typeof v === 'string') version = v;
        const level = err.code === 'CAPGATE_INTERNAL' ? 'error' : 'warn';
        logger[level]({ pkg: name, version: version ?? filename, code: err.code, err: err.message }, 'capgate: refused @{pkg} @{version}: @{code}');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendGateError(res, err, { name, version, link: version === null ? null : policyUrl(origin, name, version) });
      }
    })();
  };
}
