import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { heldRecord } from '../../alerts/test-records';
import type { DecisionRecord } from '../../policy-store/store';
import { startHarness, type Harness } from './test-harness';

const USERS = { alice: 'alice-password-1', bob: 'bob-password-1', security: 'self-registered-1' };

async function seed(h: Harness, over: Partial<DecisionRecord> = {}): Promise<DecisionRecord> {
  const { createdAt: _c, updatedAt: _u, ...record } = heldRecord(over);
  return h.store.setDecision({ record });
}

describe('review API (real express, Verdaccio htpasswd auth, FileStore)', () => {
  let h: Harness;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    h = await startHarness({ users: USERS, reviewers: { users: ['alice'], groups: ['security'] } });
    alice = h.basic('alice', USERS.alice);
    bob = h.basic('bob', USERS.bob);
    await seed(h);
    await seed(h, { name: 'plain-pkg', version: '2.0.0', baseline: '1.9.0' });
  });
  afterAll(async () => h.close());

  const get = (path: string, authz?: string): Promise<Response> =>
    fetch(h.base + path, { headers: authz === undefined ? {} : { authorization: authz } });
  /**
   * POST through node:http so the path reaches the server exactly as written (fetch would resolve
   * `%2e%2e` dot segments itself). `authz` null = anonymous, undefined = alice.
   */
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, authz?: string | null): Promise<{ status: number; json: () => Promise<unknown> }> =>
    new Promise((resolve, reject) => {
      const who = authz === undefined ? alice : authz;
      const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = request(
        h.base + '/',
        { method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...(who === null ? {} : { authorization: who }), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, json: async () => JSON.parse(text) as unknown });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  type Answer = { status: number; json: () => Promise<unknown> };
  const routes: Array<[string, () => Promise<Answer>, (a: string) => Promise<Answer>]> = [];
  routes.push(['GET reviews', () => get('/-/capgate/v1/reviews'), (a) => get('/-/capgate/v1/reviews', a)]);
  routes.push(['GET audit', () => get('/-/capgate/v1/audit'), (a) => get('/-/capgate/v1/audit', a)]);
  routes.push(['POST review', () => post('/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny' }, {}, null), (a) => post('/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny' }, {}, a)]);

  describe('authorization on every route', () => {
    it.each(routes.map((r) => [r[0], r[1]] as const))('%s: anonymous gets 401', async (_n, call) => {
      const res = await call();
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('CAPGATE_REVIEW_UNAUTHENTICATED');
    });
    it.each(routes.map((r) => [r[0], r[2]] as const))('%s: a wrong password gets 401', async (_n, call) => {
      expect((await call(h.basic('alice', 'wrong'))).status).toBe(401);
    });
    it.each(routes.map((r) => [r[0], r[2]] as const))('%s: a logged-in non-reviewer gets 403', async (_n, call) => {
      const res = await call(bob);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toContain('"bob" is not a capgate reviewer');
    });
    it.each(routes.map((r) => [r[0], r[2]] as const))('%s: a self-registered user named like a reviewer group gets 403', async (_n, call) => {
      // verdaccio-htpasswd returns the user name as the user's group: that must not count.
      expect((await call(h.basic('security', USERS.security))).status).toBe(403);
    });
    it.each(routes.map((r) => [r[0], r[2]] as const))('%s: a forged web token gets 401', async (_n, call) => {
      const token = await h.webToken({ name: 'alice', groups: ['alice'], real_groups: ['alice'] });
      const [head, payload] = token.split('.');
      expect((await call(`Bearer ${head}.${payload}.${'A'.repeat(43)}`)).status).toBe(401);
    });
    it('nothing was decided by the refused requests', async () => {
      expect((await h.store.getDecision({ name: 'plain-pkg', version: '2.0.0' }))?.state).toBe('held');
    });
  });

  describe('reading', () => {
    it('lists the pending queue with evidence, for a reviewer by name (basic auth)', async () => {
      const res = await get('/-/capgate/v1/reviews?state=pending', alice);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as { items: Array<Record<string, unknown>> };
      expect(body.items.map((i) => `${String(i['name'])}@${String(i['version'])}`).sort()).toEqual(['@acme/left-pad@1.1.0', 'plain-pkg@2.0.0']);
      const item = body.items.find((i) => i['name'] === '@acme/left-pad');
      expect(item?.['gained']).toEqual(['child-process', 'network']);
      expect((item?.['evidence'] as Record<string, unknown[]>)['child-process']).toHaveLength(4);
      expect(item?.['baseline']).toBe('1.0.0');
    });

    it('accepts a reviewer by group through the web login token (an auth plugin that returns groups)', async () => {
      const token = await h.webToken({ name: 'dora', groups: ['security', '$authenticated'], real_groups: ['security'] });
      expect((await get('/-/capgate/v1/reviews', `Bearer ${token}`)).status).toBe(200);
      const other = await h.webToken({ name: 'eve', groups: ['developers'], real_groups: ['developers'] });
      expect((await get('/-/capgate/v1/reviews', `Bearer ${other}`)).status).toBe(403);
    });

    it('refuses bad query parameters with a reason', async () => {
      for (const q of ['state=maybe', 'state=pending&limit=0', 'limit=abc', 'state=pending&state=denied']) {
        const res = await get(`/-/capgate/v1/reviews?${q}`, alice);
        expect([q, res.status]).toEqual([q, 400]);
      }
      for (const q of ['name=..%2F..%2Fetc', 'name=%2Fetc%2Fpasswd', 'limit=100000', 'name=a&name=b']) {
        const res = await get(`/-/capgate/v1/audit?${q}`, alice);
        expect([q, res.status]).toEqual([q, 400]);
        expect(((await res.json()) as { message: string }).message.length).toBeGreaterThan(0);
      }
    });
  });

  describe('deciding', () => {
    it('approves a held version: state, who, why, audit, alert, cache invalidation', async () => {
      const res = await post('/-/capgate/v1/reviews/@acme%2fleft-pad/1.1.0', { decision: 'approve', reason: 'expected: new installer' });
      expect(res.status).toBe(200);
      const stored = await h.store.getDecision({ name: '@acme/left-pad', version: '1.1.0' });
      expect(stored).toEqual(expect.objectContaining({ state: 'approved', by: 'alice', reason: 'expected: new installer', automatic: 'block' }));
      const audit = await h.store.listAudit({ name: '@acme/left-pad', limit: 1 });
      expect(audit[0]).toEqual(expect.objectContaining({ action: 'approved', by: 'alice', reason: 'expected: new installer', version: '1.1.0' }));
      expect(h.changed).toContainEqual(['@acme/left-pad', '1.1.0']);
      expect(h.notified.at(-1)).toEqual({ type: 'approved', record: stored });
      const approved = (await (await get('/-/capgate/v1/reviews?state=approved', alice)).json()) as { items: Array<{ name: string }> };
      expect(approved.items.map((i) => i.name)).toContain('@acme/left-pad');
    });

    it('accepts every npm spelling of a scoped name', async () => {
      for (const path of ['%40acme%2Fleft-pad/1.1.0', '@acme/left-pad/1.1.0', '@acme%2Fleft-pad/1.1.0']) {
        const res = await post(`/-/capgate/v1/reviews/${path}`, { decision: 'approve', reason: path });
        expect([path, res.status]).toEqual([path, 200]);
      }
    });

    it('denies with a reason, and the audit API returns it newest first', async () => {
      const res = await post('/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', reason: 'exfiltrates tokens' });
      expect(res.status).toBe(200);
      expect((await h.store.getDecision({ name: 'plain-pkg', version: '2.0.0' }))?.state).toBe('denied');
      const audit = (await (await get('/-/capgate/v1/audit?name=plain-pkg&limit=5', alice)).json()) as { entries: Array<Record<string, unknown>> };
      expect(audit.entries[0]).toEqual(expect.objectContaining({ action: 'denied', by: 'alice', reason: 'exfiltrates tokens' }));
      expect(audit.entries.every((e) => e['name'] === 'plain-pkg')).toBe(true);
      expect(h.notified.at(-1)?.type).toBe('denied');
    });

    it('records a scoped approval per capability with its range and expiry, audited', async () => {
      await seed(h, { name: 'scoped-pkg', version: '3.1.0' });
      const expiresAt = new Date(Date.now() + 30 * 86400_000).toISOString();
      const res = await post('/-/capgate/v1/reviews/scoped-pkg/3.1.0', {
        decision: 'approve',
        reason: 'telemetry is expected',
        scope: { range: '^3.0.0', capabilities: ['network', 'child-process'], expiresAt },
      });
      expect(res.status).toBe(200);
      const approvals = await h.store.listScopedApprovals({ name: 'scoped-pkg' });
      expect(approvals.map((a) => [a.capability, a.range, a.expiresAt, a.by]).sort()).toEqual([
        ['child-process', '^3.0.0', expiresAt, 'alice'],
        ['network', '^3.0.0', expiresAt, 'alice'],
      ]);
      const audit = await h.store.listAudit({ name: 'scoped-pkg', limit: 10 });
      expect(audit.filter((a) => a.action === 'scoped-approval')).toHaveLength(2);
      expect(audit.some((a) => a.action === 'approved')).toBe(true);
    });

    it('answers 404 for a version capgate never decided', async () => {
      const res = await post('/-/capgate/v1/reviews/never-seen/1.0.0', { decision: 'approve' });
      expect(res.status).toBe(404);
    });
  });

  describe('input validation', () => {
    const bad: Array<[string, string, unknown]> = [
      ['version not semver', '/-/capgate/v1/reviews/plain-pkg/1.0', { decision: 'deny' }],
      ['version range', '/-/capgate/v1/reviews/plain-pkg/%5E1.0.0', { decision: 'deny' }],
      ['traversal in name', '/-/capgate/v1/reviews/..%2f..%2fetc/1.0.0', { decision: 'deny' }],
      ['double-encoded traversal', '/-/capgate/v1/reviews/%252e%252e%252fetc/1.0.0', { decision: 'deny' }],
      ['dot name', '/-/capgate/v1/reviews/%2e%2e/1.0.0', { decision: 'deny' }],
      ['scope dot part', '/-/capgate/v1/reviews/@acme/../1.0.0', { decision: 'deny' }],
      ['scope dot part encoded', '/-/capgate/v1/reviews/@acme%2f%2e%2e/1.0.0', { decision: 'deny' }],
      ['absolute', '/-/capgate/v1/reviews/%2fetc%2fpasswd/1.0.0', { decision: 'deny' }],
      ['backslash', '/-/capgate/v1/reviews/..%5c..%5cx/1.0.0', { decision: 'deny' }],
      ['NUL', '/-/capgate/v1/reviews/a%00b/1.0.0', { decision: 'deny' }],
      ['bad escape', '/-/capgate/v1/reviews/%E0%A4%A/1.0.0', { decision: 'deny' }],
      ['extra segment', '/-/capgate/v1/reviews/a/b/1.0.0', { decision: 'deny' }],
      ['uppercase-only-new rule is fine but spaces are not', '/-/capgate/v1/reviews/a%20b/1.0.0', { decision: 'deny' }],
      ['decision', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'maybe' }],
      ['reason too long', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', reason: 'x'.repeat(1001) }],
      ['reason newline', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', reason: 'a\nb' }],
      ['reason bidi', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', reason: 'ok \u202e gnp.exe' }],
      ['reason type', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', reason: 42 }],
      ['unknown field', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', by: 'mallory' }],
      ['scope with deny', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'deny', scope: { range: '*', capabilities: ['network'] } }],
      ['scope range', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'approve', scope: { range: 'not a range', capabilities: ['network'] } }],
      ['scope capability', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'approve', scope: { range: '*', capabilities: ['teleport'] } }],
      ['scope expiry past', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'approve', scope: { range: '*', capabilities: ['network'], expiresAt: '2001-01-01T00:00:00Z' } }],
      ['scope expiry garbage', '/-/capgate/v1/reviews/plain-pkg/2.0.0', { decision: 'approve', scope: { range: '*', capabilities: ['network'], expiresAt: 'soon' } }],
      ['not an object', '/-/capgate/v1/reviews/plain-pkg/2.0.0', ['approve']],
      ['malformed JSON', '/-/capgate/v1/reviews/plain-pkg/2.0.0', '{"decision": "approve"'],
      ['too large', '/-/capgate/v1/reviews/plain-pkg/2.0.0', JSON.stringify({ decision: 'deny', reason: 'x'.repeat(20_000) })],
    ];
    it.each(bad)('%s -> 400 with a reason', async (_what, path, body) => {
      const before = await h.store.listAudit({ limit: 1 });
      const res = await post(path, body);
      expect(res.status).toBe(_what === 'too large' ? 413 : 400);
      const json = (await res.json()) as { error: string; message: string };
      expect(json.error).toBe('CAPGATE_REVIEW_BAD_REQUEST');
      expect(json.message.length).toBeGreaterThan(3);
      expect(await h.store.listAudit({ limit: 1 })).toEqual(before);
    });

    it('leaves nothing outside the store folder after hostile names', async () => {
      // The harness root holds only: storage/ (with the store in .capgate) and Verdaccio's htpasswd.
      expect((await readdir(h.root)).sort()).toEqual(['htpasswd', 'storage']);
      expect((await readdir(`${h.root}/storage`)).sort()).toEqual(['.capgate']);
    });
  });

  describe('cross-site requests', () => {
    const path = '/-/capgate/v1/reviews/plain-pkg/2.0.0';
    it('refuses an HTML form post (urlencoded or text/plain JSON) even with credentials', async () => {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
        const res = await fetch(h.base + path, { method: 'POST', headers: { 'content-type': type, authorization: alice }, body: '{"decision":"approve"}' });
        expect([type, res.status]).toEqual([type, 415]);
      }
    });
    it('refuses another origin and cross-site fetch metadata', async () => {
      expect((await post(path, { decision: 'approve' }, { origin: 'http://evil.example' })).status).toBe(403);
      expect((await post(path, { decision: 'approve' }, { origin: 'null' })).status).toBe(403);
      expect((await post(path, { decision: 'approve' }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      expect((await h.store.getDecision({ name: 'plain-pkg', version: '2.0.0' }))?.state).toBe('denied');
    });
    it('accepts its own origin', async () => {
      const res = await post(path, { decision: 'deny', reason: 'same origin' }, { origin: h.base, 'sec-fetch-site': 'same-origin' });
      expect(res.status).toBe(200);
    });
  });
});
