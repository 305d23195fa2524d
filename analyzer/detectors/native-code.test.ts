import { nativeCode, nativeFiles, nativeMagic } from './native-code';
import { runDetector } from '../../test-support/run-detector';

runDetector(nativeCode, {
  valid: ['const bindings = (n) => n; bindings("x")', 'require("./binding.js")'],
  invalid: [
    { code: 'require("bindings")("addon")', capabilities: ['native-code'] },
    { code: 'module.exports = require("node-gyp-build")(__dirname)', capabilities: ['native-code'] },
    { code: 'require("./build/Release/addon.node")', capabilities: ['native-code'] },
  ],
});

describe('native files', () => {
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60)]);
  const pe = Buffer.alloc(128);
  pe.write('MZ', 0, 'latin1');
  pe.writeUInt32LE(64, 60);
  pe.write('PE\0\0', 64, 'latin1');
  const macho = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(60)]);

  it('recognises ELF, PE and Mach-O by magic bytes, not by name', () => {
    expect(nativeMagic(elf)).toBe('elf');
    expect(nativeMagic(pe)).toBe('pe');
    expect(nativeMagic(macho)).toBe('mach-o');
    expect(nativeMagic(Buffer.from('MZ is just text here, long enough to be checked............................................'))).toBeUndefined();
    expect(nativeMagic(Buffer.from('// plain javascript source, nothing native here'))).toBeUndefined();
  });

  it('reports binding.gyp, native extensions and disguised binaries', () => {
    const files = new Map<string, Uint8Array>([
      ['binding.gyp', Buffer.from('{}')],
      ['build/Release/addon.node', Buffer.from('x')],
      ['lib/sdd.dll', Buffer.from('x')],
      ['assets/logo.png', elf],
      ['index.js', Buffer.from('module.exports = 1')],
    ]);
    expect(nativeFiles(files)).toEqual([
      { file: 'binding.gyp', api: 'binding.gyp' },
      { file: 'build/Release/addon.node', api: 'file:node' },
      { file: 'lib/sdd.dll', api: 'file:dll' },
      { file: 'assets/logo.png', api: 'binary:elf' },
    ]);
  });
});
