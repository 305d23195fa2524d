// Tests index.ts: createStore picks the store named by the configuration.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore, PostgresStore, createStore } from './index';
import type { StoreConfig } from './index';

describe('createStore', () => {
  it('creates a working file store in the given folder', async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'capgate-index-'));
    const store = createStore({ kind: 'file', dir: path.join(root, '.capgate') });
    try {
      expect(store).toBeInstanceOf(FileStore);
      await store.init();
      await store.health();
      expect(JSON.parse(await fsp.readFile(path.join(root, '.capgate', 'meta.json'), 'utf8'))).toMatchObject({ schema: 1 });
    } finally {
      await store.close();
      await fsp.rm(root, { recursive: true, force: true });
    }
  });

  it('creates a PostgreSQL store without connecting until init', async () => {
    const store = createStore({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', schema: 'capgate_x' });
    expect(store).toBeInstanceOf(PostgresStore);
    await store.close();
  });

  it('refuses an unknown kind and a schema name that is not a plain identifier', () => {
    expect(() => createStore({ kind: 'redis' } as unknown as StoreConfig)).toThrow(/unknown policy store kind/);
    expect(() => createStore({ kind: 'postgres', url: 'postgres://x', schema: 'a"; DROP TABLE x; --' })).toThrow(/invalid schema name/);
  });
});
