// Owns what package.json makes npm do at install time (install-script: preinstall/install/postinstall,
// and the implicit `node-gyp rebuild` when binding.gyp ships without an install script) and where
// dependencies come from (url-dependency: git, http(s), file, link and GitHub shorthand specifiers).
import type { CapabilityId } from '../types';

export interface ManifestEvidence {
  readonly capability: CapabilityId;
  readonly api: string;
  readonly line: number;
  readonly snippet: string;
}

export const INSTALL_SCRIPT_NAMES = ['preinstall', 'install', 'postinstall'] as const;

/** 1-based line of the first occurrence of `"key"` in the manifest text (0 if not found). */
function lineOfKey(text: string, key: string): number {
  const i = text.indexOf(JSON.stringify(key));
  if (i < 0) return 0;
  let line = 1;
  for (let j = text.indexOf('\n'); j !== -1 && j < i; j = text.indexOf('\n', j + 1)) line++;
  return line;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 120);
}

function record(value: unknown): Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The install-time scripts npm runs for this manifest (binding.gyp implies `node-gyp rebuild`). */
export function installScriptsOf(manifest: Readonly<Record<string, unknown>>, hasBindingGyp: boolean): Record<string, string> {
  const scripts = record(manifest['scripts']);
  const out: Record<string, string> = {};
  for (const name of INSTALL_SCRIPT_NAMES) {
    const cmd = scripts[name];
    if (typeof cmd === 'string' && cmd.trim() !== '') out[name] = cmd;
  }
  // npm: "If there is a binding.gyp file in the root of your package and you haven't defined your own
  // install or preinstall scripts, npm will default the install command to compile using node-gyp."
  if (hasBindingGyp && out['install'] === undefined && out['preinstall'] === undefined && manifest['gypfile'] !== false) {
    out['install'] = 'node-gyp rebuild';
  }
  return out;
}

/** Runtime dependencies: dependencies + optionalDependencies + peerDependencies (name -> range). */
export function dependenciesOf(manifest: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of ['peerDependencies', 'optionalDependencies', 'dependencies']) {
    for (const [name, range] of Object.entries(record(manifest[field]))) {
      if (typeof range === 'string') out[name] = range;
      else out[name] = '';
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const URL_SPEC = /^(?:git\+|git:|github:|gitlab:|bitbucket:|gist:|https?:|file:|link:|ssh:)/i;
const SHORTHAND = /^[\w.-]+\/[\w.-]+(?:#.*)?$/;

/** Is this dependency specifier something other than a registry range (git, URL, tarball, path)? */
export function isUrlSpec(spec: string): boolean {
  const s = spec.trim();
  if (s.startsWith('npm:')) return false;
  if (URL_SPEC.test(s)) return true;
  if (/\.(?:tgz|tar\.gz|tar)$/i.test(s)) return true;
  if (s.startsWith('./') || s.startsWith('../') || s.startsWith('/') || s.startsWith('~/')) return true;
  return SHORTHAND.test(s) && !s.startsWith('@');
}

/** install-script and url-dependency evidence from a manifest. */
export function inspectManifest(manifest: Readonly<Record<string, unknown>>, text: string, hasBindingGyp: boolean): ManifestEvidence[] {
  const out: ManifestEvidence[] = [];
  const scripts = installScriptsOf(manifest, hasBindingGyp);
  const declared = record(manifest['scripts']);
  for (const [name, cmd] of Object.entries(scripts)) {
    const implicit = declared[name] !== cmd;
    out.push({
      capability: 'install-script',
      api: implicit ? 'binding.gyp:node-gyp rebuild' : 'scripts.' + name,
      line: implicit ? 0 : lineOfKey(text, name),
      snippet: oneLine(implicit ? 'binding.gyp -> node-gyp rebuild' : `"${name}": ${JSON.stringify(cmd)}`),
    });
  }
  for (const field of ['dependencies', 'optionalDependencies']) {
    for (const [name, spec] of Object.entries(record(manifest[field]))) {
      if (typeof spec === 'string' && isUrlSpec(spec)) {
        out.push({ capability: 'url-dependency', api: 'dep:' + name, line: lineOfKey(text, name), snippet: oneLine(`"${name}": ${JSON.stringify(spec)}`) });
      }
    }
  }
  return out;
}
