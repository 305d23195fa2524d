// Monitor mode end to end: the same updates that enforce refuses are served, and the decisions
// record what enforce would have done. Also the control for the install-script test of
// gate.test.ts: served here, the fixture's postinstall does run and writes its marker.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { installScriptUpdate, spawningUpdate } from './support/fixtures';
import { removeTempDirs, startGated } from './support/gated';
import type { Gated } from './support/gated';
import { makeProject } from './support/npm';
import { requestJson, startUpstream } from './support/upstream';
import type { Upstream } from './support/upstream';

jest.setTimeout(180_000);

let upstream: Upstream;
let gated: Gated;
let work: string;
let marker: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-e2e-monitor-'));
  marker = path.join(work, 'postinstall-ran');
  upstream = await startUpstream();
  for (const f of [...(await spawningUpdate('benign')), ...(await installScriptUpdate('scripty', marker))]) await upstream.publish(f.tarball);
  gated = await startGated({ upstream: upstream.url, mode: 'monitor' });
});

afterAll(async () => {
  await gated?.stop();
  await upstream?.close();
  await fs.rm(work, { recursive: true, force: true });
  await removeTempDirs();
});

async function policy(name: string, version: string): Promise<Record<string, unknown>> {
  const r = await requestJson('GET', `${gated.url}-/capgate/v1/policies/${name}/${version}`);
  expect(r.status).toBe(200);
  return r.body as Record<string, unknown>;
}

describe('monitor mode', () => {
  it('serves an update enforce would hold and records the hold', async () => {
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'benign@1.1.0']);
    expect(r.code).toBe(0);
    expect(await project.readJson('node_modules/benign/package.json')).toMatchObject({ version: '1.1.0' });
    const p = await policy('benign', '1.1.0');
    expect(p).toMatchObject({ state: 'held', baseline: '1.0.0', gained: ['child-process'], decision: { mode: 'monitor', automatic: 'block' } });
  });

  it('serves an install-script update, whose script then runs (the refusal in enforce mode is what stops it)', async () => {
    const project = await makeProject(gated.url);
    const r = await project.npm(['install', 'scripty@1.1.0']);
    expect(r.code).toBe(0);
    expect(await fs.readFile(marker, 'utf8')).toBe('ran');
    expect(await policy('scripty', '1.1.0')).toMatchObject({ state: 'held', gained: ['install-script'], decision: { mode: 'monitor' } });
  });
});
