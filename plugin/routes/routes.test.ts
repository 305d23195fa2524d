import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import express from 'express';
import { parseConfig } from '../config';
import { Gate } from '../gate';
import type { GateLogger } from '../gate';
import { VerdaccioRegistrySource } from '../verdaccio-source';
import type { RemoteUser, VerdaccioAuth, VerdaccioStorage } from '../verdaccio-source';
import type { PolicyStore } from '../../policy-store/store';
import { capgateApi, parsePolicyPath } from './api';
import { tarballGate } from './tarball-gate';

const quiet: GateLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** Verdaccio's storage that fails the test if the gate reaches it. */
const untouchable: VerdaccioStorage = {
  getPackage: () => {
    throw new Error('storage must not be reached');
  },
  getTarball: () => {
    throw new Error('storage must not be reached');
  },
};

describe('routes', () => {
  let server: http.Server;
  let port = 0;
  let storeHealthy = true;
  const seenUsers: (string | undefined)[] = [];

  const auth: VerdaccioAuth = {
    allow_access: (pkg, user: RemoteUser, cb) => {
      seenUsers.push(user.name);
      if (pkg.packageName.startsWith('@private/')) cb(Object.assign(new Error('unregistered users are not allowed to access package @private/x'), { status: 401 }));
      else if (pkg.packageName === 'secret') cb(Object.assign(new Error('user bob is not allowed to access package secret'), { status: 403 }));
      else cb(null, true);
    },
  };
  const store = {
    health: async () => {
      if (!storeHealthy) throw new Error('disk gone');
    },
    getDecision: async () => null,
    getPolicy: async () => null,
  } as unknown as PolicyStore;

  beforeAll(async () => {
    const gate = new Gate({
      config: parseConfig({}),
      store,
      registry: new VerdaccioRegistrySource(untouchable),
      analyzer: { analyze: () => Promise.reject(new Error('unused')) },
      diff: () => {
        throw new Error('unused');
      },
      rulesVersion: 't',
      logger: quiet,
    });
    const app = express();
    app.use((req, _res, next) => {
      (req as express.Request & { remote_user?: RemoteUser }).remote_user = { name: req.headers['x-user'] as string | undefined, groups: [] };
      next();
    });
    app.use(capgateApi({ store, ready: async () => undefined, auth, logger: quiet, info: { mode: 'enforce' } }));
    app.use(tarballGate({ gate, auth, logger: quiet, ready: async () => undefined }));
    app.use((_req: express.Request, res: express.Response) => {
      res.status(299).json({ passedThrough: true });
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = (path: string, user?: string): Promise<{ status: number; body: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = user === undefined ? {} : { 'x-user': user };
      http
        .get({ host: '127.0.0.1', port, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
        })
        .on('error', reject);
    });

  it("applies Verdaccio's access rules before anything else, with the request's user", async () => {
    expect(await get('/@private/x/-/x-1.0.0.tgz')).toMatchObject({ status: 401, body: { code: 'CAPGATE_UNAUTHENTICATED' } });
    expect(await get('/%40private%2fx/-/x-1.0.0.tgz')).toMatchObject({ status: 401 });
    expect(await get('/secret/-/secret-1.0.0.tgz', 'bob')).toMatchObject({ status: 403, body: { code: 'CAPGATE_ACCESS_DENIED' } });
    expect(await get('/-/capgate/v1/policies/secret/1.0.0', 'bob')).toMatchObject({ status: 403 });
    expect(seenUsers).toContain('bob');
  });

  it('answers 400 for malformed tarball URLs and policy paths', async () => {
    expect(await get('/foo%2fbar/-/x.tgz')).toMatchObject({ status: 400, body: { code: 'CAPGATE_BAD_REQUEST' } });
    expect(await get('/-/capgate/v1/policies/left-pad/not-a-version')).toMatchObject({ status: 400 });
    expect(await get('/-/capgate/v1/policies/..%2f..%2fetc/1.0.0')).toMatchObject({ status: 400 });
    expect(await get('/-/capgate/v1/policies/left-pad')).toMatchObject({ status: 400 });
  });

  it('answers 404 for a version it knows nothing about', async () => {
    expect(await get('/-/capgate/v1/policies/@s%2fp/1.0.0')).toMatchObject({ status: 404, body: { code: 'CAPGATE_NOT_FOUND' } });
  });

  it('reports store health', async () => {
    expect(await get('/-/capgate/v1/health')).toMatchObject({ status: 200, body: { ok: true, plugin: 'capgate' } });
    storeHealthy = false;
    expect(await get('/-/capgate/v1/health')).toMatchObject({ status: 503, body: { ok: false, code: 'CAPGATE_STORE_UNAVAILABLE' } });
    storeHealthy = true;
  });

  it('lets everything else through to Verdaccio', async () => {
    for (const p of ['/left-pad', '/left-pad/1.0.0', '/-/v1/search?text=x', '/-/capgate/v1/reviews']) {
      expect(await get(p)).toMatchObject({ status: 299 });
    }
  });

  it('parses policy paths as npm encodes names', () => {
    expect(parsePolicyPath('@s%2fp/1.0.0')).toEqual({ ok: true, name: '@s/p', version: '1.0.0' });
    expect(parsePolicyPath('@s/p/1.0.0-rc.1')).toEqual({ ok: true, name: '@s/p', version: '1.0.0-rc.1' });
    expect(parsePolicyPath('p/v1.0.0')).toMatchObject({ ok: false });
  });
});

describe('VerdaccioRegistrySource', () => {
  const storage = (behaviour: { packageErr?: unknown; uplinkErrors?: unknown; tarball?: (s: PassThrough & { abort?: () => void }) => void }): VerdaccioStorage => ({
    getPackage: (o) => setImmediate(() => (behaviour.packageErr === undefined ? o.callback(null, { name: o.name }) : o.callback(behaviour.packageErr))),
    _syncUplinksMetadata: (_n, _i, _o, cb) => setImmediate(() => cb(behaviour.packageErr, null, behaviour.uplinkErrors)),
    getTarball: () => {
      const s = new PassThrough();
      setImmediate(() => behaviour.tarball?.(s));
      return s;
    },
  });

  it('maps a 404 to CAPGATE_NOT_FOUND and anything else to CAPGATE_UPSTREAM_UNAVAILABLE', async () => {
    await expect(new VerdaccioRegistrySource(storage({ packageErr: { status: 404, message: 'no such package' } })).getPackument('x', undefined)).rejects.toMatchObject({ code: 'CAPGATE_NOT_FOUND' });
    await expect(new VerdaccioRegistrySource(storage({ packageErr: { status: 503, message: 'ETIMEDOUT' } })).getPackument('x', undefined)).rejects.toMatchObject({ code: 'CAPGATE_UPSTREAM_UNAVAILABLE' });
    // Verdaccio says 404 when the only uplink refused the connection
    const refused = storage({ packageErr: { status: 404, message: 'no such package available' }, uplinkErrors: [[Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })]] });
    await expect(new VerdaccioRegistrySource(refused).getPackument('x', undefined)).rejects.toMatchObject({ code: 'CAPGATE_UPSTREAM_UNAVAILABLE' });
    const answered = storage({ packageErr: { status: 404, message: 'no such package available' }, uplinkErrors: [[Object.assign(new Error('not found'), { status: 404 })]] });
    await expect(new VerdaccioRegistrySource(answered).getPackument('x', undefined)).rejects.toMatchObject({ code: 'CAPGATE_NOT_FOUND' });
    const failing = storage({ tarball: (s) => s.emit('error', Object.assign(new Error('socket hang up'), { status: 500 })) });
    await expect(new VerdaccioRegistrySource(failing).readTarball('x', 'x-1.0.0.tgz', 100)).rejects.toMatchObject({ code: 'CAPGATE_UPSTREAM_UNAVAILABLE' });
  });

  it('reads the whole tarball, and stops at the size limit', async () => {
    const ok = storage({ tarball: (s) => s.end(Buffer.alloc(50, 1)) });
    expect((await new VerdaccioRegistrySource(ok).readTarball('x', 'x.tgz', 100)).length).toBe(50);
    const big = storage({ tarball: (s) => s.end(Buffer.alloc(500, 1)) });
    await expect(new VerdaccioRegistrySource(big).readTarball('x', 'x.tgz', 100)).rejects.toMatchObject({ code: 'CAPGATE_TARBALL_TOO_LARGE' });
  });
});
