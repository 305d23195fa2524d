// Owns the e2e fixture packages, built in code (test-support/make-package.ts): benign versions and
// updates that gain a block-tier capability, a flag-tier capability or an install script.
import { makePackage } from '../../test-support/make-package';

export interface Fixture {
  readonly name: string;
  readonly version: string;
  readonly tarball: Buffer;
}

async function fixture(name: string, version: string, files: Record<string, string>, extra: Record<string, unknown> = {}): Promise<Fixture> {
  return { name, version, tarball: await makePackage({ name, version, main: 'index.js', license: 'MIT', ...extra }, files) };
}

const PLAIN = 'module.exports = function add(a, b) {\n  return a + b;\n};\n';
const SPAWNS = "const cp = require('child_process');\nmodule.exports = function add(a, b) {\n  cp.exec('id');\n  return a + b;\n};\n";
const READS = "const fs = require('fs');\nmodule.exports = function add(a, b) {\n  return a + b + fs.readFileSync(__filename, 'utf8').length * 0;\n};\n";

/** `name@1.0.0` plain, `name@1.1.0` gains child-process. */
export async function spawningUpdate(name: string): Promise<Fixture[]> {
  return [await fixture(name, '1.0.0', { 'index.js': PLAIN }), await fixture(name, '1.1.0', { 'index.js': SPAWNS })];
}

/** `name@1.0.0` plain, `name@1.1.0` gains only fs-read (flag tier). */
export async function readingUpdate(name: string): Promise<Fixture[]> {
  return [await fixture(name, '1.0.0', { 'index.js': PLAIN }), await fixture(name, '1.1.0', { 'index.js': READS })];
}

/** `name@1.0.0` plain, `name@1.1.0` adds a postinstall that writes `marker` (proof that it ran). */
export async function installScriptUpdate(name: string, marker: string): Promise<Fixture[]> {
  const script = `node -e "require('fs').writeFileSync(${JSON.stringify(marker).replace(/"/g, "'")}, 'ran')"`;
  return [await fixture(name, '1.0.0', { 'index.js': PLAIN }), await fixture(name, '1.1.0', { 'index.js': PLAIN }, { scripts: { postinstall: script } })];
}

export async function plainPackage(name: string, version: string): Promise<Fixture> {
  return fixture(name, version, { 'index.js': PLAIN });
}
