import { analyzeFiles, MAX_EVIDENCE_PER_ID } from './policy';
import { RULES_VERSION } from './rules-version';
import { toBytes, type FileContent } from '../test-support/make-package';

function filesOf(entries: Readonly<Record<string, FileContent>>): Map<string, Uint8Array> {
  return new Map(Object.keys(entries).sort().map((k) => [k, toBytes(entries[k] as FileContent)]));
}

describe('analyzeFiles', () => {
  const files = filesOf({
    'package.json': { name: 'p', version: '1.2.3', main: 'index.js', dependencies: { b: '^1', a: 'github:x/y' }, peerDependencies: { c: '*' }, scripts: { postinstall: 'node s.js', test: 'jest' } },
    'index.js': "const cp = require('child_process');\ncp.exec('ls');\nfetch('https://api.one.tld/x');\n",
    's.js': "console.log(process.env.HOME)\n",
  });

  it('builds a complete, sorted policy', () => {
    const p = analyzeFiles(files);
    expect(p).toMatchObject({ schema: 1, rulesVersion: RULES_VERSION, name: 'p', version: '1.2.3' });
    expect(p.capabilities).toEqual(['child-process', 'env-read', 'install-script', 'network', 'url-dependency', 'url-literals']);
    expect(p.capabilities).toEqual([...p.capabilities].sort());
    expect(p.hosts).toEqual(['api.one.tld']);
    expect(p.dependencies).toEqual({ a: 'github:x/y', b: '^1', c: '*' });
    expect(p.installScripts).toEqual({ postinstall: 'node s.js' });
    expect(p.keypaths).toEqual(expect.arrayContaining(['child_process.exec', 'fetch', 'process.env.HOME', 'scripts.postinstall', 'dep:a']));
    expect(p.evidence['child-process']?.[0]).toEqual({ file: 'index.js', line: 1, column: 11, api: 'child_process', snippet: "const cp = require('child_process');" });
    expect(p.stats).toEqual({ files: 3, jsFiles: 2, bytes: expect.any(Number) });
  });

  it('is deterministic: same bytes, same JSON', () => {
    expect(JSON.stringify(analyzeFiles(files))).toBe(JSON.stringify(analyzeFiles(new Map([...files].reverse()))));
  });

  it('caps evidence per id but keeps every keypath, preferring reachable evidence', () => {
    const many = Array.from({ length: 40 }, (_, i) => `process.env.V${i};`).join('\n');
    const p = analyzeFiles(filesOf({ 'package.json': { name: 'q', version: '1.0.0' }, 'index.js': 'process.env.MAIN', 'a-test/t.js': many }));
    expect(p.evidence['env-read']).toHaveLength(MAX_EVIDENCE_PER_ID);
    expect(p.keypaths.filter((k) => k.startsWith('process.env.'))).toHaveLength(41);
    expect(p.evidence['env-read']?.some((e) => e.file === 'index.js' && e.reachable === undefined)).toBe(true);
  });

  it('never throws on hostile input', () => {
    const p = analyzeFiles(filesOf({ 'package.json': '{not json', 'index.js': 'function (', 'x.js': new Uint8Array([0xff, 0xfe, 0x00, 0x01]) }));
    expect(p.name).toBe('');
    expect(p.findings.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['package/invalid-manifest', 'source/unparseable']));
    expect(analyzeFiles(new Map()).findings.map((f) => f.ruleId)).toEqual(['package/missing-manifest']);
  });

  it('passes unpacking findings through, sorted', () => {
    const p = analyzeFiles(files, { findings: [{ ruleId: 'archive/path-traversal', file: '../x', message: 'skipped' }] });
    expect(p.findings).toEqual([{ ruleId: 'archive/path-traversal', file: '../x', message: 'skipped' }]);
  });

  it('analyzes a bin script without an extension and a main with an odd one', () => {
    const p = analyzeFiles(filesOf({ 'package.json': { name: 'r', version: '1.0.0', bin: { r: 'bin/r' } }, 'bin/r': "#!/usr/bin/env node\nrequire('child_process').spawn('x')\n" }));
    expect(p.capabilities).toContain('child-process');
  });
});
