// Regression: an entry named package/../../x must never land outside the package (zip-slip).
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('skips the .. entry and reports archive/path-traversal', async () => {
  const r = await readTarball(hostile.traversal());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect([...r.files.keys()]).toEqual(['index.js', 'package.json']);
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/path-traversal', file: 'package/../../evil.js' })]);
});
