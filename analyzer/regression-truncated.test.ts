// Regression: a download cut short (gzip stream or tar stream incomplete) is an error, not a smaller package.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('reports a truncated gzip stream as CAPGATE_ARCHIVE_CORRUPT', async () => {
  const r = await readTarball(hostile.truncated());
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_CORRUPT' } });
});

it('reports a complete gzip around an incomplete tar as CAPGATE_ARCHIVE_CORRUPT', async () => {
  const r = await readTarball(hostile.truncatedTar());
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_CORRUPT', message: expect.stringMatching(/truncated/) } });
});

it('reports a header with a bad checksum as CAPGATE_ARCHIVE_CORRUPT', async () => {
  const r = await readTarball(hostile.badChecksum());
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_CORRUPT', message: expect.stringMatching(/corrupt tar/) } });
});
