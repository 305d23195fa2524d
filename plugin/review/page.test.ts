import { startHarness, type Harness } from './test-harness';

describe('review page', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ users: {}, reviewers: { users: ['alice'], groups: [] } });
  });
  afterAll(async () => h.close());

  it('is one self-contained document under a CSP that forbids every external source', async () => {
    const res = await fetch(`${h.base}/-/capgate/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce ?? ''}">`);
    expect(html).toContain(`<style nonce="${nonce ?? ''}">`);
    // No external resources: no src/href to another origin, no protocol-relative or absolute URLs.
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toContain('innerHTML');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('gives each response its own nonce', async () => {
    const a = (await fetch(`${h.base}/-/capgate/ui/`)).headers.get('content-security-policy');
    const b = (await fetch(`${h.base}/-/capgate/ui/`)).headers.get('content-security-policy');
    expect(a).not.toBe(b);
  });

  it('redirects the slash-less path', async () => {
    const res = await fetch(`${h.base}/-/capgate/ui`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/-/capgate/ui/');
  });
});
