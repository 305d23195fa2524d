import { filesystem } from './filesystem';
import { runDetector } from '../../test-support/run-detector';

runDetector(filesystem, {
  valid: [
    () => {
      const fs = { writeFileSync: (_a: string, _b: string): void => undefined };
      fs.writeFileSync('a', 'b');
    },
    'const fs = require("fs"); fs.constants.O_RDONLY',
    'import fs from "./fs.js"; fs.writeFileSync("a")',
  ],
  invalid: [
    { code: () => require('fs').readFileSync('/etc/hosts'), capabilities: ['fs-read'], apis: ['fs.readFileSync'], not: ['fs-write'] },
    { code: () => require('fs').writeFileSync('/tmp/x', 'y'), capabilities: ['fs-write'], apis: ['fs.writeFileSync'] },
    { code: 'const { promises } = require("fs"); promises.writeFile("x", "y")', capabilities: ['fs-write'], apis: ['fs.promises.writeFile'] },
    { code: 'import { writeFile } from "node:fs/promises"; writeFile("x", "y")', capabilities: ['fs-write'], apis: ['fs.promises.writeFile'] },
    { code: 'import * as fsp from "fs/promises"; await fsp.readdir(".")', capabilities: ['fs-read'], not: ['fs-write'] },
    { code: 'const fs = require("fs"); fs.mkdirSync("d"); fs.rmSync("d"); fs.createWriteStream("f")', capabilities: ['fs-write'], apis: ['fs.mkdirSync', 'fs.rmSync', 'fs.createWriteStream'] },
    { code: 'const fs = require("fs"); fs.openSync("f", "r")', capabilities: ['fs-read'], not: ['fs-write'] },
    { code: 'const fs = require("fs"); fs.openSync("f", "w")', capabilities: ['fs-write'] },
    { code: 'module.exports = require("fs")', capabilities: ['fs-read', 'fs-write'], name: 'escaped module falls back to the whole module' },
    { code: 'const fs = require("fs"); patch(fs)', capabilities: ['fs-read', 'fs-write'] },
    { code: 'const w = require("util").promisify(require("fs").writeFile); w("x")', capabilities: ['fs-write'] },
  ],
});
