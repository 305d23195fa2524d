// Prints jest's totals as one plain closing line ("Tests: N passed, N failed, N skipped") and keeps
// jest's exit status, so that any CI reader can count what ran.
import { readFileSync } from 'node:fs';

const [file, status] = process.argv.slice(2);
let summary = 'Tests: 0 passed, 0 failed';
try {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  summary = `Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : '');
} catch (e) {
  console.error(`test-summary: cannot read ${file}: ${e.message}`);
}
console.log(summary);
process.exit(Number(status ?? 1));
