// The review page in a real headless Chromium (Debian's /usr/bin/chromium, never a downloaded
// browser) against the real gated registry: a reviewer logs in with the registry's own login,
// approves a held update from the page, and the next `npm install` of it succeeds.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { makePackage } from '../test-support/make-package';
import { startGated, type Gated } from './support/gated';
import { makeProject } from './support/npm';
import { expectRefused } from './support/outcomes';
import { requestJson, startUpstream, type Upstream } from './support/upstream';

jest.setTimeout(240_000);

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env['CI'] === 'true';
if (!haveChromium && !inCi) {
  // Loud, because a skipped browser test hides a broken page.
  process.stderr.write(
    `\n*** review-page.test: SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium chromium-driver). Under CI=true this fails instead. ***\n\n`,
  );
}
const browserIt = haveChromium || inCi ? it : it.skip;

const REVIEWER = { name: 'rita', password: 'rita-password-1' };
const XSS = '<img src=x onerror=window.__capgateXss=1>';

let upstream: Upstream;
let gated: Gated;
let browser: Browser | null = null;
let savedReviewers: string | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  upstream = await startUpstream();
  const plain = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
  // The update spawns a process, and its evidence snippet carries HTML that must stay text.
  const spawns = `const cp = require('child_process');\nmodule.exports = function add(a, b) {\n  cp.exec('echo "${XSS}"');\n  return a + b;\n};\n`;
  await upstream.publish(await makePackage({ name: 'reviewed', version: '1.0.0', main: 'index.js', license: 'MIT' }, { 'index.js': plain }));
  await upstream.publish(await makePackage({ name: 'reviewed', version: '1.1.0', main: 'index.js', license: 'MIT' }, { 'index.js': spawns }));
  savedReviewers = process.env['CAPGATE_REVIEWERS'];
  process.env['CAPGATE_REVIEWERS'] = REVIEWER.name; // `capgate serve` reads it (issue 4)
  gated = await startGated({ upstream: upstream.url });
  const ui = await requestJson('GET', `${gated.url}-/capgate/ui/`);
  if (ui.status !== 200) throw new Error(`the gated registry does not serve the review page (${ui.status}): the plugin must call mountReview (plugin/review/index.ts)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  if (savedReviewers === undefined) delete process.env['CAPGATE_REVIEWERS'];
  else process.env['CAPGATE_REVIEWERS'] = savedReviewers;
  await browser?.close();
  await gated?.stop();
  await upstream?.close();
});

describe('review page in Chromium', () => {
  browserIt('a reviewer approves a held update from the page, then npm installs it', async () => {
    if (!haveChromium || browser === null) throw new Error(`${CHROMIUM} is missing: install Debian's chromium and chromium-driver (CI=true makes this a failure)`);
    // Self-registration, as `npm adduser` does against Verdaccio's htpasswd.
    const added = await requestJson('PUT', `${gated.url}-/user/org.couchdb.user:${REVIEWER.name}`, { name: REVIEWER.name, password: REVIEWER.password });
    expect(added.status).toBe(201);

    // The first install of the undecided update reaches the gate, which holds it and says why.
    const project = await makeProject(gated.url);
    const refused = await project.npm(['install', 'reviewed@1.1.0']);
    expectRefused(refused, 'capgate: reviewed@1.1.0 is held for review', 'child-process', 'compared with 1.0.0');
    // While it is held the metadata filter hides it: `npm install reviewed` takes 1.0.0.
    expect((await project.npm(['install', 'reviewed'])).code).toBe(0);
    expect(await project.readJson('node_modules/reviewed/package.json')).toMatchObject({ version: '1.0.0' });

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const origin = new URL(gated.url).origin;
    const foreign: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(origin + '/')) foreign.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${gated.url}-/capgate/ui/`);
    await page.locator('#user').fill(REVIEWER.name);
    await page.locator('#pass').fill(REVIEWER.password);
    await page.locator('#login-form button[type=submit]').click();

    const card = page.locator('.card[data-id="reviewed@1.1.0"]');
    await card.waitFor();
    await expect(card.textContent()).resolves.toContain('compared 1.0.0 → 1.1.0');
    await expect(card.textContent()).resolves.toContain('child-process');
    // Evidence as file:line:column: the require on line 1 and the exec on line 3.
    const where = await card.locator('td.loc').allTextContents();
    expect(where).toEqual(expect.arrayContaining([expect.stringMatching(/^index\.js:1:\d+/), expect.stringMatching(/^index\.js:3:\d+/)]));
    // The snippet is shown as text: no element was created from it and its handler never ran.
    await expect(card.textContent()).resolves.toContain(XSS);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__capgateXss')).toBeUndefined();
    // The token is in sessionStorage (not a cookie): page actions carry it as a Bearer header.
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate("sessionStorage.getItem('capgate.review.auth')")).toContain('Bearer ');
    // Usable on a laptop screen: nothing wider than the viewport.
    expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(1366);

    await card.locator('input[type=text]').first().fill('checked the new exec: harmless echo');
    await card.locator('button.approve').click();
    await page.locator('#status.ok').waitFor();
    await expect(page.locator('#status').textContent()).resolves.toBe('Approved reviewed@1.1.0');
    await page.locator('.card[data-id="reviewed@1.1.0"]').waitFor({ state: 'detached' });
    // The audit table reloads on its own after the card list: wait for the approval's row.
    const audit = page.locator('#audit tr', { hasText: 'reviewed@1.1.0' }).filter({ hasText: 'approved' }).first();
    await audit.waitFor({ timeout: 10_000 });
    await expect(audit.textContent()).resolves.toContain(REVIEWER.name);

    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();

    const after = await project.npm(['install', 'reviewed@1.1.0']);
    expect([after.code, after.code === 0 ? '' : after.output]).toEqual([0, '']);
    expect(await project.readJson('node_modules/reviewed/package.json')).toMatchObject({ version: '1.1.0' });
    const record = await requestJson('GET', `${gated.url}-/capgate/v1/policies/reviewed/1.1.0`);
    expect(record.body).toMatchObject({ state: 'approved' });
  });

  browserIt('refuses a logged-in user who is not a reviewer, on the page too', async () => {
    if (!haveChromium || browser === null) throw new Error(`${CHROMIUM} is missing`);
    const added = await requestJson('PUT', `${gated.url}-/user/org.couchdb.user:nobody`, { name: 'nobody', password: 'nobody-password-1' });
    expect(added.status).toBe(201);
    const page = await browser.newPage();
    await page.goto(`${gated.url}-/capgate/ui/`);
    await page.locator('#user').fill('nobody');
    await page.locator('#pass').fill('nobody-password-1');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('#status.error').waitFor();
    await expect(page.locator('#status').textContent()).resolves.toContain('"nobody" is not a capgate reviewer');
    expect(await page.locator('.card').count()).toBe(0);
    await page.close();
  });
});

