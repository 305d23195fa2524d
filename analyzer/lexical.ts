// Owns the fallback for files that cannot be parsed or traversed (too large, too deep, broken syntax):
// a token-level scan for module specifiers, dangerous globals, hosts and sensitive paths, so that a
// file we cannot read properly still reports its capabilities coarsely instead of nothing.
import type { CapabilityId } from './types';
import { hostsIn, sensitivePathIn } from './detectors/strings';
import { MODULE_CAPABILITIES } from './detectors/catalog';
import { normaliseSpec } from './resolve';
import { lineColumn } from './positions';

export interface LexicalHit {
  readonly capability: CapabilityId;
  readonly api: string;
  readonly line: number;
  readonly column: number;
  readonly snippet: string;
}

const SPEC_RE = /\b(?:require\s*\(|from\s*|import\s*\(?)\s*(['"])([^'"\n]{1,200})\1/g;
const GLOBAL_PATTERNS: readonly (readonly [RegExp, CapabilityId, string])[] = [
  [/\beval\s*\(/g, 'code-eval', 'eval'],
  [/\bnew\s+Function\s*\(|\bFunction\s*\(\s*['"`]/g, 'code-eval', 'Function'],
  [/\bfetch\s*\(/g, 'network', 'fetch'],
  [/\bnew\s+(?:XMLHttpRequest|WebSocket|EventSource)\b/g, 'network', 'XMLHttpRequest'],
  [/\bprocess\s*\.\s*env\b/g, 'env-read', 'process.env'],
  [/\bprocess\s*\.\s*(?:binding|_linkedBinding|dlopen)\b/g, 'process-internals', 'process.binding'],
  [/\bmodule\s*\.\s*constructor\b|\bprocess\s*\.\s*mainModule\b/g, 'module-internals', 'module.constructor'],
  [/\bWebAssembly\s*\./g, 'wasm', 'WebAssembly'],
];
const URL_TEXT_RE = /\b(?:https?|wss?|ftp):\/\/[^\s'"`<>\\]{1,300}/g;
/** Candidate fragments for sensitivePathIn: a path-ish run around a credential keyword. */
const SENSITIVE_TEXT_RE = /(?:\.npmrc|\.ssh|id_rsa|id_ed25519|\.aws|\.git-credentials|\/etc\/passwd|\/etc\/shadow|gcloud|\.kube|\.docker|_history|User Data|Application Support|\.mozilla|Local Extension Settings|Login Data|wallet|keystore|nkbihfbeogaeaoehlefnkodbefgpgknn|Exodus|\.electrum|\.bitcoin|\.ethereum|\.solana)/g;
const PATH_CHAR = /[\w./\\ :-]/;

/** The path-like run of text around an offset (bounded). */
function pathAround(source: string, at: number, len: number): string {
  let a = at;
  let b = at + len;
  while (a > 0 && at - a < 120 && PATH_CHAR.test(source[a - 1] ?? '')) a--;
  while (b < source.length && b - at < 120 && PATH_CHAR.test(source[b] ?? '')) b++;
  return source.slice(a, b).trim();
}
const MAX_MATCHES = 2000;



function snippet(source: string, offset: number): string {
  const from = Math.max(0, offset - 40);
  let text = source.slice(from, offset + 80);
  const rel = offset - from;
  const a = text.lastIndexOf('\n', rel - 1);
  const b = text.indexOf('\n', rel);
  text = text.slice(a + 1, b === -1 ? undefined : b);
  return text.replace(/\s+/g, ' ').trim().slice(0, 120);
}

/** Coarse capabilities of a source text by tokens alone (whole-module fallback semantics). */
export function lexicalScan(source: string): LexicalHit[] {
  const out: LexicalHit[] = [];
  const seen = new Set<string>();
  const add = (capability: CapabilityId, api: string, offset: number): void => {
    const key = capability + '\0' + api;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ capability, api, ...lineColumn(source, offset), snippet: snippet(source, offset) });
  };
  let n = 0;
  for (const m of source.matchAll(SPEC_RE)) {
    if (++n > MAX_MATCHES) break;
    const spec = m[2];
    if (spec === undefined) continue;
    const norm = normaliseSpec(spec);
    const caps = MODULE_CAPABILITIES[norm.spec];
    if (caps !== undefined) for (const c of caps) add(c, norm.spec, m.index);
  }
  for (const [re, cap, api] of GLOBAL_PATTERNS) {
    const m = re.exec(source);
    re.lastIndex = 0;
    if (m !== null) add(cap, api, m.index);
  }
  // URLs and credential paths anywhere in the text (linear scans: no string tokenising that a hostile
  // file could make quadratic).
  n = 0;
  for (const m of source.matchAll(URL_TEXT_RE)) {
    if (++n > MAX_MATCHES) break;
    for (const h of hostsIn(m[0], false)) add('url-literals', 'host:' + h, m.index);
  }
  n = 0;
  for (const m of source.matchAll(SENSITIVE_TEXT_RE)) {
    if (++n > MAX_MATCHES) break;
    const s = sensitivePathIn(pathAround(source, m.index, m[0].length));
    if (s !== undefined) add('sensitive-paths', 'path:' + s, m.index);
  }
  return out;
}
