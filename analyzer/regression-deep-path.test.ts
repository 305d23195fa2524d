// Regression: a path thousands of folders deep is refused (bounded work per entry).
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('fails with CAPGATE_ARCHIVE_LIMIT naming maxPathDepth', async () => {
  const r = await readTarball(hostile.deepPath(1000));
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxPathDepth', expected: 256 } });
});
