// Regression: an HTML error page, an empty body or an uncompressed tar served as a tarball gives a clear error.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it.each([
  ['an HTML page', hostile.notGzip, /HTML/],
  ['an empty body', hostile.empty, /empty/],
  ['an uncompressed tar', hostile.plainTar, /uncompressed tar/],
])('refuses %s with CAPGATE_ARCHIVE_CORRUPT', async (_what, make, message) => {
  const r = await readTarball(make());
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_CORRUPT', message: expect.stringMatching(message) } });
});
