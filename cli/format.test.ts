import { formatEvidence } from './format';

describe('formatEvidence', () => {
  it.each([
    [{ file: 'a.js', line: 3, column: 1, api: 'child_process.exec', snippet: "exec('id')" }, "a.js:3 child_process.exec — exec('id')"],
    [{ file: 'package.json', line: 0, column: 0, api: 'dep:x', snippet: '"x": "^1"' }, 'package.json dep:x — "x": "^1"'],
    [{ file: 'binding.gyp', line: 0, column: 0, api: 'binding.gyp', snippet: 'binding.gyp' }, 'binding.gyp'],
    [{ file: 'a.node', line: 0, column: 0, api: 'binary:elf', snippet: 'a.node' }, 'a.node binary:elf'],
    [{ file: 't.js', line: 1, column: 0, api: 'fs.readFile', snippet: 'x', reachable: false, via: 'dep@1.0.0' }, 't.js:1 fs.readFile — x [unreachable, via dep@1.0.0]'],
  ])('%o', (e, expected) => {
    expect(formatEvidence(e)).toBe(expected);
  });
});
