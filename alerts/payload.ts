// Owns the request bodies sent to receivers: the generic JSON event and the Slack-compatible message.
import type { AlertEvent } from '../policy-store/store';
import { RESERVED_KEYS } from './event';

/** Generic body: `{id, type, createdAt, name, version, ...payload}` (payload cannot shadow the first five). */
export function renderJsonBody(event: AlertEvent): string {
  const body: Record<string, unknown> = {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    name: event.name,
    version: event.version,
  };
  for (const [k, v] of Object.entries(event.payload)) {
    if (!RESERVED_KEYS.includes(k)) body[k] = v;
  }
  return JSON.stringify(body);
}

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code for Slack: no backticks or newlines inside, bounded length. */
function code(text: string, max = 120): string {
  const flat = text.replace(/[`\r\n\t]/g, ' ');
  const cut = flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
  return '`' + escapeSlack(cut) + '`';
}

const VERB: Readonly<Record<AlertEvent['type'], string>> = {
  held: ':no_entry: held for review',
  flagged: ':warning: flagged',
  approved: ':white_check_mark: approved',
  denied: ':x: denied',
};

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function firstEvidence(event: AlertEvent): string | null {
  const ev = event.payload['evidence'];
  if (typeof ev !== 'object' || ev === null) return null;
  for (const id of asStrings(event.payload['gained'])) {
    const list = (ev as Record<string, unknown>)[id];
    if (!Array.isArray(list)) continue;
    const first: unknown = list[0];
    if (typeof first !== 'object' || first === null) continue;
    const e = first as Record<string, unknown>;
    const file = typeof e['file'] === 'string' ? e['file'] : '?';
    const line = typeof e['line'] === 'number' ? e['line'] : 0;
    const snippet = typeof e['snippet'] === 'string' ? e['snippet'] : '';
    return `${escapeSlack(id)}: ${code(`${file}:${line}`, 200)} ${snippet === '' ? '' : code(snippet)}`.trim();
  }
  return null;
}

/** Slack-compatible incoming-webhook body `{text, blocks}`: package, versions, gained ids, first evidence, review link. */
export function renderSlackBody(event: AlertEvent): string {
  const pkg = `${event.name}@${event.version}`;
  const baseline = typeof event.payload['baseline'] === 'string' ? event.payload['baseline'] : null;
  const gained = asStrings(event.payload['gained']);
  const by = typeof event.payload['by'] === 'string' ? event.payload['by'] : '';
  const reason = typeof event.payload['reason'] === 'string' ? event.payload['reason'] : '';
  const reviewUrl = typeof event.payload['reviewUrl'] === 'string' ? event.payload['reviewUrl'] : null;
  const versions = baseline === null ? 'new package' : `${escapeSlack(baseline)} → ${escapeSlack(event.version)}`;
  const gainedText = gained.length > 0 ? gained.map((g) => code(g, 40)).join(', ') : 'nothing';
  const text = `capgate: ${escapeSlack(pkg)} ${VERB[event.type].replace(/^:[a-z_]+: /, '')} (gained ${gained.join(', ') || 'nothing'})`;
  const lines = [`*${escapeSlack(pkg)}* ${VERB[event.type]}`, `Versions: ${versions}`, `Gained: ${gainedText}`];
  if ((event.type === 'approved' || event.type === 'denied') && by !== '') {
    lines.push(`By ${escapeSlack(by)}${reason === '' ? '' : `: ${escapeSlack(reason.slice(0, 500))}`}`);
  }
  const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } }];
  const evidence = firstEvidence(event);
  if (evidence !== null) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: evidence.slice(0, 2900) }] });
  if (reviewUrl !== null) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open review page' }, url: reviewUrl }],
    });
  }
  return JSON.stringify({ text, blocks });
}
