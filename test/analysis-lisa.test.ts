import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contiguityStep, rebuildContiguity } from '../server/analysis/contiguity.ts';
import { computeLisa, createLisaStep, lisaStep, type Neighbours } from '../server/analysis/lisa.ts';
import type { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { Random } from '../server/demo/random.ts';
import { backends, openDemoDatabase, openEmptyDatabase } from './helpers/db.ts';

/** Queen neighbours of a rows × cols grid of squares, built directly (no database), in CSR. */
function gridNeighbours(rows: number, cols: number): Neighbours {
  const offsets = new Int32Array(rows * cols + 1);
  const indices: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr;
          const cc = c + dc;
          if ((dr || dc) && rr >= 0 && rr < rows && cc >= 0 && cc < cols) indices.push(rr * cols + cc);
        }
      }
      offsets[r * cols + c + 1] = indices.length;
    }
  }
  return { offsets, indices: Int32Array.from(indices) };
}

// A 3×3 grid of 0.01° squares, codes G<row><col>, plus a square far away (an island).
const GRID = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => ({ code: `G${r}${c}`, r, c })));
const square = (lon: number, lat: number, size = 0.01) => ({
  type: 'MultiPolygon',
  coordinates: [[[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]],
});

describe('computeLisa without a database', () => {
  it('gives the hand-computed values on a 3×3 grid with values 1…9', () => {
    // z = x − 5 = −4…4, Σz² = 60, m2 = 60/9. Corner G00: neighbours −3, −1, 0 → lag −4/3, I = (−4)(−4/3)/(20/3) = 0.8
    const result = computeLisa(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), gridNeighbours(3, 3));
    expect(result.localI[0]).toBeCloseTo(0.8, 12);
    expect(result.localI[1]).toBeCloseTo(0.54, 12);
    expect(result.localI[4]).toBe(0);
    // Σ z_i·lag_i = 2·(16/3 + 18/5 + 4/3 + 2/5) = 64/3, over Σz² = 60
    expect(result.globalI).toBeCloseTo(16 / 45, 12);
    expect(result.islands).toBe(0);
  });

  it('calibrates its pseudo p-values on 35,000 communes of pure noise, and times 999 permutations', () => {
    const rows = 175;
    const cols = 200;
    const neighbours = gridNeighbours(rows, cols);
    const rng = new Random(7);
    const values = Float64Array.from({ length: rows * cols }, () => rng.normal());
    const started = performance.now();
    const result = computeLisa(values, neighbours);
    const elapsed = performance.now() - started;
    console.info(`LISA, 999 permutations, ${rows * cols} communes (synthetic grid, queen): ${Math.round(elapsed)} ms`);
    // The folded p-value is one-sided in the observed direction: under no autocorrelation, about 2 × 5 % are ≤ 0.05.
    const significant = Array.from(result.localP).filter((p) => p <= 0.05).length / values.length;
    expect(significant).toBeGreaterThan(0.085);
    expect(significant).toBeLessThan(0.115);
    expect(Math.abs(result.globalI!)).toBeLessThan(0.02);
  });
});

describe.each(backends())('LISA on hand-made communes (%s)', (backend) => {
  let database: Database;

  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    const { db } = database;
    const communes = [
      ...GRID.map((g) => ({ code: g.code, geom: square(3 + 0.01 * g.c, 49 - 0.01 * g.r) })),
      { code: 'ISLE', geom: square(3.5, 49) },
    ];
    for (const c of communes) {
      await sql`INSERT INTO territory (level, code, name, geom) VALUES ('commune', ${c.code}, ${c.code}, ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(c.geom)}), 4326))`.execute(db);
    }
    await db
      .insertInto('indicator')
      .values({ id: 'grid_test', label_fr: 'test', label_en: 'test', theme: 'infrastructure', unit: 'ratio', aggregation: 'sum' })
      .execute();
    const ids = new Map((await db.selectFrom('territory').select(['id', 'code']).execute()).map((t) => [t.code, t.id]));
    const value = (g: { r: number; c: number }) => 1 + 3 * g.r + g.c;
    const rows = [
      // 2020: the grid alone; 2021: the grid and the island (value 5 keeps the mean at 5); 2022: the centre has no value
      ...GRID.map((g) => ({ vintage: '2020', code: g.code, value: value(g) })),
      ...GRID.map((g) => ({ vintage: '2021', code: g.code, value: value(g) })),
      { vintage: '2021', code: 'ISLE', value: 5 },
      ...GRID.filter((g) => g.code !== 'G11').map((g) => ({ vintage: '2022', code: g.code, value: value(g) })),
      { vintage: '2022', code: 'G11', value: null },
    ];
    await db
      .insertInto('indicator_value')
      .values(rows.map((r) => ({ indicator_id: 'grid_test', territory_id: ids.get(r.code)!, vintage: r.vintage, value: r.value })))
      .execute();
    await contiguityStep.run(db, null);
    await lisaStep.run(db, ['grid_test']);
  });
  afterAll(async () => {
    await database?.close();
  });

  const lisa = (vintage: string) =>
    database.db
      .selectFrom('metric_lisa as m')
      .innerJoin('territory as t', 't.id', 'm.territory_id')
      .select(['t.code', 'm.lisa_i', 'm.lisa_p', 'm.lisa_class', 'm.neighbours'])
      .where('m.vintage', '=', vintage)
      .orderBy('t.code')
      .execute()
      .then((rows) => new Map(rows.map((r) => [r.code, r])));
  const moran = (vintage: string) => database.db.selectFrom('metric_moran').selectAll().where('vintage', '=', vintage).executeTakeFirstOrThrow();

  it('links squares by queen contiguity: centre 8, edges 5, corners 3, the far square none', async () => {
    const rows = await database.db
      .selectFrom('territory as t')
      .leftJoin('territory_neighbour as n', 'n.territory_id', 't.id')
      .select(['t.code', (eb) => eb.fn.count<number>('n.neighbour_id').as('n')])
      .groupBy('t.code')
      .orderBy('t.code')
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.code, Number(r.n)]))).toEqual({
      G00: 3, G01: 5, G02: 3, G10: 5, G11: 8, G12: 5, G20: 3, G21: 5, G22: 3, ISLE: 0,
    });
  });

  it('matches Moran’s I computed by hand on the grid', async () => {
    const rows = await lisa('2020');
    // corners: G00 (−4; neighbours −3, −1, 0) 0.8, G02 (−2; neighbours −3, 0, 1) (−2)(−2/3)/(20/3) = 0.2
    expect(rows.get('G00')!.lisa_i).toBeCloseTo(0.8, 12);
    expect(rows.get('G02')!.lisa_i).toBeCloseTo(0.2, 12);
    // edge G01 (−3; neighbours −4, −2, −1, 0, 1 → lag −6/5): (−3)(−6/5)/(20/3) = 0.54; centre z = 0
    expect(rows.get('G01')!.lisa_i).toBeCloseTo(0.54, 12);
    expect(rows.get('G11')).toMatchObject({ lisa_i: 0, lisa_p: 1, lisa_class: 'ns', neighbours: 8 });
    expect(rows.get('G22')!.lisa_i).toBeCloseTo(0.8, 12);
    const global = await moran('2020');
    expect(global.moran_i).toBeCloseTo(16 / 45, 12);
    expect(global).toMatchObject({ communes: 9, islands: 0, permutations: 999 });
    expect(rows.has('ISLE')).toBe(false);
  });

  it('keeps an island in the mean and m2 but gives it no I (class island), and counts it', async () => {
    const rows = await lisa('2021');
    expect(rows.get('ISLE')).toEqual({ code: 'ISLE', lisa_i: null, lisa_p: null, lisa_class: 'island', neighbours: 0 });
    // n = 10, mean still 5, m2 = 60/10 = 6: G00 = (−4)(−4/3)/6 = 8/9
    expect(rows.get('G00')!.lisa_i).toBeCloseTo(8 / 9, 12);
    // spdep moran.test (adjust.n): n and S0 both lose the island, I is unchanged
    const global = await moran('2021');
    expect(global.moran_i).toBeCloseTo(16 / 45, 12);
    expect(global).toMatchObject({ communes: 10, islands: 1 });
  });

  it('leaves out a commune without a value and renormalises its neighbours’ weights', async () => {
    const rows = await lisa('2022');
    expect(rows.has('G11')).toBe(false);
    // n = 8, mean 5, m2 = 60/8 = 7.5; G00 keeps 2 neighbours (−3, −1): (−4)(−2)/7.5; G01 keeps 4 (−4, −2, −1, 1)
    expect(rows.get('G00')).toMatchObject({ neighbours: 2 });
    expect(rows.get('G00')!.lisa_i).toBeCloseTo(8 / 7.5, 12);
    expect(rows.get('G01')!.lisa_i).toBeCloseTo((-3 * -1.5) / 7.5, 12);
    // Σ z·lag = 2·(8 + 4.5 + 2 + 0.5) = 30, over Σz² = 60
    expect((await moran('2022')).moran_i).toBeCloseTo(0.5, 12);
  });

  it('reproduces the same pseudo p-values with the same seed, and other ones with another', async () => {
    const before = await lisa('2020');
    await lisaStep.run(database.db, ['grid_test']);
    expect(await lisa('2020')).toEqual(before);
    await createLisaStep({ permutations: 999, seed: 1, significance: 0.05 }).run(database.db, ['grid_test']);
    const other = await lisa('2020');
    for (const [code, row] of other) expect(row.lisa_i).toBe(before.get(code)!.lisa_i);
    expect([...other.values()].some((row) => row.lisa_p !== before.get(row.code)!.lisa_p)).toBe(true);
    await lisaStep.run(database.db, ['grid_test']);
  });

  it('leaves other indicators alone when given a list, and rebuilds contiguity only when territories changed', async () => {
    await lisaStep.run(database.db, ['fibre_coverage']);
    expect((await lisa('2020')).size).toBe(9);
    await database.db.deleteFrom('territory_neighbour').where('territory_id', '=', (eb) => eb.selectFrom('territory').select('id').where('code', '=', 'G00')).execute();
    await contiguityStep.run(database.db, ['grid_test']);
    const count = async () => Number((await database.db.selectFrom('territory_neighbour').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    expect(await count()).toBe(40 - 3);
    expect(await rebuildContiguity(database.db)).toBe(40);
    expect(await count()).toBe(40);
  });

  it('removes the rows of a deleted indicator and of a deleted territory at its next run (metric_lisa has no foreign keys)', async () => {
    const { db } = database;
    await db.insertInto('indicator').values({ id: 'grid_other', label_fr: 'autre', label_en: 'other', theme: 'infrastructure', unit: 'ratio', aggregation: 'sum' }).execute();
    const grid = await db.selectFrom('territory').select(['id', 'code']).where('code', 'like', 'G%').execute();
    await db.insertInto('indicator_value').values(grid.map((t, i) => ({ indicator_id: 'grid_other', territory_id: t.id, vintage: '2020', value: (i * 7) % 5 }))).execute();
    await lisaStep.run(db, null);
    const rows = async (indicator: string) => Number((await db.selectFrom('metric_lisa').select((eb) => eb.fn.countAll().as('n')).where('indicator_id', '=', indicator).executeTakeFirstOrThrow()).n);
    expect(await rows('grid_other')).toBe(9);
    await db.deleteFrom('indicator').where('id', '=', 'grid_other').execute();
    await lisaStep.run(db, ['grid_test']);
    expect(await rows('grid_other')).toBe(0);

    const corner = grid.find((t) => t.code === 'G22')!.id;
    await db.deleteFrom('territory').where('id', '=', corner).execute();
    // territory_neighbour has no foreign keys either: the contiguity step drops the corner's 3 pairs (both ways)
    await contiguityStep.run(db, ['grid_test']);
    const pairs = await db.selectFrom('territory_neighbour').select('territory_id').execute();
    expect(pairs).toHaveLength(40 - 6);
    await lisaStep.run(db, ['grid_test']);
    const left = await db.selectFrom('metric_lisa').select('territory_id').where('territory_id', '=', corner).execute();
    expect(left).toEqual([]);
    expect((await lisa('2020')).size).toBe(8);
  });
});

describe.each(backends())('LISA on the demo territory (%s)', (backend) => {
  let database: Database;

  beforeAll(async () => {
    database = await openDemoDatabase(backend);
    const started = performance.now();
    await contiguityStep.run(database.db, null);
    const contiguous = performance.now();
    await lisaStep.run(database.db, null);
    const done = performance.now();
    const runs = await database.db.selectFrom('metric_moran').select('indicator_id').execute();
    console.info(
      `${backend}: demo contiguity ${Math.round(contiguous - started)} ms, LISA of ${runs.length} indicator×vintage ${Math.round(done - contiguous)} ms`,
    );
  });
  afterAll(async () => {
    await database?.close();
  });

  it('finds the planted usage-gap cluster as a low–low cluster of ftth_takeup in 2024', async () => {
    const cluster = generateDemo().truth.usageGapCluster;
    const rows = await database.db
      .selectFrom('metric_lisa as m')
      .innerJoin('territory as t', 't.id', 'm.territory_id')
      .select(['t.code', 'm.lisa_class'])
      .where('m.indicator_id', '=', 'ftth_takeup')
      .where('m.vintage', '=', '2024')
      .execute();
    const classOf = new Map(rows.map((r) => [r.code, r.lisa_class]));
    const low = cluster.filter((code) => classOf.get(code) === 'LL').length;
    console.info(`${backend}: planted cluster: ${low} of ${cluster.length} communes LL (${Math.round((100 * low) / cluster.length)} %)`);
    expect(low / cluster.length).toBeGreaterThanOrEqual(0.6);
    const moran = await database.db.selectFrom('metric_moran').selectAll().where('indicator_id', '=', 'ftth_takeup').where('vintage', '=', '2024').executeTakeFirstOrThrow();
    expect(moran.moran_i!).toBeGreaterThan(0.1);
    expect(moran.p_value!).toBeLessThanOrEqual(0.001);
    expect(moran.islands).toBe(0);
  });

  it('stores one row per commune with a value for every indicator and vintage', async () => {
    const { rows } = await sql<{ missing: number }>`
      SELECT count(*)::int AS missing FROM indicator_value v
      JOIN territory t ON t.id = v.territory_id AND t.level = 'commune'
      LEFT JOIN metric_lisa m ON (m.indicator_id, m.territory_id, m.vintage) = (v.indicator_id, v.territory_id, v.vintage)
      WHERE v.value IS NOT NULL AND m.territory_id IS NULL`.execute(database.db);
    expect(rows[0]!.missing).toBe(0);
    const runs = await database.db.selectFrom('metric_moran').select(['indicator_id', 'vintage', 'communes']).execute();
    expect(runs.length).toBeGreaterThanOrEqual(6);
  });

  const readAll = async () => ({
    lisa: await database.db
      .selectFrom('metric_lisa as m')
      .innerJoin('territory as t', 't.id', 'm.territory_id')
      .select(['m.indicator_id', 'm.vintage', 't.code', 'm.lisa_i', 'm.lisa_p', 'm.lisa_class', 'm.neighbours'])
      .orderBy('m.indicator_id')
      .orderBy('m.vintage')
      .orderBy('t.code')
      .execute(),
    moran: await database.db.selectFrom('metric_moran').selectAll().orderBy('indicator_id').orderBy('vintage').execute(),
  });

  it('computes bit-identical results in worker threads and in the main thread', async () => {
    const main = await readAll();
    // forget the stored runs' input hashes, so that every indicator × vintage is computed again
    await database.db.deleteFrom('metric_moran').execute();
    const started = performance.now();
    await createLisaStep({ threads: 2 }).run(database.db, null);
    console.info(`${backend}: LISA of the demo in 2 worker threads (started for the test): ${Math.round(performance.now() - started)} ms`);
    expect(await readAll()).toEqual(main);
  });

  it('leaves an indicator × vintage whose inputs did not change as it was, and recomputes the one whose value changed', async () => {
    const versions = async () =>
      (await sql<{ run: string; xmin: string }>`SELECT indicator_id || '/' || vintage AS run, xmin::text AS xmin FROM metric_moran ORDER BY 1`.execute(database.db)).rows;
    const before = await versions();
    await lisaStep.run(database.db, null);
    expect(await versions()).toEqual(before);
    const commune = sql`(SELECT min(id) FROM territory WHERE level = 'commune')`;
    await sql`UPDATE indicator_value SET value = value + 0.01 WHERE indicator_id = 'ftth_takeup' AND vintage = '2024' AND territory_id = ${commune}`.execute(database.db);
    try {
      await lisaStep.run(database.db, null);
      const after = await versions();
      expect(after.map((r) => r.run)).toEqual(before.map((r) => r.run));
      expect(after.filter((r, i) => r.xmin !== before[i]!.xmin).map((r) => r.run)).toEqual(['ftth_takeup/2024']);
    } finally {
      await sql`UPDATE indicator_value SET value = value - 0.01 WHERE indicator_id = 'ftth_takeup' AND vintage = '2024' AND territory_id = ${commune}`.execute(database.db);
      await lisaStep.run(database.db, null);
    }
  });

  it('follows TERRINUM_LISA_TIES and records the tie rule of every run', async () => {
    const rules = async () => [...new Set((await database.db.selectFrom('metric_moran').select('ties').execute()).map((r) => r.ties))];
    expect(await rules()).toEqual(['conservative']);
    process.env.TERRINUM_LISA_TIES = 'geoda';
    try {
      await lisaStep.run(database.db, null);
      expect(await rules()).toEqual(['geoda']);
    } finally {
      delete process.env.TERRINUM_LISA_TIES;
    }
    await lisaStep.run(database.db, null);
    expect(await rules()).toEqual(['conservative']);
  });
});

describe.skipIf(backends().length < 2)('LISA on both backends', () => {
  it('gives the same I (within 1e-9) and the same pseudo p-values on the demo', async () => {
    const results = [];
    for (const backend of backends()) {
      const database = await openDemoDatabase(backend);
      try {
        await contiguityStep.run(database.db, null);
        await lisaStep.run(database.db, null);
        results.push(
          await database.db
            .selectFrom('metric_lisa as m')
            .innerJoin('territory as t', 't.id', 'm.territory_id')
            .select(['m.indicator_id', 'm.vintage', 't.code', 'm.lisa_i', 'm.lisa_p', 'm.lisa_class', 'm.neighbours'])
            .orderBy('m.indicator_id')
            .orderBy('m.vintage')
            .orderBy('t.code')
            .execute(),
        );
      } finally {
        await database.close();
      }
    }
    const [embedded, server] = results as [typeof results[0], typeof results[0]];
    expect(server.length).toBe(embedded.length);
    expect(embedded.length).toBeGreaterThan(1000);
    embedded.forEach((row, i) => {
      const other = server[i]!;
      expect([other.indicator_id, other.vintage, other.code, other.lisa_class, other.neighbours, other.lisa_p]).toEqual([
        row.indicator_id, row.vintage, row.code, row.lisa_class, row.neighbours, row.lisa_p,
      ]);
      expect(Math.abs(other.lisa_i! - row.lisa_i!)).toBeLessThanOrEqual(1e-9);
    });
  });
});
