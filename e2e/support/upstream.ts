// Owns the e2e upstream: a plain Verdaccio (no uplinks, htpasswd auth, temp storage) on a loopback
// port, in this process, plus publishing fixture tarballs to it through its npm publish API
// (the same PUT npm sends), so the gated registry has a real registry to proxy.
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { integrityOf } from '../../test-support/make-package';

export interface Upstream {
  readonly url: string;
  readonly storage: string;
  readonly token: string;
  /** Publishes a tarball; the manifest is read from its package.json. Returns the dist it recorded. */
  publish(tarball: Buffer, opts?: { tag?: string; integrity?: string | null; manifest?: Record<string, unknown> }): Promise<{ name: string; version: string; integrity: string; file: string }>;
  /** Path of a published tarball inside the upstream's storage (to tamper with it after publish). */
  tarballPath(name: string, version: string): string;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-upstream-'));
  const storage = path.join(dir, 'storage');
  const configPath = path.join(dir, 'config.yaml');
  const config = {
    storage,
    self_path: configPath,
    configPath,
    auth: { htpasswd: { file: path.join(dir, 'htpasswd') } },
    uplinks: {},
    packages: {
      '@*/*': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
      '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
    },
    web: { enable: false },
    log: { type: 'stdout', format: 'pretty', level: 'error' },
    max_body_size: '50mb',
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- verdaccio is CommonJS
  const { runServer } = require('verdaccio') as { runServer: (c: unknown) => Promise<http.Server> };
  const server = await runServer(config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const user = await requestJson('PUT', `${url}-/user/org.couchdb.user:e2e`, { name: 'e2e', password: 'e2e-password-1', type: 'user', roles: [] });
  const token: unknown = (user.body as { token?: unknown }).token;
  if (user.status !== 201 || typeof token !== 'string') throw new Error(`upstream: cannot create the e2e user: ${user.status} ${JSON.stringify(user.body)}`);
  const authToken: string = token;

  const tarballPath = (name: string, version: string): string => path.join(storage, name, `${name.split('/').pop() ?? name}-${version}.tgz`);

  async function publish(tarball: Buffer, opts: { tag?: string; integrity?: string | null; manifest?: Record<string, unknown> } = {}) {
    const manifest = opts.manifest ?? readManifest(tarball);
    const name = String(manifest['name']);
    const version = String(manifest['version']);
    const file = `${name.split('/').pop() ?? name}-${version}.tgz`;
    const integrity = opts.integrity === undefined ? integrityOf(tarball) : opts.integrity;
    const dist: Record<string, unknown> = {
      shasum: createHash('sha1').update(tarball).digest('hex'),
      tarball: `${url}${name}/-/${file}`,
    };
    if (integrity !== null) dist['integrity'] = integrity;
    const tag = opts.tag ?? 'latest';
    const body = {
      _id: name,
      name,
      'dist-tags': { [tag]: version },
      versions: { [version]: { ...manifest, _id: `${name}@${version}`, dist } },
      _attachments: { [file]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } },
    };
    const res = await requestJson('PUT', `${url}${name.replace('/', '%2f')}`, body, authToken);
    if (res.status !== 201) throw new Error(`upstream: publish ${name}@${version} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { name, version, integrity: integrity ?? '', file };
  }

  return {
    url,
    storage,
    token: authToken,
    publish,
    tarballPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** package.json of a fixture tarball (the first entry, as make-package.ts sorts it first). */
function readManifest(tarball: Buffer): Record<string, unknown> {
  const tar = gunzipSync(tarball);
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    if (name === '') break;
    if (name === 'package/package.json') return JSON.parse(tar.subarray(off + 512, off + 512 + size).toString('utf8')) as Record<string, unknown>;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('fixture tarball has no package/package.json');
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
  readonly raw: Buffer;
}

/** One HTTP request with a raw path (no client-side normalisation), JSON in and out. */
export function requestJson(method: string, url: string, body?: unknown, token?: string): Promise<JsonResponse> {
  const u = new URL(url);
  return rawRequest({ method, host: u.hostname, port: Number(u.port), path: url.slice(u.origin.length) || '/', body, token });
}

/**
 * `body` is sent as JSON; `rawBody` as is. `headers` are added last, so a test can set any
 * content type, origin or authorization it needs.
 */
export function rawRequest(p: {
  method: string;
  host: string;
  port: number;
  path: string;
  body?: unknown;
  rawBody?: string;
  token?: string | undefined;
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const payload = p.rawBody !== undefined ? Buffer.from(p.rawBody) : p.body === undefined ? undefined : Buffer.from(JSON.stringify(p.body));
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload !== undefined) {
      if (p.rawBody === undefined) headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (p.token !== undefined) headers['authorization'] = `Bearer ${p.token}`;
    Object.assign(headers, p.headers);
    const req = http.request({ method: p.method, host: p.host, port: p.port, path: p.path, headers, timeout: p.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let parsed: unknown = raw.toString('utf8');
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          // binary or text body
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, raw });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${p.method} ${p.path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
