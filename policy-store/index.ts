// Owns choosing a PolicyStore from configuration: the embedded file store (default) or PostgreSQL.
import { FileStore } from './file-store';
import { PostgresStore } from './postgres-store';
import type { PolicyStore, StoreLogger } from './store';

export type StoreConfig =
  | { readonly kind: 'file'; readonly dir: string; readonly logger?: StoreLogger }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string; readonly logger?: StoreLogger; readonly max?: number };

/**
 * Creates (does not open) a store; call `init()` before use.
 * `file`: `dir` is the store folder, e.g. `<verdaccio storage>/.capgate`.
 * `postgres`: `url` as in DATABASE_URL; tables live in `schema` (default `capgate`).
 */
export function createStore(config: StoreConfig): PolicyStore {
  switch (config.kind) {
    case 'file':
      return new FileStore(config.logger === undefined ? { dir: config.dir } : { dir: config.dir, logger: config.logger });
    case 'postgres':
      return new PostgresStore({
        url: config.url,
        ...(config.schema === undefined ? {} : { schema: config.schema }),
        ...(config.logger === undefined ? {} : { logger: config.logger }),
        ...(config.max === undefined ? {} : { max: config.max }),
      });
    default: {
      const kind: never = config;
      throw new Error(`unknown policy store kind ${JSON.stringify((kind as { kind?: unknown }).kind)}`);
    }
  }
}

export { FileStore } from './file-store';
export type { FileStoreOptions } from './file-store';
export { PostgresStore } from './postgres-store';
export type { PostgresStoreOptions } from './postgres-store';
export { PolicyStoreError } from './store';
export type * from './store';
