// Owns what the CLI prints: short human text with evidence lines, and the stable --json shapes
// documented in docs/cli.md.
import { DEFAULT_TIERS, type CapabilityId, type Evidence, type PackagePolicy, type PolicyDiff } from '../analyzer/types';

/** Evidence lines shown per capability in human output (--json has them all). */
export const HUMAN_EVIDENCE_LINES = 3;

export interface PackageRef {
  readonly name: string;
  readonly version: string;
}

/** The `capgate diff --json` document (docs/cli.md). */
export interface DiffJson {
  readonly gained: readonly CapabilityId[];
  readonly lost: readonly CapabilityId[];
  readonly decision: PolicyDiff['decision'];
  readonly evidence: PolicyDiff['evidence'];
  readonly baseline: string | null;
  readonly details: PolicyDiff['details'];
  readonly old: PackageRef;
  readonly new: PackageRef;
  readonly rulesVersion: string;
}

export function diffJson(oldPolicy: PackagePolicy, newPolicy: PackagePolicy, diff: PolicyDiff): DiffJson {
  return {
    gained: diff.gained,
    lost: diff.lost,
    decision: diff.decision,
    evidence: diff.evidence,
    baseline: diff.baseline,
    details: diff.details,
    old: { name: oldPolicy.name, version: oldPolicy.version },
    new: { name: newPolicy.name, version: newPolicy.version },
    rulesVersion: newPolicy.rulesVersion,
  };
}

/** `file:line api — snippet`, with the markers that change how evidence weighs. */
export function formatEvidence(e: Evidence): string {
  const where = e.line > 0 ? `${e.file}:${e.line}` : e.file;
  const marks = [e.reachable === false ? 'unreachable' : '', e.via !== undefined ? `via ${e.via}` : ''].filter(Boolean);
  const text = e.snippet.trim();
  // A whole-file piece of evidence (a binary, binding.gyp) repeats its path as api and snippet.
  const snippet = text === '' || text === e.file || text === e.api ? '' : ` — ${text}`;
  const api = e.api === e.file ? '' : ` ${e.api}`;
  return `${where}${api}${snippet}${marks.length > 0 ? ` [${marks.join(', ')}]` : ''}`;
}

function evidenceLines(list: readonly Evidence[] | undefined, indent: string): string[] {
  const all = list ?? [];
  const lines = all.slice(0, HUMAN_EVIDENCE_LINES).map((e) => indent + formatEvidence(e));
  if (all.length > HUMAN_EVIDENCE_LINES) lines.push(`${indent}… and ${all.length - HUMAN_EVIDENCE_LINES} more (--json for all)`);
  return lines;
}

const label = (p: PackageRef): string => `${p.name || '(no name)'}@${p.version || '(no version)'}`;

const list = (ids: readonly string[]): string => (ids.length === 0 ? '-' : ids.join(', '));

const DECISION_TEXT: Record<PolicyDiff['decision'], string> = {
  allow: 'ALLOW (nothing gained that needs a review)',
  flag: 'FLAG (served, recorded and alerted)',
  block: 'BLOCK (held until a reviewer approves it)',
};

export function formatDiff(oldPolicy: PackagePolicy, newPolicy: PackagePolicy, diff: PolicyDiff): string {
  const out: string[] = [];
  out.push(`${label(oldPolicy)} -> ${label(newPolicy)}`);
  out.push(`decision: ${DECISION_TEXT[diff.decision]}`);
  out.push(`gained:   ${list(diff.gained.map((id) => `${id} [${DEFAULT_TIERS[id]}]`))}`);
  out.push(`lost:     ${list(diff.lost)}`);
  for (const id of diff.gained) {
    out.push(`  + ${id}`);
    out.push(...evidenceLines(diff.evidence[id], '      '));
  }
  const d = diff.details;
  if (d.newDependencies.length > 0) out.push(`new dependencies: ${d.newDependencies.join(', ')}`);
  if (d.newHosts.length > 0) out.push(`new hosts: ${d.newHosts.join(', ')}`);
  if (d.changedInstallScripts.length > 0) out.push(`changed install scripts: ${d.changedInstallScripts.join(', ')}`);
  if (d.newKeypaths.length > 0) {
    const shown = d.newKeypaths.slice(0, 10);
    out.push(`new keypaths: ${shown.join(', ')}${d.newKeypaths.length > shown.length ? `, … (${d.newKeypaths.length} in all)` : ''}`);
  }
  return out.join('\n') + '\n';
}

export function formatPolicy(policy: PackagePolicy): string {
  const out: string[] = [];
  const kb = (policy.stats.bytes / 1024).toFixed(1);
  out.push(`${label(policy)}  (rules ${policy.rulesVersion}; ${policy.stats.files} files, ${policy.stats.jsFiles} JS, ${kb} KiB)`);
  out.push(`capabilities: ${policy.capabilities.length === 0 ? 'none' : ''}`.trimEnd());
  for (const id of policy.capabilities) {
    out.push(`  ${id} [${DEFAULT_TIERS[id]}]`);
    out.push(...evidenceLines(policy.evidence[id], '      '));
  }
  const deps = Object.entries(policy.dependencies);
  if (deps.length > 0) out.push(`dependencies: ${deps.map(([n, r]) => `${n}@${r}`).join(', ')}`);
  const scripts = Object.entries(policy.installScripts);
  if (scripts.length > 0) out.push(`install scripts: ${scripts.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  if (policy.hosts.length > 0) out.push(`hosts: ${policy.hosts.join(', ')}`);
  if (policy.findings.length > 0) {
    out.push(`findings (${policy.findings.length}):`);
    for (const f of policy.findings.slice(0, 20)) out.push(`  ${f.ruleId}  ${f.file}${f.file ? ' — ' : ''}${f.message}`);
    if (policy.findings.length > 20) out.push(`  … and ${policy.findings.length - 20} more (--json for all)`);
  }
  return out.join('\n') + '\n';
}
