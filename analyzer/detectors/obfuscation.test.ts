import { readFileSync } from 'node:fs';
import { obfuscation } from './obfuscation';
import { DETECTORS } from './index';
import { runDetector, hitsOf } from '../../test-support/run-detector';

/** The shape javascript-obfuscator emits (string array, rotator IIFE, `_0x` names, hex indexes). */
const OBFUSCATOR_OUTPUT = `var _0x3a1f=['log','child_process','exec','whoami'];(function(_0x1b2c4d,_0x3a1f2e){var _0x52ad1c=function(_0x4c1e9a){while(--_0x4c1e9a){_0x1b2c4d['push'](_0x1b2c4d['shift']());}};_0x52ad1c(++_0x3a1f2e);}(_0x3a1f,0x1b3));var _0x52ad=function(_0x1b2c4d,_0x3a1f2e){_0x1b2c4d=_0x1b2c4d-0x0;var _0x52ad1c=_0x3a1f[_0x1b2c4d];return _0x52ad1c;};require(_0x52ad('0x1'))[_0x52ad('0x2')](_0x52ad('0x3'));`;

/** A terser-style minified (honest) bundle: short names, no whitespace, `!0`, comma chains, IIFEs. */
const MINIFIED = `"use strict";var e=require("path"),t=require("fs");function n(n,r){var o=r||{},i=e.resolve(n);return t.existsSync(i)?JSON.parse(t.readFileSync(i,"utf8")):(o.strict&&!function(){throw new Error("missing "+i)}(),null)}function r(e){for(var t=0,n=e.length;t<n;t++)if(e[t]===void 0)return!1;return!0}var o=function(){function e(e){this.a=e,this.b=[]}return e.prototype.push=function(e){return this.b.push(e),this},e.prototype.shift=function(){return this.b.shift()},e}();module.exports={read:n,all:r,Q:o,T:!0,F:!1};`;

runDetector(obfuscation, {
  valid: [
    { name: 'terser-style minified bundle', code: MINIFIED },
    'while (true) { if (x()) break }',
    'queue.push(other.shift())',
    '"\\x1b[31m" + "\\u00a0" + "\\n"',
    { name: 'long indentation inside a template literal is not padding', code: 'const t = `' + ' '.repeat(200) + 'text`;' },
    { name: 'long spaces in a comment are not padding', code: '//' + ' '.repeat(200) + 'note\nfoo()' },
    'const _0xfeed = 1; // one hex-like name is a coincidence',
  ],
  invalid: [
    { code: OBFUSCATOR_OUTPUT, capabilities: ['obfuscation'], apis: ['_0x-identifiers', 'string-array-rotator'] },
    { code: 'while (!![]) { try { a(); break } catch (e) { b() } }', capabilities: ['obfuscation'], apis: ['while(!![])'] },
    { code: 'for (;!![];) { }', capabilities: ['obfuscation'] },
    { code: 'module.exports = 1;' + ' '.repeat(180) + 'require("child_process").exec("id")', capabilities: ['obfuscation'], apis: ['whitespace-padding'] },
    { code: 'var \\u0065val = 1; e(\\u0065val)', capabilities: ['obfuscation'], apis: ['escaped-identifier'] },
    { code: 'a["\\x65\\x78ec"](); b["\\x73pawn"](); c["\\u0066s"]()', capabilities: ['obfuscation'], apis: ['escaped-strings'] },
    {
      name: 'high-entropy blob in a file that evaluates code',
      code: `const p = '${Buffer.from(Array.from({ length: 900 }, (_, i) => (i * 7919) % 251)).toString('base64')}'; eval(decode(p))`,
      capabilities: ['obfuscation'],
      apis: ['encoded-blob'],
    },
  ],
});

describe('obfuscation through the whole detector set', () => {
  it('obfuscator output that requires child_process also reports child-process (folded through the string array)', () => {
    const hits = hitsOf(OBFUSCATOR_OUTPUT, DETECTORS);
    const caps = new Set(hits.map((h) => h.capability));
    expect(caps.has('obfuscation')).toBe(true);
    // The rotated array defeats constant folding: the require is at least a dynamic require.
    expect(caps.has('child-process') || caps.has('dynamic-require')).toBe(true);
  });

  const realMinified = ['neo-async/async.min.js', 'source-map/dist/source-map.min.js', 'tldts/dist/index.cjs.min.js', 'handlebars/dist/handlebars.min.js'];
  for (const rel of realMinified) {
    let source: string | undefined;
    try {
      source = readFileSync(require.resolve(rel), 'utf8');
    } catch {
      source = undefined;
    }
    (source === undefined ? it.skip : it)(`real minified bundle ${rel} is not obfuscation`, () => {
      const hits = hitsOf(source ?? '', DETECTORS).filter((h) => h.capability === 'obfuscation');
      expect(hits).toEqual([]);
    });
  }
});
