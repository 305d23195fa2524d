// Alerts from the real gated registry (`capgate serve`, the real npm client) to a real local
// receiver that is down and comes back, across a restart of the registry: the held event and the
// approved event arrive signed, once each, and a down receiver never changes or delays a decision.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestReceiver, waitUntil } from '../alerts/test-receiver';
import { verifySignature } from '../alerts/sign';
import { makePackage } from '../test-support/make-package';
import { cleanEnv, REPO_ROOT, writeGatedConfig } from './support/gated';
import { makeProject } from './support/npm';
import { expectRefused } from './support/outcomes';
import { requestJson, startUpstream, type Upstream } from './support/upstream';

jest.setTimeout(240_000);

const SECRET = 'e2e-webhook-secret-0123456789';
const REVIEWER = { name: 'ada', password: 'ada-password-1' };

interface Registry {
  readonly url: string;
  stop(): Promise<void>;
}

let upstream: Upstream;
let receiver: TestReceiver;
let work: string;

/** `capgate serve` from the repository's verdaccio.yaml plus an `alerts:` block, on `storage`. */
async function startRegistry(storage: string): Promise<Registry> {
  const dir = await fs.mkdtemp(path.join(work, 'gated-'));
  let yaml = await fs.readFile(await writeGatedConfig(dir, { mode: 'enforce', onError: 'block' }), 'utf8');
  const block = [
    '    alerts:',
    '      targets:',
    `        - { id: siem, kind: json, url: "${receiver.url}/json", secret: "${SECRET}" }`,
    `        - { id: chat, kind: slack, url: "${receiver.url}/slack", events: [held, approved] }`,
  ].join('\n');
  if (!/^ {2}capgate:$/m.test(yaml)) throw new Error('verdaccio.yaml has no `  capgate:` block');
  yaml = yaml.replace(/^ {2}capgate:$/m, `  capgate:\n${block}`);
  const file = path.join(dir, 'verdaccio.yaml');
  await fs.writeFile(file, yaml);
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli', 'bin.js'), 'serve', '--config', file, '--port', '0'], {
    env: cleanEnv({ CAPGATE_UPSTREAM: upstream.url, VERDACCIO_STORAGE_PATH: storage, CAPGATE_REVIEWERS: REVIEWER.name }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const m = /gated registry listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`capgate serve exited with ${code}:\n${out}`)));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-alerts-e2e-'));
  upstream = await startUpstream();
  const plain = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
  const spawns = "const cp = require('child_process');\nmodule.exports = function add(a, b) {\n  cp.exec('id');\n  return a + b;\n};\n";
  await upstream.publish(await makePackage({ name: 'alerted', version: '1.0.0', main: 'index.js', license: 'MIT' }, { 'index.js': plain }));
  await upstream.publish(await makePackage({ name: 'alerted', version: '1.1.0', main: 'index.js', license: 'MIT' }, { 'index.js': spawns }));
  receiver = new TestReceiver();
  await receiver.start();
});

afterAll(async () => {
  await receiver?.stop();
  await upstream?.close();
  await fs.rm(work, { recursive: true, force: true });
});

function bodies(p: string): Array<Record<string, unknown>> {
  return receiver.received.filter((r) => r.path === p).map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

describe('alerts from the gated registry', () => {
  it('delivers held and approved events after the receiver comes back and the registry restarts', async () => {
    const storage = path.join(work, 'storage');
    await receiver.stop(); // down before anything happens; its port is kept
    let registry = await startRegistry(storage);
    try {
      const project = await makeProject(registry.url);
      // The receiver is down: the decision is the same as ever, and npm gets it at once (the
      // first install of the undecided update reaches the gate).
      const refused = await project.npm(['install', 'alerted@1.1.0']);
      expectRefused(refused, 'capgate: alerted@1.1.0 is held for review', 'child-process', 'compared with 1.0.0');
      // Held, so hidden: `npm install alerted` takes 1.0.0.
      expect((await project.npm(['install', 'alerted'])).code).toBe(0);
      expect(await project.readJson('node_modules/alerted/package.json')).toMatchObject({ version: '1.0.0' });

      const added = await requestJson('PUT', `${registry.url}-/user/org.couchdb.user:${REVIEWER.name}`, { name: REVIEWER.name, password: REVIEWER.password });
      expect(added.status).toBe(201);
      const token = (added.body as { token: string }).token;
      const approved = await requestJson('POST', `${registry.url}-/capgate/v1/reviews/alerted/1.1.0`, { decision: 'approve', reason: 'id is harmless' }, token);
      expect(approved.status).toBe(200);

      // Restart the registry with both events still undelivered, then bring the receiver back.
      await registry.stop();
      registry = await startRegistry(storage);
      await receiver.start();
      await waitUntil('held and approved delivered to both targets', () => bodies('/json').length >= 2 && bodies('/slack').length >= 2, 120_000);

      const json = bodies('/json');
      expect(json.map((b) => b['type']).sort()).toEqual(['approved', 'held']);
      const held = json.find((b) => b['type'] === 'held');
      expect(held).toMatchObject({ name: 'alerted', version: '1.1.0', baseline: '1.0.0', gained: ['child-process'], by: 'capgate' });
      expect(json.find((b) => b['type'] === 'approved')).toMatchObject({ name: 'alerted', version: '1.1.0', state: 'approved', by: REVIEWER.name, reason: 'id is harmless' });
      for (const r of receiver.received.filter((x) => x.path === '/json')) {
        const sig = r.headers['x-capgate-signature'];
        expect(verifySignature(SECRET, typeof sig === 'string' ? sig : undefined, r.body).ok).toBe(true);
        expect(r.headers['x-capgate-event-id']).toBe((JSON.parse(r.body) as { id: string }).id);
      }
      const slack = bodies('/slack');
      expect(slack.map((b) => String(b['text']))).toEqual(expect.arrayContaining([expect.stringContaining('alerted@1.1.0')]));
      // Once each per target (a redelivery would carry the same id; none happened here).
      const ids = receiver.received.map((r) => `${r.path} ${r.eventId}`);
      expect(new Set(ids).size).toBe(ids.length);
      expect(receiver.concurrentDuplicates).toEqual([]);

      // And the approval took effect (a new project: the restarted registry has a new port).
      const after = await makeProject(registry.url);
      const installed = await after.npm(['install', 'alerted@1.1.0']);
      expect([installed.code, installed.code === 0 ? '' : installed.output]).toEqual([0, '']);
    } finally {
      await registry.stop();
    }
  });
});
