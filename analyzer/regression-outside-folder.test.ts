// Regression: an entry with no folder to strip is never installed by npm, so it is skipped and reported.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('reports archive/invalid-name', async () => {
  const r = await readTarball(hostile.outsideFolder());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.files.has('toplevel.js')).toBe(false);
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/invalid-name', file: 'toplevel.js' })]);
});
