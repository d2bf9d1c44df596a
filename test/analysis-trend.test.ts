import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAggregates } from '../server/analysis/aggregate.ts';
import { leastSquaresSlope, quarterNumber, quarterVintage, trendStep } from '../server/analysis/trend.ts';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { DEMO_QUARTERS, generateDemo } from '../server/demo/generate.ts';
import { backends, openDemoDatabase, openEmptyDatabase } from './helpers/db.ts';

describe('trend helpers (by hand)', () => {
  it('fits the least-squares slope', () => {
    // x̄ = 1.5, ȳ = 0.3: Sxy = 0.3 + 0.05 + 0.05 + 0.3 = 0.7, Sxx = 5
    expect(leastSquaresSlope([0, 1, 2, 3], [0.1, 0.2, 0.4, 0.5])).toBeCloseTo(0.14, 15);
    expect(leastSquaresSlope([7], [0.1])).toBeNull();
  });

  it('numbers quarters continuously across years', () => {
    expect(quarterNumber('2024-Q1') - quarterNumber('2023-Q4')).toBe(1);
    expect(quarterVintage(quarterNumber('2019-Q3') + 6)).toBe('2021-Q1');
  });
});

/**
 * Commune A: 10, 20, 40, 50 % over 2023-Q1…Q4, no 2024-Q1, 80 % at 2024-Q2. Commune B decreasing (50 → 40 %).
 * Commune C above 100 %. All three in EPCI E. A yearly indicator gets no trend.
 */
async function buildHierarchy(database: Database): Promise<void> {
  const { db } = database;
  const source = await db.insertInto('source').values({ kind: 'test', name: 'hand-made', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const upsert = (level: string, rows: object[]) => runNamedQuery(db, namedQuery('upsert_territories'), [JSON.stringify(rows), level, source.id, '2024', false]);
  await upsert('commune', ['A', 'B', 'C'].map((code) => ({ code, name: code, population: 100, geometry: null })));
  await upsert('epci', [{ code: 'E', name: 'E', population: null, geometry: null }]);
  await runNamedQuery(db, namedQuery('upsert_memberships'), [JSON.stringify(['A', 'B', 'C'].map((commune) => ({ level: 'epci', code: 'E', commune })))]);
  const rate = (code: string, vintage: string, numerator: number) => ({ code, vintage, numerator, denominator: 100 });
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), [
    'fibre_coverage',
    JSON.stringify([
      rate('A', '2023-Q1', 10), rate('A', '2023-Q2', 20), rate('A', '2023-Q3', 40), rate('A', '2023-Q4', 50), rate('A', '2024-Q2', 80),
      rate('B', '2023-Q3', 50), rate('B', '2023-Q4', 40),
      rate('C', '2023-Q4', 102),
    ]),
    source.id,
  ]);
  await db.insertInto('indicator').values({ id: 'demarches', label_fr: 'd', label_en: 'd', theme: 'e-administration', unit: 'ratio', description_fr: null, description_en: null, higher_is_better: true, aggregation: 'ratio_of_sums', publisher: null, licence: null }).execute();
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), ['demarches', JSON.stringify([rate('A', '2023', 50), rate('A', '2024', 60)]), source.id]);
  await recomputeAggregates(db, 'fibre_coverage');
  await recomputeAggregates(db, 'demarches');
}

async function trend(database: Database, code: string, vintage: string) {
  return database.db
    .selectFrom('metric_trend as m')
    .innerJoin('territory as t', 't.id', 'm.territory_id')
    .select(['m.trend_per_quarter', 'm.quarters_used', 'm.projected_full'])
    .where('t.code', '=', code)
    .where('m.vintage', '=', vintage)
    .where('m.indicator_id', '=', 'fibre_coverage')
    .executeTakeFirst();
}

describe.each(backends())('trend step on a hand-made hierarchy (%s)', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await buildHierarchy(database);
    await trendStep.run(database.db, null);
  });
  afterAll(() => database?.close());

  it('fits the last 4 quarters and projects full coverage from the latest value', async () => {
    // slope 0.14 per quarter; (1 − 0.5) / 0.14 = 3.57 → 4 quarters after 2023-Q4
    const row = await trend(database, 'A', '2023-Q4');
    expect(row!.trend_per_quarter).toBeCloseTo(0.14, 12);
    expect(row).toMatchObject({ quarters_used: 4, projected_full: '2024-Q4' });
  });

  it('counts a missing quarter as time: 2023-Q2…Q4 and 2024-Q2 sit at −4, −3, −2, 0', async () => {
    // x̄ = −2.25, ȳ = 0.475: Sxy = 1.275, Sxx = 8.75; (1 − 0.8) / 0.1457 = 1.37 → 2 quarters
    const row = await trend(database, 'A', '2024-Q2');
    expect(row!.trend_per_quarter).toBeCloseTo(1.275 / 8.75, 12);
    expect(row).toMatchObject({ quarters_used: 4, projected_full: '2024-Q4' });
  });

  it('has no slope with one quarter, no projection when decreasing, and the vintage itself when already full', async () => {
    expect(await trend(database, 'A', '2023-Q1')).toEqual({ trend_per_quarter: null, quarters_used: 1, projected_full: null });
    const b = await trend(database, 'B', '2023-Q4');
    expect(b!.trend_per_quarter).toBeCloseTo(-0.1, 12);
    expect(b!.projected_full).toBeNull();
    expect(await trend(database, 'C', '2023-Q4')).toMatchObject({ quarters_used: 1, projected_full: '2023-Q4' });
  });

  it('covers coarser territories from their own aggregates, and only quarterly vintages', async () => {
    // E at 2023-Q3 = (40 + 50) / 200 = 0.45, at 2023-Q4 = (50 + 40 + 102) / 300 = 0.64 (partial aggregates as stored)
    const e = await trend(database, 'E', '2023-Q4');
    expect(e!.quarters_used).toBe(4);
    expect(e!.trend_per_quarter).toBeCloseTo(leastSquaresSlope([0, 1, 2, 3], [0.1, 0.2, 0.45, 0.64])!, 12);
    const yearly = await database.db.selectFrom('metric_trend').select('vintage').where('indicator_id', '=', 'demarches').execute();
    expect(yearly).toEqual([]);
  });

  it('removes the rows of a deleted territory and of a deleted indicator when it runs for other indicators (no foreign keys)', async () => {
    const { db } = database;
    await db.insertInto('indicator').values({ id: 'quarterly_other', label_fr: 'q', label_en: 'q', theme: 'infrastructure', unit: 'ratio', aggregation: 'ratio_of_sums' }).execute();
    const source = await db.selectFrom('source').select('id').executeTakeFirstOrThrow();
    await runNamedQuery(db, namedQuery('upsert_indicator_values'), ['quarterly_other', JSON.stringify([{ code: 'B', vintage: '2023-Q3', value: 0.2 }, { code: 'B', vintage: '2023-Q4', value: 0.3 }]), source.id]);
    await trendStep.run(db, null);
    const count = async (where: 'indicator' | 'territory', id: string | number) =>
      (await db.selectFrom('metric_trend').select('vintage').where(where === 'indicator' ? 'indicator_id' : 'territory_id', '=', id as never).execute()).length;
    expect(await count('indicator', 'quarterly_other')).toBe(2);
    const c = await db.selectFrom('territory').select('id').where('code', '=', 'C').executeTakeFirstOrThrow();
    expect(await count('territory', c.id)).toBe(1);
    await db.deleteFrom('indicator').where('id', '=', 'quarterly_other').execute();
    await db.deleteFrom('territory').where('id', '=', c.id).execute();
    await trendStep.run(db, ['demarches']);
    expect(await count('indicator', 'quarterly_other')).toBe(0);
    expect(await count('territory', c.id)).toBe(0);
    expect(await trend(database, 'A', '2024-Q2')).toBeDefined();
  });
});

describe.each(backends())('trends on the demo territory (%s)', (backend) => {
  const demo = generateDemo();
  let database: Database;
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
    await trendStep.run(database.db, ['fibre_coverage']);
  });
  afterAll(() => database?.close());

  it('stores one row per quarterly value', async () => {
    const count = await database.db.selectFrom('metric_trend').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    // 300 communes + 12 EPCI + département + région: 8 quarters of fibre_coverage, and 1 quarter of each of the
    // 3 indicators computed from premises and the coverage zone (vintage of the demo source, 2024-Q4)
    expect(Number(count.n)).toBe(314 * (8 + 3));
  });

  it('matches the slope of a commune’s deployments over 2024, by hand from the generator', async () => {
    const premises = new Map(demo.communes.map((c) => [c.code, c.logements + c.etablissements]));
    const series = (code: string) => demo.deployments.filter((d) => d.commune === code).map((d) => d.locauxRaccordables / premises.get(code)!);
    // a commune still deploying during 2024
    const commune = demo.communes.find((c) => {
      const s = series(c.code);
      return s[4]! > 0.1 && s[7]! < 0.9 && s[7]! > s[4]!;
    })!;
    expect(commune).toBeDefined();
    const last4 = series(commune.code).slice(4);
    const row = await trend(database, commune.code, '2024-Q4');
    expect(Math.abs(row!.trend_per_quarter! - leastSquaresSlope([0, 1, 2, 3], last4)!)).toBeLessThan(1e-9);
    const needed = Math.ceil((1 - last4[3]!) / row!.trend_per_quarter!);
    expect(row!.projected_full).toBe(needed <= 400 ? quarterVintage(quarterNumber('2024-Q4') + needed) : null);
    expect(DEMO_QUARTERS.slice(4)).toEqual(['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4']);
  });

  it('sees no progress in the undeployed half of the split EPCI', async () => {
    const row = await trend(database, demo.truth.splitUndeployed[0]!, '2024-Q4');
    expect(row).toEqual({ trend_per_quarter: 0, quarters_used: 4, projected_full: null });
  });
});

describe.skipIf(backends().length < 2)('trends: identical on both backends', () => {
  it('stores the same rows within 1e-9 on the embedded and the server database', async () => {
    const read = async (backend: 'embedded' | 'postgis') => {
      const database = await openDemoDatabase(backend);
      try {
        await trendStep.run(database.db, null);
        return await database.db
          .selectFrom('metric_trend as m')
          .innerJoin('territory as t', 't.id', 'm.territory_id')
          .select(['t.level', 't.code', 'm.indicator_id', 'm.vintage', 'm.trend_per_quarter', 'm.quarters_used', 'm.projected_full'])
          .orderBy('m.indicator_id').orderBy('t.level').orderBy('t.code').orderBy('m.vintage')
          .execute();
      } finally {
        await database.close();
      }
    };
    const [embedded, server] = [await read('embedded'), await read('postgis')];
    expect(server).toHaveLength(embedded.length);
    embedded.forEach((row, i) => {
      const other = server[i]!;
      expect([other.code, other.vintage, other.quarters_used, other.projected_full]).toEqual([row.code, row.vintage, row.quarters_used, row.projected_full]);
      if (row.trend_per_quarter === null) expect(other.trend_per_quarter).toBeNull();
      else expect(Math.abs(row.trend_per_quarter - other.trend_per_quarter!)).toBeLessThan(1e-9);
    });
  });
});
