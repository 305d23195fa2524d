import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MAX_STATUS_MESSAGE, sendJson, statusMessageOf } from './respond';

describe('statusMessageOf', () => {
  it('keeps a plain one-line reason as it is', () => {
    expect(statusMessageOf('capgate: a@1.1.0 is held for review: gained child-process (index.js:2)')).toBe('capgate: a@1.1.0 is held for review: gained child-process (index.js:2)');
  });

  it('removes line breaks and control characters and replaces non-ASCII', () => {
    expect(statusMessageOf('a\r\nb\tc\u0000d é\u2028')).toBe('a b c?d ??');
  });

  it('is at most MAX_STATUS_MESSAGE characters', () => {
    const s = statusMessageOf(`capgate: ${'x'.repeat(2000)}`);
    expect(s).toHaveLength(MAX_STATUS_MESSAGE);
    expect(s.endsWith('...')).toBe(true);
  });
});

describe('the status line of a JSON answer', () => {
  let server: http.Server;
  let port = 0;
  const HOSTILE = `capgate: evil@1.0.0 is held: gained child-process (\u00e9vil.js:1)\r\nSet-Cookie: x=1\n${'y'.repeat(1000)}`;

  beforeAll(async () => {
    const app = express();
    app.get('/refused', (_req, res) => sendJson(res, 403, { error: HOSTILE, code: 'CAPGATE_HELD' }));
    app.get('/missing', (_req, res) => sendJson(res, 404, { error: 'capgate: not here', code: 'CAPGATE_NOT_FOUND' }));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = (path: string, agent: string): Promise<{ status: number | undefined; message: string | undefined; headers: http.IncomingHttpHeaders; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, headers: { 'user-agent': agent } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, message: res.statusMessage, headers: res.headers, body }));
      });
      req.on('error', reject);
    });

  it('carries the sanitised reason of a 403 for clients that print only the status line', async () => {
    for (const agent of ['pnpm/9.15.0 npm/? node/v20.20.0 linux x64', 'yarn/1.22.22 npm/? node/v20.20.0 linux x64']) {
      const r = await get('/refused', agent);
      expect(r.status).toBe(403);
      expect(r.message).toBe(statusMessageOf(HOSTILE));
      expect(r.message?.startsWith('capgate: evil@1.0.0 is held: gained child-process (?vil.js:1) Set-Cookie: x=1 yyy')).toBe(true);
      expect(r.headers['set-cookie']).toBeUndefined();
      expect((JSON.parse(r.body) as { error: string }).error).toBe(HOSTILE);
    }
  });

  it('keeps the standard phrase for npm, which prints the JSON error after it', async () => {
    const r = await get('/refused', 'npm/10.8.2 node/v20.20.0 linux x64 workspaces/false');
    expect([r.status, r.message]).toEqual([403, 'Forbidden']);
  });

  it('keeps the standard phrase of other statuses', async () => {
    const r = await get('/missing', 'pnpm/9.15.0 npm/? node/v20.20.0 linux x64');
    expect([r.status, r.message]).toEqual([404, 'Not Found']);
  });
});
