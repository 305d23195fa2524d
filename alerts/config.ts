// Owns the webhook target configuration: schema, defaults, validation (all issues at once), freezing.
import type { AlertEventType } from '../policy-store/store';
import { AlertError } from './errors';

export const ALERT_EVENT_TYPES: readonly AlertEventType[] = Object.freeze(['held', 'flagged', 'approved', 'denied']);

/** One webhook receiver, as written under `alerts.targets` in the plugin config. */
export interface WebhookTarget {
  /** Stable id (`[A-Za-z0-9._-]`, 1..64 chars): the outbox keys deliveries by it, logs name it (never the URL). */
  readonly id: string;
  /** `json`: generic signed JSON body; `slack`: a Slack-compatible `{text, blocks}` incoming-webhook body. */
  readonly kind: 'json' | 'slack';
  /**
   * http(s) URL the event is POSTed to. Redirects are not followed.
   * **WARNING**: a Slack webhook URL is itself a credential; keep the config file private.
   */
  readonly url: string;
  /**
   * `json` only: HMAC-SHA256 key (at least 16 characters). When set, each request carries
   * `X-Capgate-Signature: t=<unix seconds>,v1=<hex>` over `${t}.${body}`.
   * **WARNING**: without a secret, receivers cannot tell capgate's events from forged ones.
   */
  readonly secret?: string;
  /** Which events go to this target; default all of `held`, `flagged`, `approved`, `denied`. */
  readonly events: readonly AlertEventType[];
}

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const KNOWN_KEYS = new Set(['id', 'kind', 'url', 'secret', 'events']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses the `targets` list (unknown input from YAML) into frozen WebhookTargets.
 * Throws AlertError CAPGATE_ALERT_CONFIG_INVALID listing every issue found.
 */
export function parseWebhookTargets(input: unknown): readonly WebhookTarget[] {
  if (input === undefined || input === null) return Object.freeze([]);
  const issues: string[] = [];
  if (!Array.isArray(input)) {
    throw new AlertError('CAPGATE_ALERT_CONFIG_INVALID', 'invalid alert targets', ['targets must be a list']);
  }
  const out: WebhookTarget[] = [];
  const seen = new Set<string>();
  input.forEach((raw: unknown, i) => {
    const at = `targets[${i}]`;
    if (!isRecord(raw)) {
      issues.push(`${at} must be an object`);
      return;
    }
    for (const key of Object.keys(raw)) {
      if (!KNOWN_KEYS.has(key)) issues.push(`${at}.${key} is not a known option`);
    }
    const { id, kind, url, secret, events } = raw;
    let ok = true;
    if (typeof id !== 'string' || !ID_RE.test(id)) {
      issues.push(`${at}.id must be 1..64 characters of A-Z a-z 0-9 . _ -`);
      ok = false;
    } else if (seen.has(id)) {
      issues.push(`${at}.id "${id}" is used twice`);
      ok = false;
    } else {
      seen.add(id);
    }
    if (kind !== 'json' && kind !== 'slack') {
      issues.push(`${at}.kind must be "json" or "slack"`);
      ok = false;
    }
    if (typeof url !== 'string') {
      issues.push(`${at}.url must be an http(s) URL`);
      ok = false;
    } else {
      let parsed: URL | null = null;
      try {
        parsed = new URL(url);
      } catch {
        parsed = null;
      }
      if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
        issues.push(`${at}.url must be an http(s) URL`);
        ok = false;
      } else if (parsed.username !== '' || parsed.password !== '') {
        issues.push(`${at}.url must not carry credentials (use secret)`);
        ok = false;
      }
    }
    if (secret !== undefined) {
      if (kind === 'slack') {
        issues.push(`${at}.secret is only for kind "json" (Slack verifies by the URL)`);
        ok = false;
      } else if (typeof secret !== 'string' || secret.length < 16 || secret.length > 512) {
        issues.push(`${at}.secret must be a string of 16..512 characters`);
        ok = false;
      }
    }
    let evs: AlertEventType[] = [...ALERT_EVENT_TYPES];
    if (events !== undefined) {
      if (!Array.isArray(events) || events.length === 0) {
        issues.push(`${at}.events must be a non-empty list of ${ALERT_EVENT_TYPES.join(', ')}`);
        ok = false;
      } else {
        evs = [];
        for (const e of events as unknown[]) {
          if (typeof e === 'string' && (ALERT_EVENT_TYPES as readonly string[]).includes(e)) {
            if (!evs.includes(e as AlertEventType)) evs.push(e as AlertEventType);
          } else {
            issues.push(`${at}.events: unknown event ${JSON.stringify(e)}`);
            ok = false;
          }
        }
      }
    }
    if (ok && typeof id === 'string' && (kind === 'json' || kind === 'slack') && typeof url === 'string') {
      const target: WebhookTarget =
        typeof secret === 'string'
          ? { id, kind, url, secret, events: Object.freeze(evs) }
          : { id, kind, url, events: Object.freeze(evs) };
      out.push(Object.freeze(target));
    }
  });
  if (issues.length > 0) throw new AlertError('CAPGATE_ALERT_CONFIG_INVALID', 'invalid alert targets', issues);
  return Object.freeze(out);
}

/** Target ids that want this event type. */
export function targetsFor(targets: readonly WebhookTarget[], type: AlertEventType): string[] {
  return targets.filter((t) => t.events.includes(type)).map((t) => t.id);
}
