// Owns the one-line texts npm prints for a refusal (npm shows only the JSON `error` field, after
// "403 Forbidden - GET <url> - "), and the log lines of decisions.
import type { CapabilityId, Evidence, PolicyDiff } from '../analyzer/types';
import type { DecisionRecord } from '../policy-store/store';

const MAX_IDS = 4;
const MAX_LINE = 600;

/** `child-process (index.js:3), network (lib/http.js:12 via dep@1.0.0)` */
export function describeGained(diff: PolicyDiff, ids: readonly CapabilityId[] = diff.gained): string {
  const parts = ids.slice(0, MAX_IDS).map((id) => {
    const ev = diff.evidence[id]?.[0];
    return ev === undefined ? id : `${id} (${where(ev)})`;
  });
  if (ids.length > MAX_IDS) parts.push(`+${ids.length - MAX_IDS} more`);
  return parts.join(', ');
}

function where(ev: Evidence): string {
  const loc = ev.line > 0 ? `${ev.file}:${ev.line}` : ev.file;
  return ev.via !== undefined ? `${loc} via ${ev.via}` : loc;
}

/** The refusal text of a held or denied version. */
export function refusalText(record: DecisionRecord, reviewUrl: string): string {
  const id = `${record.name}@${record.version}`;
  const against = record.baseline === null ? 'with no allowed earlier version' : `with ${record.baseline}`;
  if (record.state === 'denied') {
    const why = record.reason.trim() === '' ? '' : `: ${record.reason}`;
    return oneLine(`capgate: ${id} was denied by ${record.by}${why} (compared ${against}; details ${reviewUrl})`);
  }
  const gained = record.diff.gained.length > 0 ? describeGained(record.diff) : 'nothing';
  return oneLine(`capgate: ${id} is held for review: gained ${gained} compared ${against}; review ${reviewUrl}`);
}

/** The refusal text of a failure (code and its description). */
export function failureText(name: string, version: string | null, code: string, message: string, reviewUrl: string | null): string {
  const id = version === null ? name : `${name}@${version}`;
  const more = reviewUrl === null ? '' : `; details ${reviewUrl}`;
  return oneLine(`capgate: refused ${id}: ${message} [${code}]${more}`);
}

/** The `reason` stored with an automatic decision. */
export function decisionReason(diff: PolicyDiff): string {
  const against = diff.baseline === null ? 'no allowed earlier version' : diff.baseline;
  if (diff.gained.length === 0) return `nothing gained compared with ${against}`;
  return oneLine(`gained ${describeGained(diff)} compared with ${against} (${diff.decision})`);
}

export function oneLine(s: string): string {
  const flat = s.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
  return flat.length > MAX_LINE ? flat.slice(0, MAX_LINE - 3) + '...' : flat;
}
