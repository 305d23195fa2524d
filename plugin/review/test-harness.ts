// Test support for the review routes: a real express app on 127.0.0.1 with Verdaccio's real Auth
// (verdaccio-htpasswd) in front, as Verdaccio orders it (its api JWT middleware, then plugins), and
// a real FileStore in a temp folder.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Auth } from '@verdaccio/auth';
import { Config } from '@verdaccio/config';
import type { Logger, RemoteUser } from '@verdaccio/types';
import express from 'express';
import { FileStore } from '../../policy-store/file-store';
import type { AlertEventType, DecisionRecord } from '../../policy-store/store';
import { createReviewRouter, type ReviewRouterDeps } from './api';
import { createReviewPageRouter } from './page';

export interface Harness {
  readonly root: string;
  readonly storeDir: string;
  readonly store: FileStore;
  readonly auth: Auth;
  readonly config: Config;
  readonly base: string;
  readonly changed: Array<[string, string]>;
  readonly notified: Array<{ type: AlertEventType; record: DecisionRecord }>;
  basic(user: string, password: string): string;
  /** The token Verdaccio's web login (`POST /-/verdaccio/sec/login`) would return for this user. */
  webToken(user: RemoteUser): Promise<string>;
  close(): Promise<void>;
}

const silent = (): void => undefined;
const logger = {
  info: silent, warn: silent, error: silent, debug: silent, trace: silent, fatal: silent, http: silent,
  child: (): Logger => logger,
} as unknown as Logger;

function addUser(auth: Auth, name: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => auth.add_user(name, password, (err) => (err ? reject(err) : resolve())));
}

export async function startHarness(opts: {
  users: Readonly<Record<string, string>>;
  reviewers: ReviewRouterDeps['reviewers'];
  allowedOrigins?: readonly string[];
}): Promise<Harness> {
  const root = await mkdtemp(path.join(tmpdir(), 'capgate-review-'));
  const storeDir = path.join(root, 'storage', '.capgate');
  await mkdir(path.join(root, 'storage'), { recursive: true });
  const config = new Config({
    storage: path.join(root, 'storage'),
    auth: { htpasswd: { file: path.join(root, 'htpasswd'), max_users: 1000 } },
    uplinks: {},
    packages: {},
    config_path: path.join(root, 'config.yaml'),
  } as unknown as ConstructorParameters<typeof Config>[0]);
  config.checkSecretKey();
  const auth = new Auth(config as unknown as ConstructorParameters<typeof Auth>[0], logger, { legacyMergeConfigs: true });
  await auth.init();
  for (const [name, password] of Object.entries(opts.users)) await addUser(auth, name, password);
  const store = new FileStore({ dir: storeDir });
  await store.init();
  const changed: Array<[string, string]> = [];
  const notified: Array<{ type: AlertEventType; record: DecisionRecord }> = [];
  const app = express();
  app.use(auth.apiJWTmiddleware() as express.RequestHandler);
  const deps: ReviewRouterDeps = {
    store,
    reviewers: opts.reviewers,
    auth,
    onDecisionChanged: (name, version) => changed.push([name, version]),
    alerts: {
      notify: async (type, record) => {
        notified.push({ type, record });
        return true;
      },
    },
    logger: { info: silent, warn: silent, error: silent },
    ...(opts.allowedOrigins === undefined ? {} : { allowedOrigins: opts.allowedOrigins }),
  };
  app.use(createReviewRouter(deps));
  app.use(createReviewPageRouter());
  // What follows the plugins in Verdaccio: anything else is not found.
  app.use((_req, res) => res.status(404).json({ error: 'not found' }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    root,
    storeDir,
    store,
    auth,
    config,
    base,
    changed,
    notified,
    basic: (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    webToken: (user) => auth.jwtEncrypt(user, config.security.web.sign),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
