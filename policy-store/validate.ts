// Owns input checks shared by every store: what a decision and an alert event must look like before
// they are written, so the file and PostgreSQL stores accept and refuse exactly the same things.
import { isCapabilityId } from '../analyzer/types';
import type { Decision } from '../analyzer/types';
import { assertPackageName, assertRange, assertText, assertVersion, versionProblem } from './keys';
import { PolicyStoreError } from './store';
import type { AlertEvent, AlertEventType, AuditEntry, DecisionRecord, ScopedApproval, VersionState } from './store';

export const VERSION_STATES: readonly VersionState[] = ['allowed', 'flagged', 'held', 'approved', 'denied'];
const DECISIONS: readonly Decision[] = ['allow', 'flag', 'block'];
const EVENT_TYPES: readonly AlertEventType[] = ['held', 'flagged', 'approved', 'denied'];

function invalid(message: string): PolicyStoreError {
  return new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && !Number.isNaN(Date.parse(value));
}

/** Checks a decision before it is written; returns a plain-JSON copy (what a later read returns). */
export function validateDecisionInput(record: Omit<DecisionRecord, 'createdAt' | 'updatedAt'>): Omit<DecisionRecord, 'createdAt' | 'updatedAt'> {
  if (!isObject(record)) throw invalid('decision record must be an object');
  assertPackageName(record.name);
  assertVersion(record.version);
  assertText('integrity', record.integrity, 1024);
  assertText('rulesVersion', record.rulesVersion, 128);
  if (!VERSION_STATES.includes(record.state)) throw invalid(`unknown state ${JSON.stringify(record.state)}`);
  if (!DECISIONS.includes(record.automatic)) throw invalid(`unknown automatic decision ${JSON.stringify(record.automatic)}`);
  if (record.mode !== 'enforce' && record.mode !== 'monitor') throw invalid(`unknown mode ${JSON.stringify(record.mode)}`);
  if (record.baseline !== null) assertVersion(record.baseline);
  if (!isObject(record.diff) || !Array.isArray(record.diff.gained)) throw invalid('decision diff must be a PolicyDiff');
  assertText('by', record.by, 256);
  assertText('reason', record.reason, 4096, true);
  const { name, version, integrity, rulesVersion, state, automatic, mode, baseline, diff, by, reason } = record;
  return JSON.parse(JSON.stringify({ name, version, integrity, rulesVersion, state, automatic, mode, baseline, diff, by, reason })) as Omit<DecisionRecord, 'createdAt' | 'updatedAt'>;
}

/** Checks an alert event before it is enqueued; returns a plain-JSON copy. */
export function validateEvent(event: AlertEvent): AlertEvent {
  if (!isObject(event)) throw invalid('alert event must be an object');
  assertText('event id', event.id, 512);
  if (!EVENT_TYPES.includes(event.type)) throw invalid(`unknown event type ${JSON.stringify(event.type)}`);
  if (!isIsoDate(event.createdAt)) throw invalid('event createdAt must be an ISO-8601 date');
  assertPackageName(event.name);
  assertVersion(event.version);
  if (!isObject(event.payload)) throw invalid('event payload must be an object');
  const { id, type, createdAt, name, version, payload } = event;
  return JSON.parse(JSON.stringify({ id, type, createdAt: new Date(createdAt).toISOString(), name, version, payload })) as AlertEvent;
}

/** Checks an audit entry before it is appended; returns a plain-JSON copy. */
export function validateAuditEntry(e: Omit<AuditEntry, 'id' | 'at'>): Omit<AuditEntry, 'id' | 'at'> {
  if (!isObject(e)) throw invalid('audit entry must be an object');
  assertPackageName(e.name);
  if (versionProblem(e.version) !== null) assertRange(e.version); // a version, or a range for scoped approvals
  assertText('action', e.action, 64);
  assertText('by', e.by, 256);
  assertText('reason', e.reason, 4096, true);
  const { name, version, action, by, reason } = e;
  return e.details === undefined ? { name, version, action, by, reason } : { name, version, action, by, reason, details: JSON.parse(JSON.stringify(e.details)) as unknown };
}

/** Checks a scoped approval; returns it with a normalised `expiresAt` (ISO-8601 with milliseconds). */
export function validateApproval(a: Omit<ScopedApproval, 'id' | 'createdAt'>): Omit<ScopedApproval, 'id' | 'createdAt'> {
  if (!isObject(a)) throw invalid('scoped approval must be an object');
  assertPackageName(a.name);
  assertRange(a.range);
  if (!isCapabilityId(a.capability)) throw invalid(`unknown capability ${JSON.stringify(a.capability)}`);
  if (a.expiresAt !== null && !isIsoDate(a.expiresAt)) throw invalid('expiresAt must be an ISO-8601 date or null');
  assertText('by', a.by, 256);
  assertText('reason', a.reason, 4096, true);
  return { name: a.name, range: a.range, capability: a.capability, expiresAt: a.expiresAt === null ? null : new Date(a.expiresAt).toISOString(), by: a.by, reason: a.reason };
}

/** Checks the outbox's plain strings (event ids, targets, owners). */
export function assertOutboxKeys(p: { eventId?: string; target?: string; owner?: string }): void {
  if (p.eventId !== undefined) assertText('eventId', p.eventId, 512);
  if (p.target !== undefined) assertText('target', p.target, 256);
  if (p.owner !== undefined) assertText('owner', p.owner, 256);
}

/** Checks claimDeliveries' numbers. */
export function assertClaim(p: { owner: string; limit: number; leaseMs: number; now?: Date }): void {
  assertText('owner', p.owner, 256);
  if (!Number.isInteger(p.limit) || p.limit < 0) throw invalid('limit must be a non-negative integer');
  if (!(typeof p.leaseMs === 'number' && p.leaseMs > 0 && Number.isFinite(p.leaseMs))) throw invalid('leaseMs must be a positive number');
  if (p.now !== undefined && (!(p.now instanceof Date) || Number.isNaN(p.now.getTime()))) throw invalid('now must be a valid Date');
}

/** Checks a lease request. */
export function assertLease(p: { key: string; owner: string; ttlMs?: number }): void {
  assertText('lease key', p.key, 512);
  assertText('owner', p.owner, 256);
  if (p.ttlMs !== undefined && !(typeof p.ttlMs === 'number' && p.ttlMs > 0 && Number.isFinite(p.ttlMs))) throw invalid('ttlMs must be a positive number');
}

/** Checks an optional list limit. */
export function assertLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw invalid('limit must be a non-negative integer');
}
