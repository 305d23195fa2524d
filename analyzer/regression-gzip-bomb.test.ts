// Regression: 600 MiB of zeros in a ~600 KB gzip must stop at maxUnpackedSize (512 MiB by default), not fill memory.
import { readTarball } from './tarball';
import { hostile } from '../test-support/make-hostile-tar';

it('stops decompressing at the default limit with CAPGATE_ARCHIVE_LIMIT maxUnpackedSize', async () => {
  const bomb = hostile.gzipBomb(600);
  expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
  const before = process.memoryUsage().rss;
  const r = await readTarball(bomb);
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxUnpackedSize', expected: 512 * 1024 * 1024 } });
  // Bounded memory: the decompressed bytes are streamed, never all held (a generous bound).
  expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
});

it('honours a lower limit', async () => {
  const r = await readTarball(hostile.gzipBomb(8), { maxUnpackedSize: 4 * 1024 * 1024 });
  expect(r).toMatchObject({ ok: false, error: { code: 'CAPGATE_ARCHIVE_LIMIT', limit: 'maxUnpackedSize' } });
});
