// Regression: a JS file larger than maxEntrySize is refused before it is held in memory.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('fails with CAPGATE_ARCHIVE_LIMIT naming maxEntrySize', async () => {
  const r = await readTarball(hostile.oversized(2 * 1024 * 1024), { maxEntrySize: 1024 * 1024 });
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxEntrySize', expected: 1024 * 1024, found: 2 * 1024 * 1024, file: 'huge.js' } });
  if (!r.ok) expect(r.error.message).toContain('maxEntrySize');
});
