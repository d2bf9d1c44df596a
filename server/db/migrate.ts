import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from './database.ts';
import { SQL_DIR } from './sql-files.ts';

export interface Migration {
  version: string;
  checksum: string;
  script: string;
}

/** Migrations in sql/migrations, named NNN_description.sql, in version order. */
export function listMigrations(dir = path.join(SQL_DIR, 'migrations')): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const script = fs.readFileSync(path.join(dir, file), 'utf8');
      return {
        version: file.replace(/\.sql$/, ''),
        checksum: crypto.createHash('sha256').update(script).digest('hex'),
        script,
      };
    });
}

/** Applies the migrations not yet recorded, each in its own transaction; returns the versions applied. */
export async function migrate(database: Database, migrations = listMigrations()): Promise<string[]> {
  await database.runScript(`CREATE TABLE IF NOT EXISTS schema_migration (
    version text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const applied = new Map(
    (await database.db.selectFrom('schema_migration').select(['version', 'checksum']).execute()).map((row) => [row.version, row.checksum]),
  );
  const done: string[] = [];
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        throw new Error(`migration ${migration.version} was changed after it was applied; add a new migration instead`);
      }
      continue;
    }
    // Version and checksum come from our own file names and hashes (checked by listMigrations' pattern).
    await database.runScript(
      `${migration.script}\n;INSERT INTO schema_migration (version, checksum) VALUES ('${migration.version}', '${migration.checksum}');`,
    );
    done.push(migration.version);
  }
  return done;
}

/** PostGIS version string of the connected database, e.g. "3.6.2". */
export async function postgisVersion(database: Database): Promise<string> {
  const { rows } = await sql<{ version: string }>`SELECT postgis_lib_version() AS version`.execute(database.db);
  return rows[0]?.version ?? 'unknown';
}
