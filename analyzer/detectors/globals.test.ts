import { globals } from './globals';
import { runDetector } from '../../test-support/run-detector';

runDetector(globals, {
  valid: [
    'const window = {}; window.fetch = f; window[k] = 1',
    'module.exports.fetch = f; exports.x = 1',
    'const o = {}; Object.defineProperty(o, "x", {})',
    'console.log(window.innerWidth, globalThis.Symbol)',
    { name: 'adding a method is not overriding one', code: 'Array.prototype.last = function () {}; Object.defineProperty(Function.prototype, "once", { value: f })' },
    { name: 'a library singleton on globalThis', code: 'globalThis.myLib = {}' },
    { name: 'polyfills merged into globalThis', code: 'Object.assign(globalThis, require("node:stream/web"))' },
    'Error.stackTraceLimit = 50; Error.prepareStackTrace = fmt',
    { name: 'a dapp reading the wallet it talks to', code: 'if (typeof window.ethereum !== "undefined" && window.ethereum.isMetaMask) connect(window.ethereum)' },
    { name: 'a wallet request through an alias', code: 'const provider = window.ethereum; provider.request({ method: "eth_requestAccounts" })' },
    { name: 'a local named like a wallet global', code: 'const ethereum = {}; ethereum.request = f; function g(solana) { solana.sign = h }' },
  ],
  invalid: [
    { code: 'window.fetch = function (u) { return send(u) }', capabilities: ['global-tamper'], apis: ['fetch'] },
    { code: 'XMLHttpRequest.prototype.open = hook', capabilities: ['global-tamper'], apis: ['XMLHttpRequest.prototype.open'] },
    { code: 'Array.prototype.map = function () {}', capabilities: ['global-tamper'], apis: ['Array.prototype.map'] },
    { code: 'JSON.parse = hooked', capabilities: ['global-tamper'] },
    { code: 'globalThis.fetch = hooked', capabilities: ['global-tamper'] },
    { code: 'window.ethereum.request = hooked', capabilities: ['global-tamper'], apis: ['ethereum.request'] },
    { code: 'ethereum.request = hooked', capabilities: ['global-tamper'], apis: ['ethereum.request'] },
    { name: 'a wallet hooked through an alias of window.ethereum', code: 'const e = window.ethereum; const orig = e.request; e.request = async (a) => orig(a)', capabilities: ['global-tamper'], apis: ['ethereum.request'] },
    { name: 'a wallet hooked through an alias of the bare global', code: 'const s = solana; s.signTransaction = steal', capabilities: ['global-tamper'], apis: ['solana.signTransaction'] },
    { code: 'const w = globalThis.tronWeb; w.trx.sign = steal', capabilities: ['global-tamper'], apis: ['tronWeb.trx.sign'] },
    { code: 'Object.defineProperty(globalThis, "fetch", { value: hooked })', capabilities: ['global-tamper'] },
    { code: 'Object.defineProperty(window, "ethereum", { get() {} })', capabilities: ['global-tamper'] },
    { code: 'Object.defineProperty(Element.prototype, "x", {})', capabilities: ['global-tamper'] },
    { code: 'global[name]()', capabilities: ['dynamic-require'], apis: ['globalThis[*]'] },
    { code: 'self[k] = v', capabilities: ['dynamic-require', 'global-tamper'] },
  ],
});
