// Tests validate.ts: what every store accepts and refuses before writing.
import { assertClaim, validateApproval, validateAuditEntry, validateDecisionInput, validateEvent } from './validate';
import { sampleDecision } from './store.contract';
import { PolicyStoreError } from './store';
import type { AlertEvent, DecisionRecord } from './store';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof PolicyStoreError ? err.code : 'other';
  }
}

describe('validateDecisionInput', () => {
  it('returns a plain copy without unknown fields', () => {
    const input = { ...sampleDecision('a', '1.0.0', 'held'), extra: 'dropped' } as Omit<DecisionRecord, 'createdAt' | 'updatedAt'>;
    expect(validateDecisionInput(input)).toEqual(sampleDecision('a', '1.0.0', 'held'));
  });
  it.each([
    ['mode', { mode: 'yolo' }],
    ['automatic', { automatic: 'maybe' }],
    ['baseline', { baseline: 'latest' }],
    ['by', { by: '' }],
    ['reason', { reason: 'x'.repeat(5000) }],
    ['reason control characters', { reason: 'a\u0007b' }],
    ['integrity', { integrity: '' }],
    ['diff', { diff: null }],
  ])('refuses a bad %s', (_what, patch) => {
    const bad = { ...sampleDecision('a', '1.0.0', 'held'), ...patch } as unknown as Omit<DecisionRecord, 'createdAt' | 'updatedAt'>;
    expect(codeOf(() => validateDecisionInput(bad))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
  });
});

describe('validateEvent', () => {
  const event: AlertEvent = { id: 'e', type: 'held', createdAt: '2026-01-01T00:00:00Z', name: 'a', version: '1.0.0', payload: { x: 1 } };
  it('normalises createdAt to ISO-8601 with milliseconds', () => {
    expect(validateEvent(event).createdAt).toBe('2026-01-01T00:00:00.000Z');
  });
  it('refuses unknown types, bad dates and a missing payload', () => {
    expect(codeOf(() => validateEvent({ ...event, type: 'boom' as AlertEvent['type'] }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
    expect(codeOf(() => validateEvent({ ...event, createdAt: 'yesterday' }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
    expect(codeOf(() => validateEvent({ ...event, payload: null as unknown as AlertEvent['payload'] }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
  });
});

describe('validateAuditEntry, validateApproval, assertClaim', () => {
  it('accepts a version or a range in an audit entry, nothing else', () => {
    expect(validateAuditEntry({ name: 'a', version: '^1.0.0', action: 'scoped-approval', by: 'x', reason: '' }).version).toBe('^1.0.0');
    expect(codeOf(() => validateAuditEntry({ name: 'a', version: '../../x', action: 'a', by: 'x', reason: '' }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
  });
  it('normalises an approval expiry and refuses a bad one', () => {
    expect(validateApproval({ name: 'a', range: '*', capability: 'network', expiresAt: '2026-05-01', by: 'x', reason: '' }).expiresAt).toBe('2026-05-01T00:00:00.000Z');
    expect(codeOf(() => validateApproval({ name: 'a', range: '*', capability: 'network', expiresAt: 'soon', by: 'x', reason: '' }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
  });
  it('refuses a negative limit or a zero lease', () => {
    expect(codeOf(() => assertClaim({ owner: 'o', limit: -1, leaseMs: 1 }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
    expect(codeOf(() => assertClaim({ owner: 'o', limit: 1, leaseMs: 0 }))).toBe('CAPGATE_POLICY_STORE_INVALID_KEY');
    expect(codeOf(() => assertClaim({ owner: 'o', limit: 1, leaseMs: 1 }))).toBeNull();
  });
});
