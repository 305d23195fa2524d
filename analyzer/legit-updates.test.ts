// Legitimate updates that must not be blocked: the everyday changes that a capability gate sees
// all the time and that gain nothing a reviewer needs to look at.
import { analyzeFiles } from './policy';
import { diffPolicies } from './diff';
import { toBytes, type FileContent } from '../test-support/make-package';
import type { PackagePolicy } from './types';

function policyOf(entries: Readonly<Record<string, FileContent>>): PackagePolicy {
  return analyzeFiles(new Map(Object.keys(entries).sort().map((k) => [k, toBytes(entries[k] as FileContent)])));
}

const LIB = `'use strict';
const fs = require('fs');
const https = require('https');

function readConfig(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function fetchRelease(name, cb) {
  https.get('https://api.releases.tld/v1/' + encodeURIComponent(name), (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => cb(null, JSON.parse(body)));
  }).on('error', cb);
}

module.exports = { readConfig, fetchRelease };
`;

/** What a minifier makes of LIB: short names, no whitespace, comma expressions. */
const LIB_MIN = `"use strict";const e=require("fs"),t=require("https");function n(t){return JSON.parse(e.readFileSync(t,"utf8"))}function r(e,n){t.get("https://api.releases.tld/v1/"+encodeURIComponent(e),e=>{let t="";e.on("data",e=>{t+=e}),e.on("end",()=>n(null,JSON.parse(t)))}).on("error",n)}module.exports={readConfig:n,fetchRelease:r};`;

const base = (version: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'release-client',
  version,
  main: 'lib/index.js',
  dependencies: { semver: '^7.5.0' },
  ...extra,
});

describe('legitimate updates are not blocked', () => {
  const old = policyOf({ 'package.json': base('1.0.0'), 'lib/index.js': LIB });

  it('added .d.ts files', () => {
    const next = policyOf({
      'package.json': base('1.0.1', { types: 'lib/index.d.ts' }),
      'lib/index.js': LIB,
      'lib/index.d.ts': 'export declare function readConfig(file: string): unknown;\nexport declare function fetchRelease(name: string, cb: (e: Error | null, r?: unknown) => void): void;\n',
    });
    const diff = diffPolicies(old, next);
    expect(diff.decision).toBe('allow');
    expect(diff.gained).toEqual([]);
  });

  it('added devDependencies and a prepare script', () => {
    const next = policyOf({
      'package.json': base('1.1.0', { devDependencies: { typescript: '^5.4.0', jest: '^29.0.0' }, scripts: { prepare: 'tsc -p .', test: 'jest' } }),
      'lib/index.js': LIB,
    });
    const diff = diffPolicies(old, next);
    expect(diff.decision).toBe('allow');
    expect(diff.details.newDependencies).toEqual([]);
    expect(diff.details.changedInstallScripts).toEqual([]);
  });

  it('a minified dist bundle of the same code', () => {
    const next = policyOf({
      'package.json': base('1.2.0', { exports: { '.': { require: './lib/index.js', browser: './dist/index.min.js' } } }),
      'lib/index.js': LIB,
      'dist/index.min.js': LIB_MIN,
    });
    const diff = diffPolicies(old, next);
    expect(diff.decision).toBe('allow');
    expect(diff.gained).toEqual([]);
    expect(diff.details.newHosts).toEqual([]);
    expect(next.capabilities).not.toContain('obfuscation');
  });

  it("require('node:https') replacing require('https')", () => {
    const next = policyOf({ 'package.json': base('1.0.2'), 'lib/index.js': LIB.replace("require('https')", "require('node:https')").replace("require('fs')", "require('node:fs')") });
    const diff = diffPolicies(old, next);
    expect(diff.decision).toBe('allow');
    expect(diff.gained).toEqual([]);
    expect(diff.details.newKeypaths).toEqual([]);
  });

  it('test files shipped by mistake: their capabilities are reported as unreachable and do not block', () => {
    const next = policyOf({
      'package.json': base('1.0.3'),
      'lib/index.js': LIB,
      'test/index.test.js': "const { execSync } = require('child_process');\nconst fs = require('fs');\nexecSync('rm -rf ' + require('os').tmpdir() + '/fixtures');\nfs.writeFileSync('/tmp/out.json', JSON.stringify(process.env));\n",
      'examples/demo.js': "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
    });
    const diff = diffPolicies(old, next);
    expect(diff.decision).not.toBe('block');
    expect(diff.gained).toEqual(expect.arrayContaining(['child-process', 'fs-write', 'env-enumerate']));
    for (const id of diff.gained) for (const e of diff.evidence[id] ?? []) expect(e.reachable).toBe(false);
    // Flag-tier capabilities seen only in unreachable files are not even a flag.
    expect(diff.gained).not.toContain('os-info');
  });

  it('the same test file becomes a block once an entry point requires it', () => {
    const next = policyOf({
      'package.json': base('1.0.3'),
      'lib/index.js': LIB + "require('../test/index.test.js');\n",
      'test/index.test.js': "require('child_process').execSync('id');\n",
    });
    expect(diffPolicies(old, next).decision).toBe('block');
  });

  it('an unchanged republish is allowed with nothing gained or lost', () => {
    const diff = diffPolicies(old, policyOf({ 'package.json': base('1.0.4'), 'lib/index.js': LIB }));
    expect(diff).toMatchObject({ gained: [], lost: [], decision: 'allow', baseline: '1.0.0' });
  });
});
