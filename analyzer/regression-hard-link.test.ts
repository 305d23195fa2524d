// Regression: a hard link entry is skipped (pacote never extracts links).
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('skips the hard link and reports archive/link', async () => {
  const r = await readTarball(hostile.hardLink());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.files.has('hard.js')).toBe(false);
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/link', file: 'package/hard.js' })]);
});
