// Tests migrations/index.ts: the numbered .sql files are found from the compiled module.
import { loadMigrations } from './index';

describe('loadMigrations', () => {
  it('finds the numbered migrations, in order, from dist/', () => {
    const migrations = loadMigrations();
    expect(migrations.length).toBeGreaterThanOrEqual(1);
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(migrations[0]?.name).toBe('init');
    expect(migrations[0]?.sql).toMatch(/CREATE TABLE decisions/);
  });
});
