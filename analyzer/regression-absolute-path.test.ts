// Regression: an absolute entry (/etc/cron.d/evil) is reported and kept only where npm would write it, inside the package.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('reports archive/path-traversal and keeps the file under its package-relative path', async () => {
  const r = await readTarball(hostile.absolute());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect([...r.files.keys()]).toEqual(['etc/cron.d/evil', 'index.js', 'package.json']);
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/path-traversal', file: '/etc/cron.d/evil' })]);
});
