import { moduleInternals } from './module-internals';
import { runDetector } from '../../test-support/run-detector';

runDetector(moduleInternals, {
  valid: [
    'module.exports = {}; exports.x = 1; module.id; require.main === module; require.resolve("x")',
    'import { createRequire } from "node:module"; const require = createRequire(import.meta.url); require("./x.json")',
    'const { builtinModules } = require("module"); builtinModules.includes("fs")',
    'function f(module) { return module.constructor._load("x") }',
    'if (typeof require === "function") {}',
  ],
  invalid: [
    { code: 'module.constructor._load("child_process")', capabilities: ['module-internals'], apis: ['module.constructor._load'] },
    { code: 'const Module = require("module"); Module._load("x")', capabilities: ['module-internals'], apis: ['module._load'] },
    { code: 'require("node:module")._resolveFilename = f', capabilities: ['module-internals'] },
    { code: 'process.mainModule.require("child_process")', capabilities: ['module-internals'], apis: ['process.mainModule.require'] },
    { code: 'module.require("x")', capabilities: ['module-internals'] },
    { code: 'delete require.cache[require.resolve("x")]', capabilities: ['module-internals'], apis: ['require.cache'] },
    { code: 'require.extensions[".txt"] = load', capabilities: ['module-internals'] },
    { code: 'const r = require; r("fs")', capabilities: ['dynamic-require'], apis: ['require(renamed)'] },
    { code: 'factory(require, exports)', capabilities: ['dynamic-require'] },
  ],
});
