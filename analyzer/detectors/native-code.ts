// Owns native-code: native addon loaders (bindings, node-gyp-build, prebuild-install, node-pre-gyp),
// `.node` specifiers, and — from the file map — binding.gyp, .node/.dll/.so/.dylib/.exe files and
// ELF / PE / Mach-O magic bytes whatever the file is called.
import type { Detector } from './types';
import { keypathOf } from './types';
import { NATIVE_LOADERS } from './catalog';

export const nativeCode: Detector = {
  meta: {
    id: 'native-code/loader',
    capabilities: ['native-code'],
    severity: 'critical',
    description: 'Loads native addons',
  },
  create: (ctx) => ({
    onUse(use) {
      if (use.root.kind !== 'module' || use.how === 'typeof') return;
      const spec = use.root.spec;
      if (NATIVE_LOADERS.has(spec) || spec.endsWith('.node')) {
        ctx.report({ capability: 'native-code', api: keypathOf(use.root, use.members.slice(0, 1)), path: use.path });
      }
    },
  }),
};

const NATIVE_EXT = /\.(?:node|dll|so|dylib|exe)$|\.so\.\d+(?:\.\d+)*$/i;

/** What kind of native binary these bytes are, by magic number; undefined for anything else. */
export function nativeMagic(bytes: Uint8Array): string | undefined {
  if (bytes.length < 16) return undefined;
  const b0 = bytes[0];
  const b1 = bytes[1];
  const b2 = bytes[2];
  const b3 = bytes[3];
  if (b0 === 0x7f && b1 === 0x45 && b2 === 0x4c && b3 === 0x46) return 'elf';
  if (b0 === 0x4d && b1 === 0x5a && bytes.length >= 64) {
    // MZ header: confirm the PE signature at e_lfanew so that text starting with "MZ" is not a match.
    const off = (bytes[60] ?? 0) | ((bytes[61] ?? 0) << 8) | ((bytes[62] ?? 0) << 16) | ((bytes[63] ?? 0) << 24);
    if (off > 0 && off + 4 <= bytes.length && bytes[off] === 0x50 && bytes[off + 1] === 0x45 && bytes[off + 2] === 0 && bytes[off + 3] === 0) return 'pe';
    return undefined;
  }
  const be = (((b0 ?? 0) << 24) | ((b1 ?? 0) << 16) | ((b2 ?? 0) << 8) | (b3 ?? 0)) >>> 0;
  if (be === 0xfeedface || be === 0xfeedfacf || be === 0xcefaedfe || be === 0xcffaedfe) return 'mach-o';
  if (be === 0xcafebabe) {
    // Fat Mach-O has a small architecture count here; Java class files have their version (>= 45).
    const n = (((bytes[4] ?? 0) << 24) | ((bytes[5] ?? 0) << 16) | ((bytes[6] ?? 0) << 8) | (bytes[7] ?? 0)) >>> 0;
    if (n > 0 && n < 20) return 'mach-o';
  }
  return undefined;
}

/** native-code evidence from the file list: names and magic bytes. */
export function nativeFiles(files: ReadonlyMap<string, Uint8Array>): { file: string; api: string }[] {
  const out: { file: string; api: string }[] = [];
  for (const [name, bytes] of files) {
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base === 'binding.gyp') {
      out.push({ file: name, api: 'binding.gyp' });
      continue;
    }
    const magic = nativeMagic(bytes);
    if (magic !== undefined) out.push({ file: name, api: 'binary:' + magic });
    else if (NATIVE_EXT.test(base)) out.push({ file: name, api: 'file:' + (base.match(/\.(node|dll|so|dylib|exe)/i)?.[1] ?? 'so').toLowerCase() });
  }
  return out;
}
