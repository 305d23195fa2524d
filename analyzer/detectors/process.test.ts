import { childProcess } from './process';
import { runDetector } from '../../test-support/run-detector';

runDetector(childProcess, {
  valid: [
    () => {
      const exec = (_c: string): void => undefined;
      exec('ls');
    },
    () => {
      function run(require: (s: string) => { exec(c: string): void }): void {
        require('child_process').exec('ls');
      }
      return run;
    },
    'const cp = require("./child_process"); cp.exec("ls")',
    'process.cwd(); process.exit(1); process.platform',
    'const { isMainThread } = require("worker_threads"); if (isMainThread) {}',
  ],
  invalid: [
    { code: () => require('child_process').exec('ls'), capabilities: ['child-process'], apis: ['child_process.exec'] },
    {
      code: () => {
        const cp = require('node:child_process');
        cp.spawn('sh');
      },
      capabilities: ['child-process'],
      apis: ['child_process.spawn'],
    },
    {
      code: () => {
        const { execSync: run } = require('child_process');
        run('id');
      },
      capabilities: ['child-process'],
      apis: ['child_process.execSync'],
    },
    { code: 'import { spawn } from "node:child_process"; spawn("x")', capabilities: ['child-process'], apis: ['child_process.spawn'] },
    { code: 'import("child_process").then(m => m.exec("x"))', capabilities: ['child-process'] },
    { code: 'process.binding("spawn_sync").spawn({})', capabilities: ['child-process', 'process-internals'], apis: ["process.binding('spawn_sync')"] },
    { code: 'process._linkedBinding("x")', capabilities: ['process-internals'] },
    { code: 'process.dlopen(module, "/tmp/x.node")', capabilities: ['process-internals', 'native-code'] },
    { code: 'const t = process; t[k]()', capabilities: ['process-internals'], apis: ['process[*]'] },
    { code: 'internalBinding("fs")', capabilities: ['process-internals'] },
    { code: 'const cluster = require("cluster"); cluster.setupPrimary({ exec: "worker.js" }); cluster.fork()', capabilities: ['worker', 'child-process'] },
    { code: 'const { Worker } = require("worker_threads"); new Worker("./w.js")', capabilities: ['worker'] },
  ],
});
