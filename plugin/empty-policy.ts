// Owns the policy of "nothing at all": the baseline when every earlier version is unusable, and
// what a dependency already visited in this walk contributes (cycles).
import type { PackagePolicy } from '../analyzer/types';

export function emptyPolicy(name: string, version: string, rulesVersion: string): PackagePolicy {
  return {
    schema: 1,
    rulesVersion,
    name,
    version,
    capabilities: [],
    evidence: {},
    keypaths: [],
    hosts: [],
    dependencies: {},
    installScripts: {},
    findings: [],
    stats: { files: 0, jsFiles: 0, bytes: 0 },
  };
}
