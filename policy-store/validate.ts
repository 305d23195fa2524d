// Owns input checks shared by every store: what a decision and an alert event must look like before
// they are written, so the file and PostgreSQL stores accept and refuse exactly the same things.
import type { Decision } from '../analyzer/types';
import { assertPackageName, assertText, assertVersion } from './keys';
import { PolicyStoreError } from './store';
import type { AlertEvent, AlertEventType, DecisionRecord, VersionState } from './store';

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
