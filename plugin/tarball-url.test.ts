import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PACKAGE_API_ENDPOINTS, encodeScopePackage, validateName, validatePackage } from '@verdaccio/middleware';
import { parseTarballRequest, requestPath } from './tarball-url';

describe('parseTarballRequest', () => {
  const tarball = (name: string, filename: string) => ({ kind: 'tarball', name, filename });

  it.each([
    ['/left-pad/-/left-pad-1.0.0.tgz', tarball('left-pad', 'left-pad-1.0.0.tgz')],
    ['/left-pad/-/left-pad-1.0.0.tgz/', tarball('left-pad', 'left-pad-1.0.0.tgz')],
    ['/left-pad/-/left-pad-1.0.0.tgz?x=1', tarball('left-pad', 'left-pad-1.0.0.tgz')],
    ['//left-pad//-//left-pad-1.0.0.tgz', tarball('left-pad', 'left-pad-1.0.0.tgz')],
    ['/@s/p/-/p-1.0.0.tgz', tarball('@s/p', 'p-1.0.0.tgz')],
    ['/%40s/p/-/p-1.0.0.tgz', tarball('@s/p', 'p-1.0.0.tgz')],
    ['/@s%2fp/-/p-1.0.0.tgz', tarball('@s/p', 'p-1.0.0.tgz')],
    ['/@s%2Fp/-/p-1.0.0.tgz', tarball('@s/p', 'p-1.0.0.tgz')],
    ['/%40s%2fp/-/p-1.0.0.tgz', tarball('@s/p', 'p-1.0.0.tgz')],
    ['/%40s%2Fp/-/p-1.0.0.tgz/?a#b', tarball('@s/p', 'p-1.0.0.tgz')],
    ['/l%65ft-pad/-/left-pad-1.0.0%2etgz', tarball('left-pad', 'left-pad-1.0.0.tgz')],
    ['/left-pad/%2d/left-pad-1.0.0.tgz', tarball('left-pad', 'left-pad-1.0.0.tgz')],
    ['http://example.test/left-pad/-/left-pad-1.0.0.tgz', tarball('left-pad', 'left-pad-1.0.0.tgz')],
  ])('%s', (url, expected) => {
    expect(parseTarballRequest('GET', url)).toEqual(expected);
    expect(parseTarballRequest('HEAD', url)).toEqual(expected);
  });

  it.each(['/left-pad', '/left-pad/1.0.0', '/-/v1/search', '/-/capgate/v1/health', '/-/package/@s%2fp/dist-tags', '/-/ping', '/@s/p', '/a/b/-/c.tgz'])(
    'leaves %s to Verdaccio',
    (url) => {
      expect(parseTarballRequest('GET', url)).toBeNull();
    },
  );

  it('only gates reads', () => {
    expect(parseTarballRequest('PUT', '/left-pad/-/left-pad-1.0.0.tgz')).toBeNull();
    expect(parseTarballRequest('DELETE', '/left-pad/-/left-pad-1.0.0.tgz')).toBeNull();
  });

  it.each(['/left-pad/-/%E0%A4%A', '/..%2f..%2fetc/-/passwd', '/foo%2fbar/-/x.tgz', '/left-pad/-/a%2fb.tgz', '/.hidden/-/x.tgz', '/node_modules/-/x.tgz'])(
    'refuses %s as a bad request',
    (url) => {
      expect(parseTarballRequest('GET', url)).toMatchObject({ kind: 'bad' });
    },
  );

  it('requestPath drops query and fragment', () => {
    expect(requestPath('/a/-/b.tgz?x#y')).toBe('/a/-/b.tgz');
    expect(requestPath('/a/-/b.tgz#y?x')).toBe('/a/-/b.tgz');
  });
});

/**
 * The bypass check: every URL that Verdaccio's own tarball route accepts must be classified as a
 * tarball request for the same package and file. The router below is built exactly as Verdaccio 6's
 * api/endpoint/index.js builds it (param validators, encodeScopePackage, the same route string).
 */
describe('agreement with Verdaccio 6 routing', () => {
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    const app = express();
    const router = express.Router();
    router.param('package', validatePackage);
    router.param('filename', validateName);
    router.use(encodeScopePackage as unknown as express.RequestHandler);
    router.get(PACKAGE_API_ENDPOINTS.get_package_tarball, (req, res) => {
      res.json({ package: req.params['package'], filename: req.params['filename'] });
    });
    app.use(router);
    app.use((_req: express.Request, res: express.Response) => {
      res.status(404).json({ none: true });
    });
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(400).json({ bad: true });
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function verdaccioRoute(rawPath: string): Promise<{ status: number; body: Record<string, string> }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string> }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  // Every spelling of each character that matters: @, /, -, letters, dots, plus slashes and suffixes.
  const at = ['@', '%40'];
  const slash = ['/', '%2f', '%2F', '//'];
  const dash = ['-', '%2d', '%2D'];
  const suffix = ['', '/', '?q=1', '/?q=1', '//', '#f'];
  const lead = ['/', '//'];
  const spellings: string[] = [];
  for (const l of lead) for (const a of at) for (const s of slash) for (const d of dash) for (const x of suffix) {
    spellings.push(`${l}${a}scope${s}pkg/${d}/pkg-1.0.0.tgz${x}`);
    spellings.push(`${l}pkg/${d}/pkg-1.0.0.tgz${x}`);
    spellings.push(`${l}p%6Bg/${d}/pkg-1.0.0%2Etgz${x}`);
    spellings.push(`${l}${a}sc%6Fpe${s}PKG/${d}${s === '//' ? '/' : ''}/pkg-1.0.0.tgz${x}`);
  }

  it(`classifies every URL Verdaccio would serve as a tarball (${spellings.length} spellings)`, async () => {
    let served = 0;
    for (const p of [...new Set(spellings)]) {
      const v = await verdaccioRoute(p);
      if (v.status !== 200) continue;
      served++;
      const mine = parseTarballRequest('GET', p);
      expect({ p, mine }).toEqual({ p, mine: { kind: 'tarball', name: v.body['package'], filename: v.body['filename'] } });
    }
    expect(served).toBeGreaterThan(20);
  });
});
