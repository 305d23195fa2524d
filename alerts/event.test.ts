import { alertEventId, createAlertEvent, MAX_EVIDENCE_PER_ID } from './event';
import { renderJsonBody, renderSlackBody } from './payload';
import { heldRecord } from './test-records';

describe('createAlertEvent', () => {
  it('has a stable id per (type, name, version, integrity, decision time)', () => {
    const a = createAlertEvent('held', heldRecord());
    const b = createAlertEvent('held', heldRecord());
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    expect(createAlertEvent('flagged', heldRecord()).id).not.toBe(a.id);
    expect(createAlertEvent('held', heldRecord({ version: '1.1.1' })).id).not.toBe(a.id);
    expect(createAlertEvent('held', heldRecord({ integrity: 'sha512-other' })).id).not.toBe(a.id);
    expect(createAlertEvent('held', heldRecord({ updatedAt: '2026-11-25T10:00:00.000Z' })).id).not.toBe(a.id);
    expect(a.id).toBe(alertEventId('held', heldRecord()));
  });

  it('carries gained ids, capped evidence, details, and extra fields without letting them override the core', () => {
    const e = createAlertEvent('held', heldRecord(), { reviewUrl: 'http://127.0.0.1:4873/-/capgate/ui/', name: 'spoofed', id: 'x' });
    expect(e.name).toBe('@acme/left-pad');
    expect(e.createdAt).toBe('2026-11-25T09:00:00.000Z');
    expect(e.payload['gained']).toEqual(['child-process', 'network']);
    expect(e.payload['baseline']).toBe('1.0.0');
    expect(e.payload['reviewUrl']).toBe('http://127.0.0.1:4873/-/capgate/ui/');
    expect(e.payload['name']).toBeUndefined();
    const ev = e.payload['evidence'] as Record<string, unknown[]>;
    expect(ev['child-process']).toHaveLength(MAX_EVIDENCE_PER_ID);
    expect((e.payload['evidenceCounts'] as Record<string, number>)['child-process']).toBe(4);
    expect(Object.isFrozen(e)).toBe(true);
  });
});

describe('payloads', () => {
  it('generic JSON is {id, type, createdAt, name, version, ...payload}', () => {
    const e = createAlertEvent('held', heldRecord());
    const body = JSON.parse(renderJsonBody(e)) as Record<string, unknown>;
    expect(Object.keys(body).slice(0, 5)).toEqual(['id', 'type', 'createdAt', 'name', 'version']);
    expect(body['id']).toBe(e.id);
    expect(body['type']).toBe('held');
    expect(body['gained']).toEqual(['child-process', 'network']);
    expect(body['state']).toBe('held');
  });

  it('Slack body has text and blocks with package, versions, gained, first evidence (escaped) and link', () => {
    const e = createAlertEvent('held', heldRecord(), { reviewUrl: 'http://127.0.0.1:4873/-/capgate/ui/#x' });
    const body = JSON.parse(renderSlackBody(e)) as { text: string; blocks: Array<Record<string, unknown>> };
    expect(body.text).toContain('@acme/left-pad@1.1.0');
    expect(body.text).toContain('child-process, network');
    const all = JSON.stringify(body.blocks);
    expect(all).toContain('1.0.0 → 1.1.0');
    expect(all).toContain('lib/install.js:3');
    // `<x>` in the snippet must not become a Slack link/mention.
    expect(all).toContain('&lt;x&gt;');
    expect(all).not.toContain('<x>');
    expect(all).toContain('http://127.0.0.1:4873/-/capgate/ui/#x');
  });

  it('Slack body names the reviewer for human decisions', () => {
    const e = createAlertEvent('denied', heldRecord({ by: 'alice', reason: 'no <script> here', state: 'denied' }));
    const text = JSON.stringify(JSON.parse(renderSlackBody(e)));
    expect(text).toContain('By alice: no &lt;script&gt; here');
  });
});
