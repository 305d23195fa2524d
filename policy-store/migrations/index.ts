// Owns finding the numbered SQL migrations (`NNN_name.sql` beside this module's source). They stay
// plain .sql files in the repository; the compiled module reads them from the source folder
// (dist/policy-store/migrations -> policy-store/migrations), or from its own folder if a build
// copied them there, so it works from dist/ and from a clean clone after `tsc`.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface Migration {
  /** The number in the file name: 1 for `001_init.sql`. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Folders searched, in order: next to the compiled file, then the source folder. */
export function migrationFolders(): string[] {
  return [__dirname, path.resolve(__dirname, '..', '..', '..', 'policy-store', 'migrations')];
}

/** The migrations in order; throws when none are found or the numbers have a gap. */
export function loadMigrations(): Migration[] {
  for (const dir of migrationFolders()) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => FILE.test(n)).sort();
    } catch {
      continue;
    }
    if (names.length === 0) continue;
    const migrations = names.map((file) => {
      const m = FILE.exec(file);
      return { version: Number(m?.[1]), name: m?.[2] ?? file, sql: readFileSync(path.join(dir, file), 'utf8') };
    });
    migrations.forEach((m, i) => {
      if (m.version !== i + 1) throw new Error(`policy store migrations in ${dir}: expected ${String(i + 1).padStart(3, '0')}_*.sql, found ${m.version}`);
    });
    return migrations;
  }
  throw new Error(`policy store: no SQL migrations found in ${migrationFolders().join(' or ')}`);
}
