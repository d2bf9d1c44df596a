import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../server/db/database.ts';
import { listMigrations, migrate, postgisVersion } from '../server/db/migrate.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

describe.each(backends())('migrations on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
  });
  afterAll(() => database?.close());

  it('applies every migration once, records it, and is idempotent', async () => {
    const all = listMigrations().map((m) => m.version);
    expect(await migrate(database)).toEqual(all);
    expect(await migrate(database)).toEqual([]);
    const recorded = await database.db.selectFrom('schema_migration').select('version').orderBy('version').execute();
    expect(recorded.map((r) => r.version)).toEqual(all);
  });

  it('reports the PostGIS version of the backend', async () => {
    const version = await postgisVersion(database);
    expect(version).toMatch(backend === 'embedded' ? /^3\.6\./ : /^3\.\d+\./);
  });

  it('refuses a migration edited after it was applied', async () => {
    const edited = listMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
    await expect(migrate(database, edited)).rejects.toThrow(/was changed after it was applied/);
  });

  it('rolls back a failing migration entirely', async () => {
    const broken = [...listMigrations(), { version: '999_broken', checksum: 'x', script: 'CREATE TABLE half_done (id int); SELECT no_such_function();' }];
    await expect(migrate(database, broken)).rejects.toThrow(/no_such_function/);
    const tables = await database.db.introspection.getTables();
    expect(tables.map((t) => t.name)).not.toContain('half_done');
  });

  it('orders vintages of every grain by their end date in SQL', async () => {
    const { rows } = await database.db.executeQuery<{ v: string }>({
      sql: "SELECT v FROM unnest(ARRAY['2024','2024-Q1','2023-12','2018-Q4']) v ORDER BY vintage_end(v), v",
      parameters: [],
      query: { kind: 'RawNode' } as never,
      queryId: { queryId: 'vintages' },
    });
    expect(rows.map((r) => r.v)).toEqual(['2018-Q4', '2023-12', '2024-Q1', '2024']);
  });
});
