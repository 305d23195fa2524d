import { parseWebhookTargets, targetsFor } from './config';
import { AlertError } from './errors';

describe('parseWebhookTargets', () => {
  it('accepts json and slack targets, defaults events to all, and freezes', () => {
    const targets = parseWebhookTargets([
      { id: 'siem', kind: 'json', url: 'https://siem.internal/hook', secret: 'a'.repeat(32) },
      { id: 'chat', kind: 'slack', url: 'http://127.0.0.1:9/x', events: ['held', 'denied', 'held'] },
    ]);
    expect(targets).toHaveLength(2);
    expect(targets[0]?.events).toEqual(['held', 'flagged', 'approved', 'denied']);
    expect(targets[1]?.events).toEqual(['held', 'denied']);
    expect(Object.isFrozen(targets)).toBe(true);
    expect(Object.isFrozen(targets[0])).toBe(true);
    expect(Object.isFrozen(targets[1]?.events)).toBe(true);
    expect(targetsFor(targets, 'flagged')).toEqual(['siem']);
    expect(targetsFor(targets, 'held')).toEqual(['siem', 'chat']);
  });

  it('treats a missing list as no targets', () => {
    expect(parseWebhookTargets(undefined)).toEqual([]);
  });

  it('reports every issue at once with a stable code', () => {
    let caught: unknown;
    try {
      parseWebhookTargets([
        { id: 'a b', kind: 'xml', url: 'ftp://x' },
        { id: 'ok', kind: 'slack', url: 'https://h/x', secret: 'abcdefghijklmnopq' },
        { id: 'ok', kind: 'json', url: 'https://user:pw@h/x', events: ['held', 'exploded'] },
        { id: 'short', kind: 'json', url: 'https://h/', secret: 'short', extra: 1 },
        'nope',
      ]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AlertError);
    const err = caught as AlertError;
    expect(err.code).toBe('CAPGATE_ALERT_CONFIG_INVALID');
    expect(err.issues).toEqual([
      'targets[0].id must be 1..64 characters of A-Z a-z 0-9 . _ -',
      'targets[0].kind must be "json" or "slack"',
      'targets[0].url must be an http(s) URL',
      'targets[1].secret is only for kind "json" (Slack verifies by the URL)',
      'targets[2].id "ok" is used twice',
      'targets[2].url must not carry credentials (use secret)',
      'targets[2].events: unknown event "exploded"',
      'targets[3].extra is not a known option',
      'targets[3].secret must be a string of 16..512 characters',
      'targets[4] must be an object',
    ]);
  });

  it('refuses a non-list', () => {
    expect(() => parseWebhookTargets({ id: 'x' })).toThrow(/targets must be a list/);
  });
});
