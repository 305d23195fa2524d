import { globals } from './globals';
import { runDetector } from '../../test-support/run-detector';

runDetector(globals, {
  valid: [
    'const window = {}; window.fetch = f; window[k] = 1',
    'module.exports.fetch = f; exports.x = 1',
    'const o = {}; Object.defineProperty(o, "x", {})',
    'console.log(window.innerWidth, globalThis.Symbol)',
  ],
  invalid: [
    { code: 'window.fetch = function (u) { return send(u) }', capabilities: ['global-tamper'], apis: ['fetch'] },
    { code: 'XMLHttpRequest.prototype.open = hook', capabilities: ['global-tamper'], apis: ['XMLHttpRequest.prototype.open'] },
    { code: 'Array.prototype.last = function () {}', capabilities: ['global-tamper'] },
    { code: 'globalThis.myLib = {}', capabilities: ['global-tamper'] },
    { code: 'Object.defineProperty(window, "ethereum", { get() {} })', capabilities: ['global-tamper'] },
    { code: 'Object.defineProperty(Element.prototype, "x", {})', capabilities: ['global-tamper'] },
    { code: 'global[name]()', capabilities: ['dynamic-require'], apis: ['globalThis[*]'] },
    { code: 'self[k] = v', capabilities: ['dynamic-require', 'global-tamper'] },
  ],
});
