// Owns what string literals reveal: URL hosts and IPs (url-literals) and credential/profile paths
// (sensitive-paths). Only literals count (comments never do), and hosts that are not network targets
// (XML namespaces, schema ids, documentation links inside prose, reserved example domains) are dropped
// so that "a new host" stays a meaningful signal.
import type * as t from '@babel/types';
import type { Detector } from './types';

const URL_RE = /\b(?:https?|wss?|ftp):\/\/([^\s/?#'"`<>\\]+)/gi;
const IPV4_RE = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOSTNAME_RE = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$/;

/**
 * Hosts that are identifiers, not network targets: XML/RDF namespaces and JSON-schema ids
 * (W3C, purl, xmlsoap, openxmlformats: they appear as `xmlns` values and `$schema` keys), and the
 * RFC 2606/6761 reserved names that no request can meaningfully reach.
 */
const NON_NETWORK_HOSTS = new Set([
  'www.w3.org', 'w3.org', 'purl.org', 'schemas.xmlsoap.org', 'schemas.openxmlformats.org', 'schemas.microsoft.com',
  'json-schema.org', 'ns.adobe.com', 'xmlns.com', 'www.iana.org', 'docs.oasis-open.org', 'xml.org', 'www.xml.org',
  'relaxng.org', 'ogp.me', 'schema.org', 'example.com', 'example.org', 'example.net', 'www.example.com', 'www.example.org',
  'localhost', 'spdx.org',
]);

/** A shell command that downloads or connects: its URLs are targets even inside a longer string. */
const COMMAND_RE = /\b(?:curl|wget|powershell|pwsh|iwr|Invoke-WebRequest|Invoke-RestMethod|certutil|bitsadmin|ncat|nc|ssh|scp|ftp|tftp|Start-BitsTransfer)\b/i;

const RESERVED_SUFFIXES = ['.example', '.invalid', '.localhost', '.test', '.local', '.example.com', '.example.org', '.example.net'];

function cleanHost(raw: string): string | undefined {
  let h = raw.toLowerCase();
  const at = h.lastIndexOf('@');
  if (at >= 0) h = h.slice(at + 1);
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : undefined;
  }
  h = h.replace(/:\d*$/, '').replace(/\.$/, '');
  if (h === '' || h.includes('${') || h.includes('{') || h.includes('%') || h.includes('*')) return undefined;
  if (IPV4_RE.test(h)) {
    if (h.startsWith('127.') || h === '0.0.0.0' || h === '255.255.255.255') return undefined;
    return h;
  }
  if (!HOSTNAME_RE.test(h)) return undefined;
  if (NON_NETWORK_HOSTS.has(h) || RESERVED_SUFFIXES.some((s) => h.endsWith(s))) return undefined;
  return h;
}

/**
 * Hosts named by a string literal. A URL counts when the literal *is* the URL (possibly followed by a
 * path or query): a URL inside a sentence ("see https://... for details") is a documentation link in a
 * message, not a request target. A literal that is only a hostname or an IPv4 address counts when it
 * has the shape of one (a dotted name ending in a TLD-like label).
 */
export function hostsIn(value: string, wholeOnly = true): string[] {
  if (value.length < 4) return [];
  const out: string[] = [];
  if (value.includes('://')) {
    let text = value;
    if (wholeOnly && /\s/.test(value.trim()) && !COMMAND_RE.test(value)) {
      // Prose (an error message, a comment-like banner): its URLs are documentation links. Only URLs in
      // HTML attributes that load or send something still count (`<script src="https://...">`).
      const attrs = [...value.matchAll(/\b(?:src|href|action|data)\s*=\s*["']?((?:https?|wss?):\/\/[^\s"'<>]+)/gi)].map((m) => m[1] ?? '');
      if (attrs.length === 0) return out;
      text = attrs.join(' ');
    }
    URL_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = URL_RE.exec(text)) !== null) {
      if (m[1] === undefined) continue;
      const h = cleanHost(m[1]);
      if (h !== undefined && !out.includes(h)) out.push(h);
      if (out.length > 20) break;
    }
    return out;
  }
  if (value.length <= 64 && IPV4_RE.test(value)) {
    const h = cleanHost(value);
    if (h !== undefined && !/^\d\.\d\.\d\.\d$/.test(h)) out.push(h);
  }
  return out;
}

/** Credential, profile and wallet locations (GuardDog/Socket exfiltration patterns). */
const SENSITIVE: readonly (readonly [RegExp, string])[] = [
  [/(?:^|[\\/])\.npmrc$|^\.npmrc\b|[\\/]\.npmrc\b/, '.npmrc'],
  [/(?:^|[\\/])\.ssh(?:[\\/]|$)|\bid_(?:rsa|ed25519|ecdsa|dsa)\b/, '.ssh'],
  [/\.aws[\\/]credentials|(?:^|[\\/])\.aws(?:[\\/]|$)/, '.aws'],
  [/(?:^|[\\/])\.git-credentials\b/, '.git-credentials'],
  [/\/etc\/(?:passwd|shadow)\b/, '/etc/passwd'],
  [/\.config[\\/]gcloud\b|(?:^|[\\/])gcloud[\\/]credentials/, 'gcloud'],
  [/(?:^|[\\/])\.kube[\\/]config\b/, '.kube'],
  [/(?:^|[\\/])\.docker[\\/]config\.json\b/, '.docker'],
  [/(?:^|[\\/])\.(?:bash|zsh)_history\b/, 'shell-history'],
  [/Google[\\/]Chrome[\\/]User Data|Library[\\/]Application Support[\\/](?:Google[\\/]Chrome|BraveSoftware|Firefox)|\.mozilla[\\/]firefox|BraveSoftware[\\/]Brave-Browser|Local Extension Settings|\bLogin Data\b|Microsoft[\\/]Edge[\\/]User Data/, 'browser-profile'],
  [/\bnkbihfbeogaeaoehlefnkodbefgpgknn\b|\bbfnaelmomeimhlpmgjnjophhpkkoljpa\b|\bhnfanknocfeofbddgcijnmhnfnkdnaad\b|\begjidjbpglichdcondbcbdnbeeppgdph\b/, 'wallet-extension'],
  [/(?:^|[\\/])(?:\.bitcoin|\.electrum|\.ethereum|\.solana|Exodus[\\/]exodus\.wallet|atomic[\\/]Local Storage)|\bwallet\.dat\b|[\\/]keystore[\\/]UTC--/i, 'wallet'],
];

export function sensitivePathIn(value: string): string | undefined {
  if (value.length < 4 || value.length > 2000) return undefined;
  for (const [re, name] of SENSITIVE) if (re.test(value)) return name;
  return undefined;
}

const HOST_KEYS = new Set(['host', 'hostname', 'servername']);

/** A literal that is exactly a host name or IPv4 address (no scheme). */
export function bareHost(value: string): string | undefined {
  return value.length < 4 || value.length > 253 || value.includes('/') ? undefined : cleanHost(value);
}

/** Path-like literals naming a script (`'./worker.js'`, `'lib/cli.mjs'`): weak edges for reachability. */
const FILE_REF_RE = /^(?:\.{1,2}\/)?[\w@.\-/]{1,200}\.(?:c|m)?js$/;

type StringReport = (r: { capability: 'url-literals' | 'sensitive-paths'; api: string; node: t.Node }) => void;

function check(value: string, node: t.Node, report: StringReport, addEdge: (spec: string) => void): void {
  if (value.length < 4) return;
  for (const h of hostsIn(value, true)) report({ capability: 'url-literals', api: 'host:' + h, node });
  const s = sensitivePathIn(value);
  if (s !== undefined) report({ capability: 'sensitive-paths', api: 'path:' + s, node });
  if (value.length < 200 && FILE_REF_RE.test(value)) addEdge(value.startsWith('.') ? value : './' + value);
}

/** Inspects one string literal (with its parent, for context). Shared by the detector and the prefilter walk. */
export function inspectStringLiteral(node: t.StringLiteral, parent: t.Node | undefined, report: StringReport, addEdge: (spec: string) => void): void {
  // Module specifiers are not data.
  if (parent !== undefined && (parent.type === 'ImportDeclaration' || parent.type === 'ExportAllDeclaration' || parent.type === 'ExportNamedDeclaration')) return;
  check(node.value, node, report, addEdge);
  // `{ hostname: 'pastebin.com' }`: a bare host is a target when an options object names it so.
  if (parent?.type === 'ObjectProperty' && parent.value === node && !parent.computed && parent.key.type === 'Identifier' && HOST_KEYS.has(parent.key.name)) {
    const h = bareHost(node.value);
    if (h !== undefined) report({ capability: 'url-literals', api: 'host:' + h, node });
  }
}

export function inspectTemplateLiteral(node: t.TemplateLiteral, report: StringReport, addEdge: (spec: string) => void): void {
  const q = node.quasis;
  if (q.length === 1) {
    check(q[0]?.value.cooked ?? '', node, report, addEdge);
    return;
  }
  // Only the opening quasi can be a URL's origin (`https://host/${x}`).
  const first = q[0]?.value.cooked ?? '';
  if (first.includes('://')) check(first, node, report, addEdge);
  for (const part of q) {
    const s = sensitivePathIn(part.value.cooked ?? '');
    if (s !== undefined) report({ capability: 'sensitive-paths', api: 'path:' + s, node });
  }
}

export const STRINGS_ID = 'strings/literals';

export const strings: Detector = {
  meta: {
    id: STRINGS_ID,
    capabilities: ['url-literals', 'sensitive-paths'],
    severity: 'medium',
    description: 'URL hosts and IPs, and credential or profile paths, named by string literals',
  },
  create: (ctx) => {
    const report: StringReport = (r) => ctx.report(r);
    const addEdge = (spec: string): void => ctx.addEdge(spec);
    return {
      nodeVisitor: {
        StringLiteral(node, parent) {
          inspectStringLiteral(node, parent, report, addEdge);
        },
        TemplateLiteral(node) {
          inspectTemplateLiteral(node, report, addEdge);
        },
      },
    };
  },
};
