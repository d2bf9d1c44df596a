import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAggregates } from '../server/analysis/aggregate.ts';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

const square = (x: number, y: number) => ({ type: 'Polygon', coordinates: [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]] });

/**
 * A hand-checkable hierarchy: communes A, B, C; EPCI E1 = {A, B, C} spans départements D1 = {A, B} and D2 = {C};
 * région R = {A, B, C}; EPCI E2 = {D} whose only commune has no data.
 */
async function buildHierarchy(database: Database) {
  const { db } = database;
  const source = await db.insertInto('source').values({ kind: 'test', name: 'hand-made', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const upsert = (level: string, rows: object[]) => runNamedQuery(db, namedQuery('upsert_territories'), [JSON.stringify(rows), level, source.id, '2024', false]);
  await upsert('commune', [
    { code: 'A', name: 'Aubenton', population: 100, geometry: square(3, 49) },
    { code: 'B', name: 'Bézu', population: 300, geometry: square(3.1, 49) },
    { code: 'C', name: "L'Épine", population: 600, geometry: square(3.2, 49) },
    { code: 'D', name: 'Dizy', population: 50, geometry: square(3.3, 49) },
  ]);
  await upsert('epci', [{ code: 'E1', name: 'CC Une', population: null, geometry: null }, { code: 'E2', name: 'CC Deux', population: null, geometry: null }]);
  await upsert('departement', [{ code: 'D1', name: 'Un', population: null, geometry: null }, { code: 'D2', name: 'Deux', population: null, geometry: null }]);
  await upsert('region', [{ code: 'R', name: 'Région', population: null, geometry: null }]);
  const members = [['epci', 'E1', 'A'], ['epci', 'E1', 'B'], ['epci', 'E1', 'C'], ['epci', 'E2', 'D'], ['departement', 'D1', 'A'], ['departement', 'D1', 'B'], ['departement', 'D2', 'C'], ['departement', 'D2', 'D'], ['region', 'R', 'A'], ['region', 'R', 'B'], ['region', 'R', 'C'], ['region', 'R', 'D']];
  await runNamedQuery(db, namedQuery('upsert_memberships'), [JSON.stringify(members.map(([level, code, commune]) => ({ level, code, commune })))]);
  await runNamedQuery(db, namedQuery('dissolve_territories'));
  // fibre: A 10/100, B 90/100, C 0/50 → E1 = 100/250 = 0.4 (the mean of rates would be 0.333…)
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), [
    'fibre_coverage',
    JSON.stringify([
      { code: 'A', vintage: '2024-Q4', numerator: 10, denominator: 100 },
      { code: 'B', vintage: '2024-Q4', numerator: 90, denominator: 100 },
      { code: 'C', vintage: '2024-Q4', numerator: 0, denominator: 50 },
    ]),
    source.id,
  ]);
  // An index without counts aggregates as a population-weighted mean.
  await db.insertInto('indicator').values({ id: 'ifn', label_fr: 'IFN', label_en: 'DFI', theme: 'mediation-numerique', unit: 'index', description_fr: null, description_en: null, higher_is_better: false, aggregation: 'population_weighted_mean', publisher: null, licence: null }).execute();
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), [
    'ifn',
    JSON.stringify([
      { code: 'A', vintage: '2020', value: 130 },
      { code: 'B', vintage: '2020', value: 90 },
      { code: 'C', vintage: '2020', value: 100 },
    ]),
    source.id,
  ]);
  await recomputeAggregates(db, 'fibre_coverage');
  await recomputeAggregates(db, 'ifn');
}

async function value(database: Database, indicator: string, level: string, code: string) {
  return database.db
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .select(['v.value', 'v.numerator', 'v.denominator', 'v.communes', 'v.communes_expected', 'v.partial'])
    .where('v.indicator_id', '=', indicator)
    .where('t.level', '=', level)
    .where('t.code', '=', code)
    .executeTakeFirst();
}

describe.each(backends())('aggregation on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await buildHierarchy(database);
  });
  afterAll(() => database?.close());

  it('aggregates a rate as the ratio of sums, directly from member communes', async () => {
    expect(await value(database, 'fibre_coverage', 'epci', 'E1')).toEqual({ value: 0.4, numerator: 100, denominator: 250, communes: 3, communes_expected: 3, partial: false });
    // D1 = A + B: 100/200
    expect(await value(database, 'fibre_coverage', 'departement', 'D1')).toMatchObject({ value: 0.5, numerator: 100, denominator: 200, partial: false });
  });

  it('flags an aggregate missing member communes as partial', async () => {
    // D2 = C (0/50) + D (no data)
    expect(await value(database, 'fibre_coverage', 'departement', 'D2')).toMatchObject({ value: 0, numerator: 0, denominator: 50, communes: 1, communes_expected: 2, partial: true });
    expect(await value(database, 'fibre_coverage', 'region', 'R')).toMatchObject({ numerator: 100, denominator: 250, communes: 3, communes_expected: 4, partial: true });
    // E2's only commune has no data: no aggregate row at all
    expect(await value(database, 'fibre_coverage', 'epci', 'E2')).toBeUndefined();
  });

  it('uses a population-weighted mean for an index without counts, exposing its sums', async () => {
    // (130·100 + 90·300 + 100·600) / 1000 = 100
    const row = await value(database, 'ifn', 'epci', 'E1');
    expect(row?.value).toBeCloseTo(100, 12);
    expect(row).toMatchObject({ numerator: 100_000, denominator: 1000, communes: 3 });
  });

  it('aggregating a territory of one commune gives the commune', async () => {
    const commune = await value(database, 'fibre_coverage', 'commune', 'C');
    const epciLike = await value(database, 'fibre_coverage', 'departement', 'D2');
    expect(epciLike?.value).toBe(commune?.value);
  });

  it('dissolves member communes into coarser outlines, with areas in square metres', async () => {
    const rows = await database.db.selectFrom('territory').select(['level', 'code', 'area_m2']).orderBy('level').orderBy('code').execute();
    const area = (code: string) => rows.find((r) => r.code === code)!.area_m2!;
    // 0.1° × 0.1° at 49° N ≈ 11.1 km × 7.3 km ≈ 81 km²
    expect(area('A')).toBeGreaterThan(80e6);
    expect(area('A')).toBeLessThan(82e6);
    expect(area('E1')).toBeCloseTo(area('A') + area('B') + area('C'), -3);
  });

  it('recomputing is idempotent', async () => {
    await recomputeAggregates(database.db, 'fibre_coverage');
    await recomputeAggregates(database.db, 'fibre_coverage');
    expect(await value(database, 'fibre_coverage', 'epci', 'E1')).toMatchObject({ value: 0.4, numerator: 100, denominator: 250 });
  });
});
