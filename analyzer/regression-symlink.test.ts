// Regression: a symbolic link to a credential file must not be followed or analyzed as a file.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('skips the link and reports archive/link with its target', async () => {
  const r = await readTarball(hostile.symlink());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.files.has('link.js')).toBe(false);
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/link', file: 'package/link.js' })]);
  expect(r.findings[0]?.message).toContain('/home/user/.npmrc');
});
