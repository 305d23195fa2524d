// Regression: a second index.js after a benign one replaces it on disk: the gate must analyze the copy npm installs.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('keeps the last copy (as npm does) and reports archive/duplicate', async () => {
  const r = await readTarball(hostile.duplicate());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(Buffer.from(r.files.get('index.js') ?? []).toString()).toContain('child_process');
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/duplicate', file: 'index.js' })]);
});
