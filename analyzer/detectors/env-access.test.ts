import { envAccess } from './env-access';
import { runDetector } from '../../test-support/run-detector';

runDetector(envAccess, {
  valid: [
    () => {
      const process = { env: { HOME: 'x' } };
      return process.env.HOME;
    },
    'const env = process.env;',
    'if (typeof process.env === "object") {}',
  ],
  invalid: [
    { code: () => process.env.NPM_TOKEN, capabilities: ['env-read'], apis: ['process.env.NPM_TOKEN'], not: ['env-enumerate'] },
    { code: 'const { HOME, GITHUB_TOKEN: t } = process.env', capabilities: ['env-read'], apis: ['process.env.HOME', 'process.env.GITHUB_TOKEN'] },
    { code: 'const env = process.env; env.AWS_SECRET_ACCESS_KEY', capabilities: ['env-read'], apis: ['process.env.AWS_SECRET_ACCESS_KEY'] },
    { code: 'process.env["NODE_" + "ENV"]', capabilities: ['env-read'], apis: ['process.env.NODE_ENV'] },
    { code: 'process.env[name]', capabilities: ['env-read'], apis: ['process.env[*]'] },
    { code: 'require("process").env.CI', capabilities: ['env-read'], apis: ['process.env.CI'] },
    { code: () => JSON.stringify(process.env), capabilities: ['env-enumerate'] },
    { code: () => Object.keys(process.env), capabilities: ['env-enumerate'] },
    { code: () => ({ ...process.env }), capabilities: ['env-enumerate'] },
    {
      code: () => {
        for (const k in process.env) console.log(k);
      },
      capabilities: ['env-enumerate'],
    },
    { code: 'const { ...all } = process.env', capabilities: ['env-enumerate'] },
    { code: 'const e = process.env; send(e)', capabilities: ['env-enumerate'] },
    { code: 'require("child_process").spawn("x", [], { env: { ...process.env, A: "1" } })', capabilities: ['env-read'], not: ['env-enumerate'], name: 'environment handed to a child process' },
    { code: 'module.exports = { env: process.env }', capabilities: ['env-read'], not: ['env-enumerate'], name: 'environment exposed in an exported API object' },
    { code: 'const result = { env: process.env, host: h }; send(JSON.stringify(result))', capabilities: ['env-enumerate'], name: 'environment collected into a payload object' },
    { code: '"CI" in process.env; Object.hasOwn(process.env, "X")', capabilities: ['env-read'], not: ['env-enumerate'], name: 'membership tests' },
  ],
});
