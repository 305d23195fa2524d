// Owns AlertEvent construction from a decision record: stable ids (receivers deduplicate on them) and payloads.
import { createHash } from 'node:crypto';
import type { CapabilityId, Evidence } from '../analyzer/types';
import type { AlertEvent, AlertEventType, DecisionRecord } from '../policy-store/store';

/** Evidence items kept per gained capability in an event (events are notifications, not reports). */
export const MAX_EVIDENCE_PER_ID = 3;
const MAX_DETAIL_ITEMS = 20;

/** Keys of the generic JSON body that a payload can never override. */
export const RESERVED_KEYS: readonly string[] = Object.freeze(['id', 'type', 'createdAt', 'name', 'version']);

/**
 * The id of the event `type` for this decision: sha256 over type, name, version, integrity and the
 * decision's `updatedAt`. The same decision always yields the same id, so a redelivered or re-enqueued
 * event is recognisable; a later decision on the same version (a human one) yields a new id.
 */
export function alertEventId(type: AlertEventType, record: Pick<DecisionRecord, 'name' | 'version' | 'integrity' | 'updatedAt'>): string {
  return createHash('sha256')
    .update([type, record.name, record.version, record.integrity, record.updatedAt].join('\u0000'), 'utf8')
    .digest('hex');
}

function pickEvidence(e: Evidence): Record<string, unknown> {
  const out: Record<string, unknown> = { file: e.file, line: e.line, column: e.column, api: e.api, snippet: e.snippet };
  if (e.reachable === false) out['reachable'] = false;
  if (e.via !== undefined) out['via'] = e.via;
  return out;
}

/**
 * Builds the event for a decision. `extra` adds JSON-able fields (e.g. `reviewUrl`); reserved keys
 * (id, type, createdAt, name, version) in it are ignored. createdAt is the decision's `updatedAt`.
 */
export function createAlertEvent(
  type: AlertEventType,
  record: DecisionRecord,
  extra: Readonly<Record<string, unknown>> = {},
): AlertEvent {
  const evidence: Partial<Record<CapabilityId, Record<string, unknown>[]>> = {};
  const evidenceCounts: Partial<Record<CapabilityId, number>> = {};
  for (const id of record.diff.gained) {
    const list = record.diff.evidence[id] ?? [];
    evidence[id] = list.slice(0, MAX_EVIDENCE_PER_ID).map(pickEvidence);
    evidenceCounts[id] = list.length;
  }
  const d = record.diff.details;
  const payload: Record<string, unknown> = {
    state: record.state,
    automatic: record.automatic,
    mode: record.mode,
    integrity: record.integrity,
    rulesVersion: record.rulesVersion,
    baseline: record.baseline,
    gained: [...record.diff.gained],
    lost: [...record.diff.lost],
    evidence,
    evidenceCounts,
    details: {
      newHosts: d.newHosts.slice(0, MAX_DETAIL_ITEMS),
      newDependencies: d.newDependencies.slice(0, MAX_DETAIL_ITEMS),
      changedInstallScripts: d.changedInstallScripts.slice(0, MAX_DETAIL_ITEMS),
      newKeypaths: d.newKeypaths.slice(0, MAX_DETAIL_ITEMS),
    },
    by: record.by,
    reason: record.reason,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (!RESERVED_KEYS.includes(k)) payload[k] = v;
  }
  return Object.freeze({
    id: alertEventId(type, record),
    type,
    createdAt: record.updatedAt,
    name: record.name,
    version: record.version,
    payload: Object.freeze(payload),
  });
}
