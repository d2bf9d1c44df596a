import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../server/db/database.ts';
import { isEmpty } from '../server/demo/load.ts';
import { removeDemo } from '../server/demo/remove.ts';
import { backends, openDemoDatabase } from './helpers/db.ts';

describe.each(backends())('demo territory on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
  });
  afterAll(() => database?.close());

  it('is labelled synthetic with codes that cannot be official', async () => {
    const territories = await database.db.selectFrom('territory').select(['code', 'synthetic', 'level']).execute();
    expect(territories.length).toBeGreaterThan(300);
    expect(territories.every((t) => t.synthetic && t.code.startsWith('X'))).toBe(true);
    const source = await database.db.selectFrom('source').selectAll().executeTakeFirstOrThrow();
    expect(source).toMatchObject({ synthetic: true, kind: 'demo' });
  });

  it('has demo input for every later analysis: places, premises, one coverage polygon', async () => {
    const count = async (table: 'place' | 'premises_point' | 'coverage_area') =>
      Number((await database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    expect(await count('place')).toBeGreaterThanOrEqual(5);
    expect(await count('premises_point')).toBeGreaterThan(1000);
    expect(await count('coverage_area')).toBe(1);
    const outside = await database.db.selectFrom('premises_point').select('id').where('commune_id', 'is', null).execute();
    expect(outside).toHaveLength(0);
  });

  it('is removed whole, keeping the built-in catalogue', async () => {
    expect(await removeDemo(database.db)).toBe(true);
    expect(await isEmpty(database.db)).toBe(true);
    for (const table of ['indicator_value', 'place', 'premises_point', 'coverage_area', 'source', 'territory_member'] as const) {
      const rows = await database.db.selectFrom(table).selectAll().execute();
      expect(rows, table).toHaveLength(0);
    }
    const indicators = await database.db.selectFrom('indicator').select('id').execute();
    expect(indicators.map((i) => i.id)).toEqual(['fibre_coverage']);
    expect(await removeDemo(database.db)).toBe(false);
  });
});
