import traverseModule from '@babel/traverse';
import { parseSource } from './parse';
import { scanSource } from './scan';
import { DETECTORS } from './detectors/index';

const traverse = (traverseModule as unknown as { default?: typeof traverseModule }).default ?? traverseModule;

describe('scanSource and Babel traverse caches', () => {
  it('leaves no NodePath or Scope of a scanned file in Babel process-wide caches', () => {
    const source = "const cp = require('child_process');\nfunction run(c) { return cp.exec(c); }\nrun(process.env.CMD);\n";
    const parsed = parseSource(source);
    if (!parsed.ok) throw new Error('fixture does not parse');
    const scan = scanSource('index.js', source, DETECTORS, parsed);
    // The full pass ran (it found the uses) ...
    expect(scan.hits.map((h) => h.capability)).toEqual(expect.arrayContaining(['child-process', 'env-read']));
    // ... and its paths and scopes were dropped with the file, not left to the GC's ephemeron tables.
    expect(traverse.cache.path.has(parsed.ast.program)).toBe(false);
    expect(traverse.cache.scope.has(parsed.ast.program)).toBe(false);
  });

  it('keeps the enclosing file\'s paths while a decoded payload is scanned inside its pass', () => {
    // The payload (decoded from base64 and evaluated) is traversed during the file's own pass; the
    // file's uses after the eval must still be found.
    const payload = Buffer.from("require('child_process').exec('id')").toString('base64');
    const source = `eval(Buffer.from('${payload}', 'base64').toString());\nrequire('fs').readFileSync('/etc/passwd');\nfetch(process.env.URL);\n`;
    const scan = scanSource('index.js', source, DETECTORS);
    expect(scan.hits.map((h) => h.capability)).toEqual(expect.arrayContaining(['code-eval', 'child-process', 'fs-read', 'network', 'env-read']));
  });
});
