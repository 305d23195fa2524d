// Tests fs-util.ts: atomic replacement, keyed serialisation, the lock file.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileLock, KeyedMutex, listDir, readIfExists, writeFileAtomic, writeFileAtomicMkdir } from './fs-util';
import { PolicyStoreError } from './store';

describe('fs-util', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'capgate-fsutil-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('replaces a file atomically and leaves no temp file behind', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await fsp.readFile(file, 'utf8')).toBe('two');
    expect(await fsp.readdir(dir)).toEqual(['a.json']);
    expect(await listDir(dir)).toEqual(['a.json']);
  });

  it('creates missing folders on demand and reports a missing file as null', async () => {
    const file = path.join(dir, 'x', 'y', 'b.json');
    expect(await readIfExists(file)).toBeNull();
    await writeFileAtomicMkdir(file, 'b');
    expect(await readIfExists(file)).toBe('b');
    expect(await listDir(path.join(dir, 'nope'))).toEqual([]);
  });

  it('cleans its temp file when the rename fails', async () => {
    await fsp.mkdir(path.join(dir, 'target-is-a-folder'));
    await expect(writeFileAtomic(path.join(dir, 'target-is-a-folder'), 'x')).rejects.toThrow();
    expect((await fsp.readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('runs tasks of one key one at a time, in order, and keys independently', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = mutex.run('k', async () => {
      log.push('k1 start');
      await gate;
      log.push('k1 end');
    });
    const second = mutex.run('k', async () => {
      log.push('k2');
      return 2;
    });
    await mutex.run('other', async () => {
      log.push('other');
    });
    release();
    await first;
    expect(await second).toBe(2);
    expect(log).toEqual(['k1 start', 'other', 'k1 end', 'k2']);
    // A failed task does not block the next one.
    await expect(mutex.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await mutex.run('k', async () => 'after')).toBe('after');
  });

  it('lets one holder at a time in, across lock objects on the same file', async () => {
    const file = path.join(dir, 'store.lock');
    const a = new FileLock(file);
    const b = new FileLock(file);
    let inside = 0;
    let maxInside = 0;
    const task = async (): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((resolve) => setImmediate(resolve));
      inside--;
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).run(task)));
    expect(maxInside).toBe(1);
    expect(await readIfExists(file)).toBeNull();
  });

  it('breaks a torn lock file once it is old', async () => {
    const file = path.join(dir, 'store.lock');
    await fsp.writeFile(file, '{"pid":');
    const old = new Date(Date.now() - 5_000);
    await fsp.utimes(file, old, old);
    expect(await new FileLock(file, { timeoutMs: 1_000 }).run(async () => 'in')).toBe('in');
  });

  it('times out with CAPGATE_POLICY_STORE_UNAVAILABLE on a live holder', async () => {
    const file = path.join(dir, 'store.lock');
    await fsp.writeFile(file, JSON.stringify({ pid: process.ppid, host: os.hostname(), nonce: 'x', at: Date.now() }));
    const err = await new FileLock(file, { timeoutMs: 50 }).run(async () => 'in').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyStoreError);
    expect((err as PolicyStoreError).code).toBe('CAPGATE_POLICY_STORE_UNAVAILABLE');
  });
});
