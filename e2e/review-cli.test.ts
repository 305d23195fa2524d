// `capgate review` against a real review API (real express, Verdaccio's htpasswd auth, a FileStore),
// with credentials found the way npm finds them (the real npm CLI reads the config).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { heldRecord } from '../alerts/test-records';
import { runReview } from '../cli/review';
import { startHarness, type Harness } from '../plugin/review/test-harness';

jest.setTimeout(60_000);

describe('capgate review (CLI)', () => {
  let h: Harness;
  let home: string;
  let env: NodeJS.ProcessEnv;

  async function withToken(token: string | null): Promise<void> {
    const lines = [`registry=${h.base}/`];
    if (token !== null) lines.push(`${h.base.replace(/^http:/, '')}/:_authToken=${token}`);
    await writeFile(path.join(home, '.npmrc'), lines.join('\n') + '\n');
  }

  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runReview(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd: home, env });
    return { code, out, err };
  }

  beforeAll(async () => {
    h = await startHarness({ users: { alice: 'alice-password-1', bob: 'bob-password-1' }, reviewers: { users: ['alice'], groups: [] } });
    home = await mkdtemp(path.join(tmpdir(), 'capgate-cli-home-'));
    env = { ...process.env, HOME: home, npm_config_userconfig: path.join(home, '.npmrc') };
    delete env['npm_config_registry'];
    for (const [name, version] of [['@acme/left-pad', '1.1.0'], ['plain-pkg', '2.0.0']] as const) {
      const { createdAt: _c, updatedAt: _u, ...record } = heldRecord({ name, version });
      await h.store.setDecision({ record });
    }
  });
  afterAll(async () => {
    await h.close();
    await rm(home, { recursive: true, force: true });
  });

  it('says how to log in when there is no token (401)', async () => {
    await withToken(null);
    const r = await run('list');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`not logged in to ${h.base}/: run npm login --registry ${h.base}/`);
  });

  it('says the user is not a reviewer (403)', async () => {
    await withToken(String(h.auth.aesEncrypt('bob:bob-password-1')));
    const r = await run('approve', 'plain-pkg@2.0.0');
    expect(r.code).toBe(2);
    expect(r.err).toContain('user "bob" is not a capgate reviewer');
    expect((await h.store.getDecision({ name: 'plain-pkg', version: '2.0.0' }))?.state).toBe('held');
  });

  it('lists, approves and denies with the npm token of the registry in the npm config', async () => {
    // The token npm login gets from Verdaccio (legacy AES token, Verdaccio's default).
    await withToken(String(h.auth.aesEncrypt('alice:alice-password-1')));
    const list = await run('list');
    expect(list.err).toBe('');
    expect(list.code).toBe(0);
    expect(list.out).toContain('@acme/left-pad@1.1.0  held  (1.0.0 -> 1.1.0)');
    expect(list.out).toContain('child-process: lib/install.js:3');

    const approve = await run('approve', '@acme/left-pad@1.1.0', '--reason', 'reviewed the installer');
    expect([approve.code, approve.out]).toEqual([0, 'approved @acme/left-pad@1.1.0 (by alice)\n']);
    const deny = await run('deny', 'plain-pkg@2.0.0', '--reason', 'exfiltrates tokens', '--registry', `${h.base}/`);
    expect(deny.code).toBe(0);
    expect(await h.store.getDecision({ name: '@acme/left-pad', version: '1.1.0' })).toEqual(expect.objectContaining({ state: 'approved', by: 'alice', reason: 'reviewed the installer' }));
    expect(await h.store.getDecision({ name: 'plain-pkg', version: '2.0.0' })).toEqual(expect.objectContaining({ state: 'denied', by: 'alice', reason: 'exfiltrates tokens' }));

    const audit = await run('audit', '--limit', '2', '--json');
    const entries = (JSON.parse(audit.out) as { entries: Array<{ action: string; by: string }> }).entries;
    expect(entries.map((e) => `${e.action}/${e.by}`)).toEqual(['denied/alice', 'approved/alice']);
  });

  it('records a scoped approval from the command line', async () => {
    const { createdAt: _c, updatedAt: _u, ...record } = heldRecord({ name: 'scoped-cli', version: '3.0.1' });
    await h.store.setDecision({ record });
    const r = await run('approve', 'scoped-cli@3.0.1', '--range', '^3.0.0', '--capability', 'network', '--reason', 'telemetry');
    expect(r.code).toBe(0);
    expect((await h.store.listScopedApprovals({ name: 'scoped-cli' })).map((a) => [a.capability, a.range])).toEqual([['network', '^3.0.0']]);
  });

  it('refuses bad input before calling the registry', async () => {
    expect((await run('approve', 'left-pad')).err).toContain('expected <name>@<version>');
    expect((await run('deny', '../../etc@1.0.0')).code).toBe(2);
    expect((await run('deny', 'x@1.0.0', '--reason', 'a\u202eb')).err).toContain('control or invisible');
    expect((await run('approve', 'x@1.0.0', '--range', '^1', '--capability', 'teleport')).code).toBe(2);
    expect((await run('bogus')).code).toBe(2);
    expect((await run()).code).toBe(2);
  });

  it('says when the registry cannot be reached or has no review API', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await run('list', '--registry', `http://127.0.0.1:${port}/`);
    expect(down.code).toBe(2);
    expect(down.err).toContain(`cannot reach the registry at http://127.0.0.1:${port}/: ECONNREFUSED`);
    const notFound = await run('list', '--registry', `${h.base}/nothing-here/`);
    expect(notFound.code).toBe(2);
  });
});
