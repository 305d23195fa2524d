// Runs jest (all projects, or the arguments given) and ends with one plain totals line.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(join(root, '.cache'), { recursive: true });
const out = join(root, '.cache', 'jest-results.json');
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const r = spawnSync(process.execPath, [jest, '--ci', '--json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
const s = spawnSync(process.execPath, [join(root, 'scripts', 'test-summary.mjs'), out, String(r.status ?? 1)], { stdio: 'inherit' });
process.exit(s.status ?? 1);
