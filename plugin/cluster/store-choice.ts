// Owns which policy store an instance opens. The plugin config's `store.type` says so
// (`file`, the embedded default, or `postgres`); CAPGATE_STORE=file|postgres overrides it for one
// process (as VERDACCIO_STORAGE_PATH overrides `storage`), so several instances can share one
// verdaccio.yaml. DATABASE_URL alone never switches to PostgreSQL: it only supplies the URL once
// PostgreSQL is chosen and `store.url` is not set.
import { ConfigError } from '../errors';

export const STORE_ENV = 'CAPGATE_STORE';

export function selectedStoreType(configured: 'file' | 'postgres', env: NodeJS.ProcessEnv = process.env): 'file' | 'postgres' {
  const raw = env[STORE_ENV];
  if (raw === undefined || raw.trim() === '') return configured;
  const v = raw.trim();
  if (v === 'file' || v === 'postgres') return v;
  throw new ConfigError([`${STORE_ENV}: expected "file" or "postgres", got ${JSON.stringify(v.slice(0, 40))}`]);
}
