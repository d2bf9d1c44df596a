import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAggregates } from '../server/analysis/aggregate.ts';
import { bivariate, BivariateInputError, classify, midRanks, parseThresholds, tercileClass, thresholdClass, typology } from '../server/analysis/bivariate.ts';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { backends, openDemoDatabase, openEmptyDatabase } from './helpers/db.ts';

describe('bivariate classes (by hand)', () => {
  it('gives tied values one mid-rank and classes them by thirds', () => {
    // 1 | 2 2 | 3: twice the mid-rank = 2·below + equal = 1, 4, 4, 7 (over 2n = 8)
    expect(midRanks([3, 2, 1, 2], true)).toEqual([7, 4, 1, 4]);
    // higher is worse: 3 is the worst
    expect(midRanks([3, 2, 1, 2], false)).toEqual([1, 4, 7, 4]);
    // 1/8 < 1/3 → 1; 4/8 → 2; 7/8 → 3
    expect([1, 4, 7].map((r) => tercileClass(r, 4))).toEqual([1, 2, 3]);
    // exactly 1/3 belongs to the middle third: n = 3, mid-ranks 1/6, 1/2, 5/6
    expect(midRanks([10, 20, 30], true).map((r) => tercileClass(r, 3))).toEqual([1, 2, 3]);
  });

  it('puts a fixed limit in the better class, mirrored for higher-is-worse', () => {
    expect([0.49, 0.5, 0.79, 0.8].map((v) => thresholdClass(v, [0.5, 0.8], true))).toEqual([1, 2, 2, 3]);
    expect([0.1, 0.11, 0.2, 0.21].map((v) => thresholdClass(v, [0.1, 0.2], false))).toEqual([3, 2, 2, 1]);
  });

  it('maps the bottom third of an axis to "low" and the rest to "high"', () => {
    expect([typology(3, 3), typology(2, 2), typology(2, 1), typology(1, 3), typology(1, 1)]).toEqual([
      'connecte', 'connecte', 'fracture-usage', 'fracture-infrastructure', 'double-fracture',
    ]);
  });

  it('parses thresholds and rejects malformed ones naming the parameter', () => {
    expect(parseThresholds('0.5,0.8;0.3,0.45')).toEqual({ x: [0.5, 0.8], y: [0.3, 0.45] });
    for (const bad of ['0.5,0.8', '0.8,0.5;0.1,0.2', '0.5,x;0.1,0.2', '0.5,;0.1,0.2']) {
      expect(() => parseThresholds(bad)).toThrow(BivariateInputError);
    }
  });

  it('measures the gap in points of oriented rates, and in percentile ranks when an axis is an index', () => {
    const rows = [
      { code: 'a', name: 'a', x: 0.9, y: 0.3, x_vintage: '2024-Q4', y_vintage: '2024' },
      { code: 'b', name: 'b', x: 0.5, y: 0.1, x_vintage: '2024-Q4', y_vintage: '2024' },
    ];
    // illectronisme 0.3 → usage 0.7: 90 − 70 = 20 points; 50 − 90 = −40 points
    const rates = classify(rows, { unit: 'ratio', higherIsBetter: true }, { unit: 'ratio', higherIsBetter: false });
    expect(rates.map((r) => r.gap)).toEqual([expect.closeTo(20, 12), expect.closeTo(-40, 12)]);
    // y an index where higher is worse: a is best on x (75th percentile) and worst on y (25th) → +50
    const index = classify(rows, { unit: 'ratio', higherIsBetter: true }, { unit: 'index', higherIsBetter: false });
    expect(index.map((r) => r.gap)).toEqual([50, -50]);
    expect(index.map((r) => r.bivariate_class)).toEqual(['3-1', '1-3']);
  });
});

/**
 * Six communes in EPCI E1 (A…C) and E2 (D…F); fibre at 2023-Q4 and 2024-Q4, démarches yearly at 2023 and 2024.
 * Fibre 2024-Q4: A 0.9, B 0.8, C 0.2, D 0.95, E 0.1, F 0.5; démarches 2024: A 0.3, B 0.7, C 0.6, D 0.8, E 0.2, F 0.5.
 */
async function buildHierarchy(database: Database): Promise<number> {
  const { db } = database;
  const source = await db.insertInto('source').values({ kind: 'test', name: 'hand-made', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const upsert = (level: string, rows: object[]) => runNamedQuery(db, namedQuery('upsert_territories'), [JSON.stringify(rows), level, source.id, '2024', false]);
  const codes = ['A', 'B', 'C', 'D', 'E', 'F'];
  await upsert('commune', codes.map((code) => ({ code, name: `Commune ${code}`, population: 100, geometry: null })));
  await upsert('epci', [{ code: 'E1', name: 'E1', population: null, geometry: null }, { code: 'E2', name: 'E2', population: null, geometry: null }]);
  await runNamedQuery(db, namedQuery('upsert_memberships'), [JSON.stringify(codes.map((commune, i) => ({ level: 'epci', code: i < 3 ? 'E1' : 'E2', commune })))]);
  const fibre = [0.9, 0.8, 0.2, 0.95, 0.1, 0.5];
  const demarches = [0.3, 0.7, 0.6, 0.8, 0.2, 0.5];
  const rows = (values: number[], vintage: string) => codes.map((code, i) => ({ code, vintage, numerator: Math.round(values[i]! * 100), denominator: 100 }));
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), ['fibre_coverage', JSON.stringify([...rows(fibre, '2024-Q4'), ...rows(fibre.map((v) => v / 2), '2023-Q4')]), source.id]);
  await db.insertInto('indicator').values({ id: 'demarches', label_fr: 'd', label_en: 'd', theme: 'e-administration', unit: 'ratio', description_fr: null, description_en: null, higher_is_better: true, aggregation: 'ratio_of_sums', publisher: null, licence: null }).execute();
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), ['demarches', JSON.stringify([...rows(demarches, '2024'), ...rows(demarches, '2023')]), source.id]);
  await recomputeAggregates(db, 'fibre_coverage');
  await recomputeAggregates(db, 'demarches');
  const e2 = await db.selectFrom('territory').select('id').where('code', '=', 'E2').executeTakeFirstOrThrow();
  return e2.id;
}

describe.each(backends())('bivariate on a hand-made hierarchy (%s)', (backend) => {
  let database: Database;
  let e2: number;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    e2 = await buildHierarchy(database);
  });
  afterAll(() => database?.close());

  it('classes each axis by terciles and derives the typology and gap', async () => {
    const rows = await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: 'demarches', vintage: '2024' });
    // fibre order E < C < F < B < A < D → classes 1 1 2 2 3 3; démarches E < A < F < C < B < D
    expect(rows.map((r) => [r.code, r.bivariate_class, r.typology])).toEqual([
      ['A', '3-1', 'fracture-usage'],
      ['B', '2-3', 'connecte'],
      ['C', '1-2', 'fracture-infrastructure'],
      ['D', '3-3', 'connecte'],
      ['E', '1-1', 'double-fracture'],
      ['F', '2-2', 'connecte'],
    ]);
    expect(rows[0]).toMatchObject({ x: 0.9, y: 0.3, x_vintage: '2024-Q4', y_vintage: '2024', name: 'Commune A' });
    expect(rows[0]!.gap).toBeCloseTo(60, 12);
  });

  it('takes each indicator at its latest vintage at or before the requested one', async () => {
    const q4 = await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: 'demarches', vintage: '2024-Q4' });
    expect([q4[0]!.x_vintage, q4[0]!.y_vintage]).toEqual(['2024-Q4', '2024']);
    const q2 = await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: 'demarches', vintage: '2024-Q2' });
    expect([q2[0]!.x_vintage, q2[0]!.y_vintage, q2[0]!.x]).toEqual(['2023-Q4', '2023', 0.45]);
    expect(await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: 'demarches', vintage: '2022' })).toEqual([]);
  });

  it('uses fixed thresholds in the indicators’ own units', async () => {
    const rows = await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: 'demarches', vintage: '2024', thresholds: parseThresholds('0.5,0.9;0.5,0.75') });
    expect(rows.map((r) => r.bivariate_class)).toEqual(['3-1', '2-2', '1-2', '3-3', '1-1', '2-2']);
  });

  it('compares only the territories within another, at any level', async () => {
    const within = await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: 'demarches', vintage: '2024', withinId: e2 });
    // D 0.95 / 0.8, E 0.1 / 0.2, F 0.5 / 0.5: terciles among three
    expect(within.map((r) => [r.code, r.bivariate_class])).toEqual([['D', '3-3'], ['E', '1-1'], ['F', '2-2']]);
    const epci = await bivariate(database.db, { level: 'epci', x: 'fibre_coverage', y: 'demarches', vintage: '2024' });
    // E1 = 1.9/3 fibre, 1.6/3 démarches; E2 = 1.55/3, 1.5/3
    expect(epci.map((r) => [r.code, r.bivariate_class])).toEqual([['E1', '3-3'], ['E2', '1-1']]);
    expect(epci[0]!.gap).toBeCloseTo(10, 12);
  });

  it('rejects an unknown indicator naming the axis', async () => {
    await expect(bivariate(database.db, { level: 'commune', x: 'nope', y: 'demarches', vintage: '2024' })).rejects.toMatchObject({ parameter: 'x' });
  });
});

describe.each(backends())('bivariate on the demo territory (%s)', (backend) => {
  const demo = generateDemo();
  let database: Database;
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
  });
  afterAll(() => database?.close());

  it.each(['ftth_takeup', 'demarches_en_ligne'])('finds the planted cluster in fracture-usage for fibre × %s in 2024', async (usage) => {
    const rows = await bivariate(database.db, { level: 'commune', x: 'fibre_coverage', y: usage, vintage: '2024' });
    expect(rows[0]).toMatchObject({ x_vintage: '2024-Q4', y_vintage: '2024' });
    const cluster = rows.filter((r) => demo.truth.usageGapCluster.includes(r.code));
    expect(cluster).toHaveLength(demo.truth.usageGapCluster.length);
    expect(cluster.filter((r) => r.typology === 'fracture-usage').length).toBeGreaterThanOrEqual(0.8 * cluster.length);
    // and terciles are thirds of the compared communes
    const bottom = rows.filter((r) => r.y_class === 1).length;
    expect(Math.abs(bottom - rows.length / 3)).toBeLessThanOrEqual(1);
  });
});
