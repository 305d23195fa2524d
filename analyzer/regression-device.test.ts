// Regression: device and FIFO entries are skipped, never opened.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it.each([
  ['character device', hostile.device, 'package/dev'],
  ['fifo', hostile.fifo, 'package/pipe'],
])('skips a %s and reports archive/device', async (_kind, make, file) => {
  const r = await readTarball(make());
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect([...r.files.keys()]).toEqual(['index.js', 'package.json']);
  expect(r.findings).toEqual([expect.objectContaining({ ruleId: 'archive/device', file })]);
});
