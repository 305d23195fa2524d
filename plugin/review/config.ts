// Owns the reviewer configuration: the plugin block's `reviewers: {users, groups}` plus, for
// `capgate serve`, the comma-separated CAPGATE_REVIEWERS list of user names. Returns every problem
// found so the plugin can report them together with its own (CAPGATE_CONFIG_INVALID).
import type { ReviewerConfig } from './auth';

/** Groups every (logged-in) user has: naming one would make everybody a reviewer. */
const EVERYBODY = new Set(['$all', '@all', 'all', '$authenticated', '@authenticated', '$anonymous', '@anonymous', 'anonymous']);
const NAME_RE = /^[^\s,:]{1,256}$/;

function list(raw: unknown, at: string, issues: string[], check: (v: string) => string | null): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.push(`${at}: expected a list of names`);
    return [];
  }
  const out: string[] = [];
  for (const v of raw as unknown[]) {
    if (typeof v !== 'string' || !NAME_RE.test(v)) {
      issues.push(`${at}: ${JSON.stringify(v)} is not a user or group name`);
      continue;
    }
    const problem = check(v);
    if (problem !== null) issues.push(`${at}: ${problem}`);
    else if (!out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * Parses `reviewers` (`{ users?: string[], groups?: string[] }`) and merges CAPGATE_REVIEWERS
 * (`env`, comma-separated user names). Groups are matched against the groups the auth plugin
 * returns for a user (remote_user.groups); Verdaccio's pseudo-groups are refused.
 * No reviewers at all is valid: then every review request is refused (403).
 */
export function parseReviewers(raw: unknown, env?: string): { value: ReviewerConfig; issues: string[] } {
  const issues: string[] = [];
  let users: string[] = [];
  let groups: string[] = [];
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      issues.push('capgate.reviewers: expected { users: [...], groups: [...] }');
    } else {
      const r = raw as Record<string, unknown>;
      for (const k of Object.keys(r)) if (k !== 'users' && k !== 'groups') issues.push(`capgate.reviewers.${k}: unknown option (users, groups)`);
      users = list(r['users'], 'capgate.reviewers.users', issues, () => null);
      groups = list(r['groups'], 'capgate.reviewers.groups', issues, (g) =>
        EVERYBODY.has(g) ? `"${g}" is a group every user has; name the reviewers or a real group` : null,
      );
    }
  }
  if (env !== undefined && env.trim() !== '') {
    for (const part of env.split(',')) {
      const name = part.trim();
      if (name === '') continue;
      if (!NAME_RE.test(name)) issues.push(`CAPGATE_REVIEWERS: ${JSON.stringify(name)} is not a user name`);
      else if (!users.includes(name)) users.push(name);
    }
  }
  return { value: Object.freeze({ users: Object.freeze(users), groups: Object.freeze(groups) }), issues };
}
