import { system } from './system';
import { runDetector } from '../../test-support/run-detector';

runDetector(system, {
  valid: [
    'const os = require("os"); os.EOL; os.platform(); os.tmpdir(); os.cpus().length',
    'const crypto = { randomUUID() {} }; crypto.randomUUID()',
    'if (typeof WebAssembly === "object") {}',
    'const v8 = require("v8"); v8.getHeapStatistics()',
  ],
  invalid: [
    { code: 'require("os").hostname()', capabilities: ['os-info'], apis: ['os.hostname'] },
    { code: 'import { userInfo, networkInterfaces } from "node:os"; userInfo(); networkInterfaces()', capabilities: ['os-info'], apis: ['os.userInfo', 'os.networkInterfaces'] },
    { code: 'require("crypto").createHash("sha1")', capabilities: ['crypto'], apis: ['crypto.createHash'] },
    { code: 'crypto.subtle.digest("SHA-256", d)', capabilities: ['crypto'], apis: ['crypto.subtle'] },
    { code: 'WebAssembly.instantiate(bytes)', capabilities: ['wasm'] },
    { code: 'const { WASI } = require("wasi"); new WASI()', capabilities: ['wasm'] },
    { code: 'require("inspector").open()', capabilities: ['debug-inspector'] },
    { code: 'require("v8").setFlagsFromString("--allow-natives-syntax")', capabilities: ['debug-inspector'] },
  ],
});
