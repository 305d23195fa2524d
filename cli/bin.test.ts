// Runs the compiled `capgate` bin as a real process on fixture tarballs and folders built in code.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { makePackage } from '../test-support/make-package';
import { hostile } from '../test-support/make-hostile-tar';

const BIN = path.join(__dirname, 'bin.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function capgate(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CAPGATE_LOG_LEVEL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
const file = (name: string): string => path.join(dir, name);

const OLD = { name: 'demo', version: '1.0.0', main: 'index.js' };
const NEW = { name: 'demo', version: '1.1.0', main: 'index.js' };
const benign = 'module.exports = (a, b) => a + b;\n';
const spawns = "const { exec } = require('child_process');\nmodule.exports = () => exec('id');\n";

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'capgate-cli-'));
  writeFileSync(file('old.tgz'), await makePackage(OLD, { 'index.js': benign }));
  writeFileSync(file('same.tgz'), await makePackage({ ...NEW }, { 'index.js': benign, 'README.md': '# demo' }));
  writeFileSync(file('new.tgz'), await makePackage(NEW, { 'index.js': spawns }));
  writeFileSync(file('html.tgz'), hostile.notGzip());
  writeFileSync(file('truncated.tgz'), hostile.truncated());
  // The same new version as a folder, with a symlink that must be skipped.
  const folder = file('new-folder');
  mkdirSync(path.join(folder, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify(NEW));
  writeFileSync(path.join(folder, 'index.js'), spawns);
  writeFileSync(path.join(folder, 'node_modules', 'dep', 'index.js'), "require('net').connect(1)");
  symlinkSync('/etc/passwd', path.join(folder, 'passwd.js'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('capgate CLI (real process)', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await capgate(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: capgate');
    for (const word of ['analyze', 'diff', 'serve', 'review', 'Exit codes']) expect(r.stdout).toContain(word);
  });

  it('exits 2 on bad usage', async () => {
    expect((await capgate([])).code).toBe(2);
    const unknown = await capgate(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect((await capgate(['diff', file('old.tgz')])).code).toBe(2);
    expect((await capgate(['serve', '--port', 'x'])).code).toBe(2);
  });

  if (existsSync(path.join(__dirname, 'review.js'))) {
    it('review hands its arguments, --help included, to cli/review runReview', async () => {
      const r = await capgate(['review', '--help']);
      expect(r.code).toBe(0);
      // runReview's own usage, not capgate's top-level help.
      expect(r.stdout + r.stderr).toMatch(/capgate review/);
      expect(r.stdout).not.toContain('Exit codes: 0 nothing gained');
    });
  } else {
    it('review says it is not available yet and exits 2', async () => {
      const r = await capgate(['review', 'list']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not available yet');
    });
  }

  it('diff exits 1 with the gained capability and its evidence (JSON)', async () => {
    const r = await capgate(['diff', file('old.tgz'), file('new.tgz'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['baseline', 'decision', 'details', 'evidence', 'gained', 'lost', 'new', 'old', 'rulesVersion']);
    expect(out).toMatchObject({
      gained: ['child-process'],
      lost: [],
      decision: 'block',
      baseline: '1.0.0',
      old: { name: 'demo', version: '1.0.0' },
      new: { name: 'demo', version: '1.1.0' },
      evidence: { 'child-process': expect.arrayContaining([expect.objectContaining({ file: 'index.js', line: 2, api: 'child_process.exec', snippet: expect.stringContaining("exec('id')") })]) },
    });
  });

  it('diff prints a short human diff with evidence lines', async () => {
    const r = await capgate(['diff', file('old.tgz'), file('new.tgz')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('demo@1.0.0 -> demo@1.1.0');
    expect(r.stdout).toMatch(/decision: BLOCK/);
    expect(r.stdout).toMatch(/gained: +child-process \[block\]/);
    expect(r.stdout).toMatch(/index\.js:\d+ child_process\.exec/);
  });

  it('diff exits 0 when nothing is gained', async () => {
    const r = await capgate(['diff', file('old.tgz'), file('same.tgz'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ gained: [], decision: 'allow' });
  });

  it('analyzes a folder like its tarball, skipping symlinks and node_modules', async () => {
    const fromFolder = await capgate(['analyze', file('new-folder'), '--json']);
    const fromTarball = await capgate(['analyze', file('new.tgz'), '--json']);
    expect(fromFolder.code).toBe(0);
    expect(fromTarball.code).toBe(0);
    const a = JSON.parse(fromFolder.stdout) as { name: string; capabilities: string[]; findings: { ruleId: string; file: string }[] };
    const b = JSON.parse(fromTarball.stdout) as { capabilities: string[] };
    expect(a.name).toBe('demo');
    expect(a.capabilities).toEqual(b.capabilities);
    expect(a.capabilities).toContain('child-process');
    expect(a.capabilities).not.toContain('network'); // only node_modules/dep uses net
    expect(a.findings).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: 'archive/link', file: 'passwd.js' })]));
  });

  it('diff accepts a folder on either side', async () => {
    const r = await capgate(['diff', file('old.tgz'), file('new-folder'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ gained: ['child-process'] });
  });

  it('analyze prints a readable policy', async () => {
    const r = await capgate(['analyze', file('new.tgz')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo@1.1.0');
    expect(r.stdout).toMatch(/child-process \[block\]/);
  });

  it('exits 2 on unreadable, corrupt or truncated input, with the code on stderr (and stdout with --json)', async () => {
    const missing = await capgate(['diff', file('nope.tgz'), file('new.tgz')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CAPGATE_INPUT_UNREADABLE');
    const html = await capgate(['analyze', file('html.tgz'), '--json']);
    expect(html.code).toBe(2);
    expect(JSON.parse(html.stdout)).toEqual({ error: { code: 'CAPGATE_ARCHIVE_CORRUPT', message: expect.stringContaining('not gzip') } });
    const cut = await capgate(['diff', file('old.tgz'), file('truncated.tgz')]);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain('CAPGATE_ARCHIVE_CORRUPT');
  });

  it('CAPGATE_LOG_LEVEL=silent keeps stderr quiet, the exit code still says trouble', async () => {
    const r = await capgate(['analyze', file('nope.tgz')], { CAPGATE_LOG_LEVEL: 'silent' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
  });
});
