// The review routes inside a real Verdaccio 6 (runServer, htpasswd, web UI on): what Verdaccio
// really puts in req.remote_user for npm tokens, basic auth and the web login's JWT, and that its
// global CORS and route order leave the review API's checks in force. The routes are mounted by a
// throw-away middleware plugin exactly as the capgate plugin mounts them (mountReview).
import * as fs from 'node:fs/promises';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { heldRecord } from '../alerts/test-records';
import { FileStore } from '../policy-store/file-store';
import type { AlertEventType, DecisionRecord } from '../policy-store/store';
import { requestJson, rawRequest, type JsonResponse } from './support/upstream';

jest.setTimeout(120_000);

interface ProbeState {
  store: FileStore;
  changed: Array<[string, string]>;
  notified: AlertEventType[];
}
declare global {
  // Shared with the throw-away plugin below (loaded by Verdaccio, in this process).
  var __capgateReviewProbe: ProbeState | undefined;
}

const DIST = path.resolve(__dirname, '..');
let dir: string;
let server: http.Server;
let base: string;
let port: number;
let state: ProbeState;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-review-verdaccio-'));
  const plugins = path.join(dir, 'plugins');
  await fs.mkdir(plugins);
  await fs.writeFile(
    path.join(plugins, 'verdaccio-review-probe.js'),
    `'use strict';
const { mountReview } = require(${JSON.stringify(path.join(DIST, 'plugin', 'review', 'index.js'))});
// Verdaccio's loader instantiates a module's default export as a class (as tsc emits it).
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = class ReviewProbe {
  constructor() {}
  register_middlewares(app, auth) {
    const s = globalThis.__capgateReviewProbe;
    mountReview(app, {
      store: s.store,
      reviewers: { users: ['rita'], groups: [] },
      auth,
      alerts: { notify: async (type) => { s.notified.push(type); return true; } },
      onDecisionChanged: (name, version) => s.changed.push([name, version]),
      logger: { info() {}, warn() {}, error() {} },
    });
  }
};
`,
  );
  const storage = path.join(dir, 'storage');
  const store = new FileStore({ dir: path.join(storage, '.capgate') });
  await store.init();
  state = { store, changed: [], notified: [] };
  globalThis.__capgateReviewProbe = state;
  const { createdAt: _c, updatedAt: _u, ...record } = heldRecord({ name: '@acme/held', version: '2.0.0' });
  await store.setDecision({ record: record as Omit<DecisionRecord, 'createdAt' | 'updatedAt'> });

  const configPath = path.join(dir, 'config.yaml');
  const config = {
    storage,
    self_path: configPath,
    configPath,
    plugins,
    auth: { htpasswd: { file: path.join(dir, 'htpasswd') } },
    uplinks: {},
    packages: { '@*/*': { access: '$all', publish: '$authenticated' }, '**': { access: '$all', publish: '$authenticated' } },
    web: { enable: true, title: 'probe' },
    middlewares: { 'review-probe': {} },
    log: { type: 'stdout', format: 'pretty', level: process.env['CAPGATE_E2E_DEBUG'] === '1' ? 'debug' : 'error' },
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- verdaccio is CommonJS
  const { runServer } = require('verdaccio') as { runServer: (c: unknown) => Promise<http.Server> };
  server = await runServer(config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  await state?.store.close();
  globalThis.__capgateReviewProbe = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

async function adduser(name: string, password: string): Promise<string> {
  const r = await requestJson('PUT', `${base}-/user/org.couchdb.user:${name}`, { name, password, type: 'user', roles: [] });
  const token: unknown = (r.body as { token?: unknown }).token;
  if (r.status !== 201 || typeof token !== 'string') throw new Error(`adduser ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return token;
}

function call(method: string, p: string, headers: Record<string, string>, body?: string): Promise<JsonResponse> {
  return rawRequest({ method, host: '127.0.0.1', port, path: p, headers, ...(body === undefined ? {} : { rawBody: body }) });
}

describe('review API inside a real Verdaccio', () => {
  let ritaNpm: string;
  let bobNpm: string;

  beforeAll(async () => {
    ritaNpm = await adduser('rita', 'rita-password-1');
    bobNpm = await adduser('bob', 'bob-password-1');
  });

  it('leaves request bodies to Verdaccio: npm adduser through the same app still works', async () => {
    // Regression: a catch-all layer in a plugin router made express defer, and Verdaccio's auth
    // middleware had already resumed the request, so adduser/publish bodies were lost (HTTP 500).
    await expect(adduser('carl', 'carl-password-1')).resolves.toMatch(/\S/);
  });

  it('sees the npm token user Verdaccio authenticated (401 anonymous, 403 non-reviewer, 200 reviewer)', async () => {
    expect((await rawRequest({ method: 'GET', host: '127.0.0.1', port, path: '/-/capgate/v1/reviews' })).status).toBe(401);
    expect((await rawRequest({ method: 'GET', host: '127.0.0.1', port, path: '/-/capgate/v1/reviews', token: bobNpm })).status).toBe(403);
    const ok = await rawRequest({ method: 'GET', host: '127.0.0.1', port, path: '/-/capgate/v1/reviews', token: ritaNpm });
    expect(ok.status).toBe(200);
    expect((ok.body as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['@acme/held']);
    const basic = `Basic ${Buffer.from('rita:rita-password-1').toString('base64')}`;
    expect((await call('GET', '/-/capgate/v1/audit', { authorization: basic })).status).toBe(200);
    expect((await call('GET', '/-/capgate/v1/audit', { authorization: `Basic ${Buffer.from('rita:wrong').toString('base64')}` })).status).toBe(401);
  });

  it('accepts the token of Verdaccio web login (POST /-/verdaccio/sec/login) that its api middleware ignores', async () => {
    const login = await requestJson('POST', `${base}-/verdaccio/sec/login`, { username: 'rita', password: 'rita-password-1' });
    expect(login.status).toBe(200);
    const jwt = (login.body as { token: string }).token;
    expect(jwt.split('.')).toHaveLength(3);
    expect((await rawRequest({ method: 'GET', host: '127.0.0.1', port, path: '/-/capgate/v1/reviews', token: jwt })).status).toBe(200);
    const bobLogin = await requestJson('POST', `${base}-/verdaccio/sec/login`, { username: 'bob', password: 'bob-password-1' });
    const bobJwt = (bobLogin.body as { token: string }).token;
    expect((await rawRequest({ method: 'GET', host: '127.0.0.1', port, path: '/-/capgate/v1/reviews', token: bobJwt })).status).toBe(403);
    expect((await rawRequest({ method: 'GET', host: '127.0.0.1', port, path: '/-/capgate/v1/reviews', token: `${jwt.slice(0, -4)}AAAA` })).status).toBe(401);
  });

  it('keeps CSRF checks behind Verdaccio\'s global CORS, then approves with the web token', async () => {
    const login = await requestJson('POST', `${base}-/verdaccio/sec/login`, { username: 'rita', password: 'rita-password-1' });
    const auth = `Bearer ${(login.body as { token: string }).token}`;
    const p = '/-/capgate/v1/reviews/%40acme%2fheld/2.0.0';
    const body = JSON.stringify({ decision: 'approve', reason: 'reviewed' });
    expect((await call('POST', p, { authorization: auth, 'content-type': 'text/plain', origin: base.slice(0, -1) }, body)).status).toBe(415);
    expect((await call('POST', p, { authorization: auth, 'content-type': 'application/json', origin: 'http://evil.example' }, body)).status).toBe(403);
    expect((await state.store.getDecision({ name: '@acme/held', version: '2.0.0' }))?.state).toBe('held');
    const ok = await call('POST', p, { authorization: auth, 'content-type': 'application/json', origin: base.slice(0, -1) }, body);
    expect(ok.status).toBe(200);
    expect(await state.store.getDecision({ name: '@acme/held', version: '2.0.0' })).toEqual(expect.objectContaining({ state: 'approved', by: 'rita', reason: 'reviewed' }));
    expect(state.changed).toEqual([['@acme/held', '2.0.0']]);
    expect(state.notified).toEqual(['approved']);
  });

  it('serves the page under its CSP', async () => {
    const page = await call('GET', '/-/capgate/ui/', {});
    expect(page.status).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(page.raw.toString('utf8')).toContain('/-/verdaccio/sec/login');
  });
});
