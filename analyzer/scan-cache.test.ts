import { analyzeFiles } from './policy';
import { clearScanCache } from './scan-cache';

describe('scan cache', () => {
  const files = (version: string): Map<string, Uint8Array> =>
    new Map<string, Uint8Array>([
      ['package.json', Buffer.from(JSON.stringify({ name: 'c', version, main: 'a.js' }))],
      ['a.js', Buffer.from("require('child_process').exec('x'); require('./b')")],
      ['b.js', Buffer.from('function (')],
      ['copy/b.js', Buffer.from('function (')],
    ]);

  it('cached and fresh analyses are identical, file names included', () => {
    clearScanCache();
    const cold = analyzeFiles(files('1.0.0'));
    const warm = analyzeFiles(files('1.0.0'));
    expect(JSON.stringify(warm)).toBe(JSON.stringify(cold));
    expect(cold.findings.map((f) => f.file)).toEqual(['b.js', 'copy/b.js']);
  });
});
