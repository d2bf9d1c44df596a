import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAggregates } from '../server/analysis/aggregate.ts';
import {
  createDisparityStep,
  disparityAtThreshold,
  disparityStep,
  isMultispeed,
  measureDisparity,
  rankMultispeed,
  sharePopulationBelow,
  weightedQuantile,
} from '../server/analysis/disparity.ts';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { loadConfig } from '../server/config.ts';
import { start, type Running } from '../server/main.ts';
import { backends, openDemoDatabase, openEmptyDatabase } from './helpers/db.ts';
import { getJson } from './helpers/server.ts';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gini straight from its definition, Σ_i Σ_j w_i w_j |x_i − x_j| / (2 W² μ): the O(n²) cross-check. */
function bruteGini(x: number[], w: number[]): number {
  const total = w.reduce((a, b) => a + b, 0);
  const mean = x.reduce((s, v, i) => s + v * w[i]!, 0) / total;
  let sum = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) sum += w[i]! * w[j]! * Math.abs(x[i]! - x[j]!);
  return sum / (2 * total * total * mean);
}

describe('disparity measures (by hand)', () => {
  it('computes Gini, Theil, CV and deciles of three weighted communes', () => {
    // x = 0.2, 0.5, 0.9 with populations 100, 300, 600: W = 1000, μ = 710 / 1000 = 0.71
    const m = measureDisparity([0.9, 0.2, 0.5], [600, 100, 300])!;
    expect(m.mean).toBeCloseTo(0.71, 15);
    // pairs: 100·300·0.3 + 100·600·0.7 + 300·600·0.4 = 123 000; G = 123 000 / (1000² · 0.71)
    expect(m.gini).toBeCloseTo(123000 / (1e6 * 0.71), 14);
    // T = Σ (w/W)(x/μ) ln(x/μ)
    const t = 0.1 * (0.2 / 0.71) * Math.log(0.2 / 0.71) + 0.3 * (0.5 / 0.71) * Math.log(0.5 / 0.71) + 0.6 * (0.9 / 0.71) * Math.log(0.9 / 0.71);
    expect(m.theil).toBeCloseTo(t, 14);
    expect(m.theil).toBeCloseTo(0.0705811346, 9);
    // variance = 0.1·0.51² + 0.3·0.21² + 0.6·0.19² = 0.0609
    expect(m.cv).toBeCloseTo(Math.sqrt(0.0609) / 0.71, 14);
    // cumulative weight 100, 400, 1000: P10 reaches 10 % at the first commune, P90 at the third
    expect([m.p10, m.p90, m.interdecileRatio]).toEqual([0.2, 0.9, 4.5]);
    expect(m.communes).toBe(3);
  });

  it('gives half a Gini and ln 2 of Theil for half the population at 0 and half at 1; no inter-decile ratio', () => {
    const m = measureDisparity([0, 1, 0, 1], [1, 1, 1, 1])!;
    // 4 pairs (0, 1) counted twice: 8 / (2 · 16 · 0.5)
    expect(m.gini).toBeCloseTo(0.5, 15);
    expect(m.theil).toBeCloseTo(Math.log(2), 15);
    expect(m.cv).toBeCloseTo(1, 15);
    expect(m.p10).toBe(0);
    expect(m.interdecileRatio).toBeNull();
  });

  it('takes the weighted quantile as the first value whose cumulative weight reaches p (boundaries included)', () => {
    // weights 1, 8, 1 (W = 10): cumulative 1, 9, 10 — P10 reaches exactly 1, P90 exactly 9
    expect(weightedQuantile([1, 2, 3], [1, 8, 1], 1, 10)).toBe(1);
    expect(weightedQuantile([1, 2, 3], [1, 8, 1], 9, 10)).toBe(2);
    // weights 1, 1, 1, 7: cumulative 1, 2, 3, 10
    expect(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 7], 9, 10)).toBe(4);
    // a zero-weight value never answers
    expect(weightedQuantile([1, 2, 3], [0, 5, 5], 1, 10)).toBe(2);
  });

  it('is 0 when every commune has the same value (0 included), and for a single commune', () => {
    for (const [x, w] of [[[0.4, 0.4, 0.4], [10, 20, 30]], [[0, 0], [5, 7]], [[0.7], [120]]] as [number[], number[]][]) {
      const m = measureDisparity(x, w)!;
      expect([m.gini, m.theil, m.cv]).toEqual([0, 0, 0]);
    }
    expect(measureDisparity([0.3, 0.3], [1, 2])!.interdecileRatio).toBe(1);
  });

  it('leaves out communes without weight; null when none is left', () => {
    expect(measureDisparity([0.2, 0.9], [0, 0])).toBeNull();
    expect(measureDisparity([0.2, 0.9, Number.NaN], [10, 0, 5])!.communes).toBe(1);
  });

  it('counts the population more than X points below the territory, oriented and in the unit’s points', () => {
    // ratio: 0.2 is 51 points below 0.71, 0.5 only 21
    expect(sharePopulationBelow([0.2, 0.5, 0.9], [100, 300, 600], 0.71, { unit: 'ratio', higherIsBetter: true, thresholdPoints: 30 })).toBe(0.1);
    expect(sharePopulationBelow([0.2, 0.5, 0.9], [100, 300, 600], 0.71, { unit: 'ratio', higherIsBetter: true, thresholdPoints: 20 })).toBe(0.4);
    // higher is worse (illectronisme): 0.5 is 35 points worse than 0.15
    expect(sharePopulationBelow([0.1, 0.5], [3, 1], 0.15, { unit: 'ratio', higherIsBetter: false, thresholdPoints: 30 })).toBe(0.25);
    // index points, not percentage points: 140 is 35 index points above 105
    expect(sharePopulationBelow([100, 140, 134], [1, 1, 2], 105, { unit: 'index', higherIsBetter: false, thresholdPoints: 30 })).toBe(0.25);
  });

  it('flags multi-speed with both conditions only', () => {
    expect(isMultispeed(0.15, 0.2)).toBe(true);
    expect(isMultispeed(0.149, 0.5)).toBe(false);
    expect(isMultispeed(0.6, 0.199)).toBe(false);
    expect(isMultispeed(null, 0.5)).toBe(false);
  });

  it('ranks flagged territories first, by Gini, leaving partial ones unranked', () => {
    const rows = [
      { code: 'A', gini: 0.5, share_population_below: 0.1, multispeed: false, partial: false },
      { code: 'B', gini: 0.3, share_population_below: 0.3, multispeed: true, partial: false },
      { code: 'C', gini: 0.4, share_population_below: 0.4, multispeed: true, partial: false },
      { code: 'D', gini: 0.9, share_population_below: 0.9, multispeed: true, partial: true },
      { code: 'E', gini: null, share_population_below: null, multispeed: false, partial: false },
    ];
    expect(rankMultispeed(rows).map((r) => [r.code, r.rank])).toEqual([['C', 1], ['B', 2], ['A', 3], ['E', 4], ['D', null]]);
  });
});

describe('disparity properties', () => {
  const next = random(42);
  const cases = Array.from({ length: 200 }, (_, k) => {
    const n = 1 + Math.floor(next() * 30);
    // some cases with many zeros and ARCEP-like rates above 1
    const x = Array.from({ length: n }, () => (next() < (k % 3) * 0.2 ? 0 : next() * 1.05));
    const w = Array.from({ length: n }, () => 1 + Math.floor(next() * 5000));
    return { x, w };
  });

  it('keeps Gini in [0, 1], equal to its O(n²) definition, and invariant to scale', () => {
    for (const { x, w } of cases) {
      const m = measureDisparity(x, w)!;
      if (x.every((v) => v === 0)) {
        expect(m.gini).toBe(0);
        continue;
      }
      expect(m.gini).toBeGreaterThanOrEqual(0);
      expect(m.gini).toBeLessThanOrEqual(1);
      expect(m.gini).toBeCloseTo(bruteGini(x, w), 12);
      expect(measureDisparity(x.map((v) => v * 100), w)!.gini).toBeCloseTo(m.gini!, 12);
      expect(m.theil).toBeGreaterThanOrEqual(-1e-15);
      expect(m.p10).toBeLessThanOrEqual(m.p90);
    }
  });

  it('gives Gini 0 when all values are equal and for one commune', () => {
    for (const { x, w } of cases) {
      expect(measureDisparity(x.map(() => x[0]!), w)!.gini).toBe(0);
      expect(measureDisparity([x[0]!], [w[0]!])!.gini).toBe(0);
    }
  });
});

/**
 * A tiny hierarchy: E1 = {A, B, C} (the three-commune case above), E2 = {D, F} where D has no population
 * (its denominator weighs), E3 = {G, H} where H has no value (partial), département DX = all of them.
 */
async function buildHierarchy(database: Database): Promise<void> {
  const { db } = database;
  const source = await db.insertInto('source').values({ kind: 'test', name: 'hand-made', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const upsert = (level: string, rows: object[]) => runNamedQuery(db, namedQuery('upsert_territories'), [JSON.stringify(rows), level, source.id, '2024', false]);
  const populations: Record<string, number | null> = { A: 100, B: 300, C: 600, D: null, F: 150, G: 80, H: 90 };
  await upsert('commune', Object.entries(populations).map(([code, population]) => ({ code, name: `Commune ${code}`, population, geometry: null })));
  await upsert('epci', ['E1', 'E2', 'E3'].map((code) => ({ code, name: code, population: null, geometry: null })));
  await upsert('departement', [{ code: 'DX', name: 'DX', population: null, geometry: null }]);
  const members = [
    ...['A', 'B', 'C'].map((c) => ['epci', 'E1', c]),
    ...['D', 'F'].map((c) => ['epci', 'E2', c]),
    ...['G', 'H'].map((c) => ['epci', 'E3', c]),
    ...Object.keys(populations).map((c) => ['departement', 'DX', c]),
  ];
  await runNamedQuery(db, namedQuery('upsert_memberships'), [JSON.stringify(members.map(([level, code, commune]) => ({ level, code, commune })))]);
  await runNamedQuery(db, namedQuery('upsert_indicator_values'), [
    'fibre_coverage',
    JSON.stringify([
      { code: 'A', vintage: '2024-Q4', numerator: 20, denominator: 100 },
      { code: 'B', vintage: '2024-Q4', numerator: 150, denominator: 300 },
      { code: 'C', vintage: '2024-Q4', numerator: 540, denominator: 600 },
      { code: 'D', vintage: '2024-Q4', numerator: 0, denominator: 50 },
      { code: 'F', vintage: '2024-Q4', numerator: 150, denominator: 150 },
      { code: 'G', vintage: '2024-Q4', numerator: 40, denominator: 80 },
    ]),
    source.id,
  ]);
  await recomputeAggregates(db, 'fibre_coverage');
}

async function stored(database: Database, code: string, vintage = '2024-Q4', indicator = 'fibre_coverage') {
  return database.db
    .selectFrom('metric_disparity as m')
    .innerJoin('territory as t', 't.id', 'm.territory_id')
    .selectAll('m')
    .where('t.code', '=', code)
    .where('m.vintage', '=', vintage)
    .where('m.indicator_id', '=', indicator)
    .executeTakeFirst();
}

describe.each(backends())('disparity step on a hand-made hierarchy (%s)', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await buildHierarchy(database);
    await disparityStep.run(database.db, null);
  });
  afterAll(() => database?.close());

  it('stores one row per coarser territory, with the aggregate as value', async () => {
    const rows = await database.db.selectFrom('metric_disparity').select(['territory_id']).execute();
    expect(rows).toHaveLength(4);
    const e1 = await stored(database, 'E1');
    expect(e1).toMatchObject({ value: 0.71, communes: 3, communes_expected: 3, partial: false, threshold_points: 30, share_population_below: 0.1, multispeed: false });
    expect(e1!.gini).toBeCloseTo(0.1732394366197183, 14);
    expect(e1!.theil).toBeCloseTo(0.0705811346, 9);
    expect(e1!.interdecile_ratio).toBe(4.5);
  });

  it('weighs a commune without population by its denominator and flags a split EPCI', async () => {
    // D (weight 50, 0 %) and F (weight 150, 100 %): μ = 0.75, G = 50·150 / (200² · 0.75) = 0.25; D is 75 points below
    const e2 = await stored(database, 'E2');
    expect(e2).toMatchObject({ value: 0.75, communes: 2, share_population_below: 0.25, multispeed: true, interdecile_ratio: null });
    expect(e2!.gini).toBeCloseTo(0.25, 15);
  });

  it('keeps a partial territory, with Gini 0 for its one commune', async () => {
    expect(await stored(database, 'E3')).toMatchObject({ value: 0.5, gini: 0, communes: 1, communes_expected: 2, partial: true, multispeed: false });
  });

  it('measures a département over its communes', async () => {
    const dx = await stored(database, 'DX');
    const x = [0.2, 0.5, 0.9, 0, 1, 0.5];
    const w = [100, 300, 600, 50, 150, 80];
    expect(dx).toMatchObject({ communes: 6, communes_expected: 7, partial: true });
    expect(dx!.gini).toBeCloseTo(bruteGini(x, w), 14);
    expect(dx!.value).toBeCloseTo(900 / 1280, 15);
  });

  it('uses the configured threshold and replaces previous rows', async () => {
    await createDisparityStep({ thresholdPoints: 80 }).run(database.db, ['fibre_coverage']);
    expect(await stored(database, 'E2')).toMatchObject({ threshold_points: 80, share_population_below: 0, multispeed: false });
    await disparityStep.run(database.db, ['fibre_coverage']);
    expect(await stored(database, 'E2')).toMatchObject({ threshold_points: 30, multispeed: true });
  });

  it('stores the threshold of TERRINUM_DISPARITY_THRESHOLD, read when the step runs', async () => {
    const before = process.env.TERRINUM_DISPARITY_THRESHOLD;
    process.env.TERRINUM_DISPARITY_THRESHOLD = '20';
    try {
      await disparityStep.run(database.db, ['fibre_coverage']);
    } finally {
      if (before === undefined) delete process.env.TERRINUM_DISPARITY_THRESHOLD;
      else process.env.TERRINUM_DISPARITY_THRESHOLD = before;
    }
    // E1 at 71 %: A (20 %, 51 points below) and B (50 %, 21 points below) → (100 + 300) / 1000
    expect(await stored(database, 'E1')).toMatchObject({ threshold_points: 20, share_population_below: 0.4 });
    await disparityStep.run(database.db, ['fibre_coverage']);
    expect(await stored(database, 'E1')).toMatchObject({ threshold_points: 30, share_population_below: 0.1 });
  });

  it('recomputes the share below at another threshold in SQL, by hand', async () => {
    const rows = async (level: string) =>
      (await database.db
        .selectFrom('metric_disparity as m')
        .innerJoin('territory as t', 't.id', 'm.territory_id')
        .select(['t.code', 'm.gini', 'm.share_population_below', 'm.threshold_points', 'm.multispeed'])
        .where('t.level', '=', level)
        .orderBy('t.code')
        .execute());
    const at = async (level: string, thresholdPoints: number) =>
      Object.fromEntries(
        (await disparityAtThreshold(database.db, await rows(level), { level, indicator: 'fibre_coverage', vintage: '2024-Q4', thresholdPoints })).map((r) => [
          r.code,
          [r.share_population_below, r.threshold_points, r.multispeed],
        ]),
      );
    // stored at 30: returned as they are
    expect(await at('epci', 30)).toEqual({ E1: [0.1, 30, false], E2: [0.25, 30, true], E3: [0, 30, false] });
    // 20 points: E1 as above 0.4, now multi-speed (Gini 0.17 ≥ 0.15); E2 (75 %): D (0 %, weight 50 = its
    // denominator) is 75 points below → 50 / 200
    expect(await at('epci', 20)).toEqual({ E1: [0.4, 20, true], E2: [0.25, 20, true], E3: [0, 20, false] });
    // 75 points: D is exactly 75 below, not more; 0: every commune strictly below the territory's rate
    expect(await at('epci', 75)).toEqual({ E1: [0, 75, false], E2: [0, 75, false], E3: [0, 75, false] });
    expect(await at('epci', 0)).toEqual({ E1: [0.4, 0, true], E2: [0.25, 0, true], E3: [0, 0, false] });
    // DX at 900/1280 = 70.3 %: A (20 %), B (50 %), D (0 %), G (50 %) more than 20 points below → 530 / 1280;
    // Gini 0.2076: multi-speed at 20 points; not at 30 (stored), where only A and D are below: 150 / 1280
    expect(await at('departement', 20)).toEqual({ DX: [530 / 1280, 20, true] });
    expect(await at('departement', 30)).toEqual({ DX: [150 / 1280, 30, false] });
  });
});

describe.each(backends())('/api/multispeed threshold on the hand-made hierarchy (%s)', (backend) => {
  let running: Running;
  beforeAll(async () => {
    const database = await openEmptyDatabase(backend);
    await migrate(database);
    await buildHierarchy(database);
    await disparityStep.run(database.db, null);
    running = await start(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_DEMO: 'false' }), { database });
  });
  afterAll(() => running?.close());

  const shares = (body: any) => Object.fromEntries(body.rows.map((r: any) => [r.code, [r.share_population_below, r.threshold_points, r.multispeed]]));
  const path = (extra: string) => `/api/multispeed?level=epci&indicator=fibre_coverage&vintage=2024-Q4${extra}`;

  it('reports the stored threshold by default, and the same rows when asked for it', async () => {
    const plain = await getJson(running, path(''));
    expect(plain.status).toBe(200);
    expect(plain.body.threshold).toBe(30);
    expect(shares(plain.body)).toEqual({ E1: [0.1, 30, false], E2: [0.25, 30, true], E3: [0, 30, false] });
    expect((await getJson(running, path('&threshold=30'))).body).toEqual(plain.body);
  });

  it('computes share_population_below and the flag at another threshold, and ranks by them', async () => {
    const at80 = await getJson(running, path('&threshold=80'));
    expect(at80.status).toBe(200);
    expect(at80.body.threshold).toBe(80);
    expect(shares(at80.body)).toEqual({ E1: [0, 80, false], E2: [0, 80, false], E3: [0, 80, false] });
    // none flagged: ranked by Gini, E2 (0.25) before E1 (0.17); E3 is partial, unranked
    expect(at80.body.rows.map((r: any) => [r.code, r.rank])).toEqual([['E2', 1], ['E1', 2], ['E3', null]]);
    const at12 = await getJson(running, path('&threshold=12.5'));
    expect(shares(at12.body)).toEqual({ E1: [0.4, 12.5, true], E2: [0.25, 12.5, true], E3: [0, 12.5, false] });
    const dx = await getJson(running, '/api/multispeed?level=departement&indicator=fibre_coverage&vintage=2024-Q4&threshold=20');
    expect(dx.body).toMatchObject({ threshold: 20, rows: [{ code: 'DX', share_population_below: 530 / 1280, threshold_points: 20 }] });
  });

  it.each(['abc', '101', '-5', '1e2'])('answers 400 naming the parameter for threshold=%s', async (value) => {
    const { status, type, body } = await getJson(running, path(`&threshold=${value}`));
    expect(status).toBe(400);
    expect(type).toMatch(/application\/problem\+json/);
    expect(body.parameter).toBe('threshold');
  });
});

describe.each(backends())('disparity on the demo territory (%s)', (backend) => {
  const demo = generateDemo();
  let database: Database;
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
    await disparityStep.run(database.db, null);
  });
  afterAll(() => database?.close());

  const epciRows = (vintage: string) =>
    database.db
      .selectFrom('metric_disparity as m')
      .innerJoin('territory as t', 't.id', 'm.territory_id')
      .select(['t.code', 'm.gini', 'm.share_population_below', 'm.multispeed', 'm.partial'])
      .where('t.level', '=', 'epci')
      .where('m.indicator_id', '=', 'fibre_coverage')
      .where('m.vintage', '=', vintage)
      .execute();

  it('stores a row for every coarser value of every rate or index', async () => {
    const expected = await database.db
      .selectFrom('indicator_value as v')
      .innerJoin('territory as t', 't.id', 'v.territory_id')
      .innerJoin('indicator as i', 'i.id', 'v.indicator_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('t.level', '!=', 'commune')
      .where('i.unit', 'in', ['ratio', 'index'])
      .executeTakeFirstOrThrow();
    const count = await database.db.selectFrom('metric_disparity').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(Number(expected.n));
    // 14 coarser territories × (8 quarters of fibre, 3 usage rates × 2 years, 3 computed coverage rates × 1 quarter)
    expect(Number(count.n)).toBe(14 * (8 + 3 * 2 + 3));
  });

  it('ranks the planted split EPCI first and flags it alone at 2024-Q4', async () => {
    const ranked = rankMultispeed(await epciRows('2024-Q4'));
    expect(ranked[0]).toMatchObject({ code: demo.truth.splitEpci, multispeed: true, rank: 1 });
    expect(ranked.filter((r) => r.multispeed).map((r) => r.code)).toEqual([demo.truth.splitEpci]);
    // also first by Gini alone
    const byGini = [...ranked].sort((a, b) => b.gini! - a.gini!);
    expect(byGini[0]!.code).toBe(demo.truth.splitEpci);
  });

  it('matches an independent computation from the generator’s counts within 1e-9', async () => {
    const premises = new Map(demo.communes.map((c) => [c.code, c.logements + c.etablissements]));
    const members = demo.communes.filter((c) => c.epci === demo.truth.splitEpci);
    const deployed = new Map(demo.deployments.filter((d) => d.vintage === '2024-Q4').map((d) => [d.commune, d.locauxRaccordables]));
    const x = members.map((c) => deployed.get(c.code)! / premises.get(c.code)!);
    const w = members.map((c) => c.population);
    const reference = members.reduce((s, c) => s + deployed.get(c.code)!, 0) / members.reduce((s, c) => s + premises.get(c.code)!, 0);
    const expected = measureDisparity(x, w)!;
    const row = await stored(database, demo.truth.splitEpci);
    expect(row!.value).toBeCloseTo(reference, 12);
    for (const [actual, wanted] of [
      [row!.gini, expected.gini],
      [row!.theil, expected.theil],
      [row!.cv, expected.cv],
      [row!.share_population_below, sharePopulationBelow(x, w, reference, { unit: 'ratio', higherIsBetter: true, thresholdPoints: 30 })],
    ] as [number, number][]) {
      expect(Math.abs(actual - wanted)).toBeLessThan(1e-9);
    }
    expect(row!.gini).toBeGreaterThan(0.3);
  });

  it('gives at any threshold in SQL the share the stored recompute gives at that threshold (within 1e-12)', async () => {
    const read = () =>
      database.db
        .selectFrom('metric_disparity as m')
        .innerJoin('territory as t', 't.id', 'm.territory_id')
        .select(['t.code', 't.level', 'm.indicator_id', 'm.vintage', 'm.gini', 'm.share_population_below', 'm.threshold_points', 'm.multispeed'])
        .where('t.level', 'in', ['epci', 'departement'])
        .orderBy('t.level')
        .orderBy('m.indicator_id')
        .orderBy('m.vintage')
        .orderBy('t.code')
        .execute();
    const atThirty = await read();
    for (const thresholdPoints of [0, 5, 20, 45]) {
      await createDisparityStep({ thresholdPoints }).run(database.db, null);
      const expected = await read();
      let compared = 0;
      for (const level of ['epci', 'departement']) {
        for (const indicator of ['fibre_coverage', 'ftth_takeup']) {
          const vintage = indicator === 'fibre_coverage' ? '2024-Q4' : '2024';
          const pick = (rows: typeof atThirty) => rows.filter((r) => r.level === level && r.indicator_id === indicator && r.vintage === vintage);
          const computed = await disparityAtThreshold(database.db, pick(atThirty), { level, indicator, vintage, thresholdPoints });
          pick(expected).forEach((row, i) => {
            expect([computed[i]!.code, computed[i]!.threshold_points, computed[i]!.multispeed]).toEqual([row.code, thresholdPoints, row.multispeed]);
            expect(Math.abs(computed[i]!.share_population_below! - row.share_population_below!)).toBeLessThanOrEqual(1e-12);
            compared++;
          });
        }
      }
      expect(compared).toBeGreaterThan(20);
    }
    await disparityStep.run(database.db, null);
  });
});

describe.skipIf(backends().length < 2)('disparity: identical on both backends', () => {
  it('stores the same rows within 1e-9 on the embedded and the server database', async () => {
    const read = async (backend: 'embedded' | 'postgis') => {
      const database = await openDemoDatabase(backend);
      try {
        await disparityStep.run(database.db, null);
        return await database.db
          .selectFrom('metric_disparity as m')
          .innerJoin('territory as t', 't.id', 'm.territory_id')
          .select(['t.level', 't.code', 'm.indicator_id', 'm.vintage', 'm.value', 'm.gini', 'm.theil', 'm.cv', 'm.interdecile_ratio', 'm.share_population_below', 'm.multispeed', 'm.communes'])
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
      expect([other.code, other.indicator_id, other.vintage, other.multispeed, other.communes]).toEqual([row.code, row.indicator_id, row.vintage, row.multispeed, row.communes]);
      for (const key of ['value', 'gini', 'theil', 'cv', 'interdecile_ratio', 'share_population_below'] as const) {
        if (row[key] === null) expect(other[key]).toBeNull();
        else expect(Math.abs(row[key]! - other[key]!)).toBeLessThan(1e-9);
      }
    });
  });
});
