// Owns analyzeFiles: the files of one package version -> its PackagePolicy (capabilities, evidence,
// keypaths, hosts, dependencies, install scripts). Pure and deterministic: no clock, no environment,
// no logging, never throws on hostile input.
import type { CapabilityId, Evidence, Finding, PackageFiles, PackagePolicy } from './types';
import { CAPABILITY_IDS } from './types';
import { RULES_VERSION } from './rules-version';
import { decodeSource } from './parse';
import { scanSource, type FileScan } from './scan';
import { contentKey, getCachedScan, setCachedScan } from './scan-cache';
import { lexicalScan } from './lexical';
import { DETECTORS } from './detectors/index';
import { nativeFiles } from './detectors/native-code';
import { dependenciesOf, inspectManifest, installScriptsOf } from './detectors/install-scripts';
import { entryPoints, reachableFiles } from './reachability';

export interface AnalyzeOptions {
  /** Findings from unpacking (archive problems), passed through into the policy. */
  readonly findings?: readonly Finding[];
}

/** Evidence kept per capability id (all keypaths are kept regardless). */
export const MAX_EVIDENCE_PER_ID = 20;

const JS_LIKE = /\.(?:js|cjs|mjs|jsx)$/i;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareEvidence(a: Evidence, b: Evidence): number {
  return compareStrings(a.file, b.file) || a.line - b.line || a.column - b.column || compareStrings(a.api, b.api);
}

export function readManifest(files: PackageFiles, findings: Finding[]): { manifest: Record<string, unknown> | undefined; text: string } {
  const bytes = files.get('package.json');
  if (bytes === undefined) {
    findings.push({ ruleId: 'package/missing-manifest', file: 'package.json', message: 'the package has no package.json' });
    return { manifest: undefined, text: '' };
  }
  const text = decodeSource(bytes);
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return { manifest: parsed as Record<string, unknown>, text };
    findings.push({ ruleId: 'package/invalid-manifest', file: 'package.json', message: 'package.json is not a JSON object' });
  } catch (e) {
    findings.push({ ruleId: 'package/invalid-manifest', file: 'package.json', message: 'package.json is not valid JSON: ' + (e instanceof Error ? e.message.slice(0, 120) : 'parse error') });
  }
  return { manifest: undefined, text };
}

/** Keeps at most `max` items, preferring reachable ones and then the deterministic order. */
function capEvidence(list: Evidence[], max: number, perHost: boolean): Evidence[] {
  list.sort(compareEvidence);
  let pool = list;
  if (perHost) {
    // One item per host first, so that every host has evidence as long as the cap allows.
    const firsts = new Map<string, Evidence>();
    for (const e of list) {
      const prev = firsts.get(e.api);
      if (prev === undefined || (prev.reachable === false && e.reachable !== false)) firsts.set(e.api, e);
    }
    const chosen = new Set(firsts.values());
    pool = [...chosen, ...list.filter((e) => !chosen.has(e))];
  }
  if (pool.length <= max) return [...pool].sort(compareEvidence);
  const reachable = pool.filter((e) => e.reachable !== false);
  const unreachable = pool.filter((e) => e.reachable === false);
  return [...reachable, ...unreachable].slice(0, max).sort(compareEvidence);
}

/** Analyzes the files of one package version. */
export function analyzeFiles(files: PackageFiles, opts: AnalyzeOptions = {}): PackagePolicy {
  const findings: Finding[] = [...(opts.findings ?? [])];
  const { manifest, text } = readManifest(files, findings);
  const name = typeof manifest?.['name'] === 'string' ? manifest['name'] : '';
  const version = typeof manifest?.['version'] === 'string' ? manifest['version'] : '';
  const names = [...files.keys()].sort(compareStrings);
  const fileSet = new Set(names);
  const hasBindingGyp = fileSet.has('binding.gyp');
  const installScripts = manifest === undefined ? {} : installScriptsOf(manifest, hasBindingGyp);
  const dependencies = manifest === undefined ? {} : dependenciesOf(manifest);

  // Which files are code: JS-like names, plus whatever the manifest runs by name (bin scripts without
  // an extension, a `main` pointing at an odd extension).
  const entries = entryPoints({ manifest, files: fileSet, installScripts });
  const code = new Set(names.filter((n) => JS_LIKE.test(n) && !n.includes('node_modules/.bin/')));
  for (const e of entries) if (!/\.(?:json|node|wasm|ts|cts|mts)$/.test(e)) code.add(e);

  const raw: { capability: CapabilityId; ev: Omit<Evidence, 'reachable'> }[] = [];
  const edges = new Map<string, readonly string[]>();
  const dynamic = new Set<string>();
  for (const file of names) {
    if (!code.has(file)) continue;
    const bytes = files.get(file) as Uint8Array;
    let scan: FileScan;
    const key = contentKey(bytes);
    const cached = getCachedScan(key);
    try {
      if (cached !== undefined) {
        // Findings name the file: re-attach this file's name to the cached ones.
        scan = { ...cached, findings: cached.findings.map((f) => ({ ...f, file })) };
      } else {
        scan = scanSource(file, decodeSource(bytes), DETECTORS);
        setCachedScan(key, scan);
      }
    } catch (e) {
      // A detector bug must not fail the analysis: record it and fall back to the lexical scan.
      findings.push({ ruleId: 'source/analyzer-error', file, message: e instanceof Error ? e.message.slice(0, 200) : 'analyzer error' });
      scan = { hits: lexicalScan(decodeSource(bytes)), edges: [], dynamicRequire: true, findings: [] };
    }
    findings.push(...scan.findings);
    edges.set(file, scan.edges);
    if (scan.dynamicRequire) dynamic.add(file);
    for (const h of scan.hits) raw.push({ capability: h.capability, ev: { file, line: h.line, column: h.column, api: h.api, snippet: h.snippet } });
  }

  for (const n of nativeFiles(files)) {
    raw.push({ capability: 'native-code', ev: { file: n.file, line: 0, column: 0, api: n.api, snippet: n.file } });
    // A native binary is "reachable" when any code can load it; treat it like a code file with no edges.
  }
  if (manifest !== undefined) {
    for (const m of inspectManifest(manifest, text, hasBindingGyp)) {
      raw.push({ capability: m.capability, ev: { file: 'package.json', line: m.line, column: 0, api: m.api, snippet: m.snippet } });
    }
  }

  const reach = reachableFiles({ manifest, files: fileSet, edges, dynamic, installScripts });
  const isReachable = (file: string): boolean => {
    if (reach === 'all' || file === 'package.json') return true;
    if (reach.has(file)) return true;
    if (!code.has(file)) {
      // Non-code evidence (binaries, binding.gyp) counts as reachable unless it sits in a test/example folder.
      return !/(?:^|\/)(?:tests?|__tests__|spec|examples?|fixtures?|benchmarks?|docs?)\//.test(file);
    }
    return false;
  };

  const byId = new Map<CapabilityId, Evidence[]>();
  const keypaths = new Set<string>();
  const hosts = new Set<string>();
  for (const { capability, ev } of raw) {
    const reachable = isReachable(ev.file);
    const evidence: Evidence = reachable ? ev : { ...ev, reachable: false };
    let list = byId.get(capability);
    if (list === undefined) byId.set(capability, (list = []));
    list.push(evidence);
    if (ev.api.startsWith('host:')) hosts.add(ev.api.slice(5));
    else keypaths.add(ev.api);
  }

  const capabilities: CapabilityId[] = [];
  const evidence: Partial<Record<CapabilityId, readonly Evidence[]>> = {};
  for (const id of [...CAPABILITY_IDS].sort(compareStrings)) {
    const list = byId.get(id);
    if (list === undefined || list.length === 0) continue;
    capabilities.push(id);
    evidence[id] = capEvidence(dedupe(list), id === 'url-literals' ? Math.max(MAX_EVIDENCE_PER_ID, 50) : MAX_EVIDENCE_PER_ID, id === 'url-literals');
  }
  capabilities.sort(compareStrings);

  findings.sort((a, b) => compareStrings(a.file, b.file) || compareStrings(a.ruleId, b.ruleId) || compareStrings(a.message, b.message));
  let bytes = 0;
  for (const b of files.values()) bytes += b.length;
  return {
    schema: 1,
    rulesVersion: RULES_VERSION,
    name,
    version,
    capabilities,
    evidence,
    keypaths: [...keypaths].sort(compareStrings),
    hosts: [...hosts].sort(compareStrings),
    dependencies,
    installScripts,
    findings,
    stats: { files: files.size, jsFiles: code.size, bytes },
  };
}

function dedupe(list: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const e of list) {
    const k = `${e.file}\0${e.line}\0${e.column}\0${e.api}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}
