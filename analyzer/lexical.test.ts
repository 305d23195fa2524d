import { lexicalScan } from './lexical';

describe('lexicalScan (fallback for files that cannot be parsed)', () => {
  it('finds module specifiers, globals, hosts and credential paths by tokens', () => {
    const hits = lexicalScan("const p = join(homedir(), '.npmrc');\nfetch('https://evil.tld/x');\nrequire('node:child_process');\nx = '/home/u/.ssh/id_rsa' {{ broken");
    const byCap = new Map(hits.map((h) => [h.capability, h]));
    expect([...byCap.keys()].sort()).toEqual(['child-process', 'network', 'sensitive-paths', 'url-literals']);
    expect(byCap.get('child-process')).toMatchObject({ api: 'child_process', line: 3 });
    expect(hits.map((h) => h.api)).toEqual(expect.arrayContaining(['host:evil.tld', 'path:.npmrc', 'path:.ssh']));
  });

  it('treats an escaped module as the whole module (fs: read and write)', () => {
    const caps = lexicalScan('import fs from "fs"; ((').map((h) => h.capability);
    expect(caps).toEqual(expect.arrayContaining(['fs-read', 'fs-write']));
  });

  it('stays linear on hostile text (unclosed quotes, long runs)', () => {
    expect(lexicalScan("'a".repeat(200000))).toEqual([]);
    expect(lexicalScan('a'.repeat(1000000) + ' .npmrc'.repeat(100)).map((h) => h.api)).toEqual(['path:.npmrc']);
  });
});
