import fs from 'node:fs';
import path from 'node:path';
import * as turf from '@turf/turf';
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coverageStep, displayValue, recomputeCoverage, technologyKey } from '../server/analysis/coverage.ts';
import { ANALYSIS_STEPS } from '../server/analysis/recompute.ts';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { importCoverage } from '../server/import/coverage.ts';
import { importPremises } from '../server/import/premises.ts';
import { backends, openDemoDatabase, openEmptyDatabase } from './helpers/db.ts';

const fixture = (name: string) => path.resolve(import.meta.dirname, 'fixtures', name);
const box = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });

describe('display value and technology keys', () => {
  it('caps ratios at 1 for display (ARCEP counts can exceed INSEE premises), keeps other units raw', () => {
    expect(displayValue(1.12, 'ratio')).toBe(1);
    expect(displayValue(0.4, 'ratio')).toBe(0.4);
    expect(displayValue(112, 'index')).toBe(112);
    expect(displayValue(1.5, 'count')).toBe(1.5);
    expect(displayValue(null, 'ratio')).toBeNull();
  });

  it('turns a technology name into [a-z0-9_]', () => {
    expect(technologyKey('thd-radio')).toBe('thd_radio');
    expect(technologyKey('THD radio')).toBe('thd_radio');
    expect(technologyKey('4G+')).toBe('4g_plus');
    expect(technologyKey('Réseau très haut débit')).toBe('reseau_tres_haut_debit');
    expect(technologyKey('-')).toBe('other');
  });
});

/**
 * Communes of 0.1° in one latitude band (so of equal ellipsoidal area): S [3.0, 3.1], T [3.1, 3.2], U [3.5, 3.6]
 * (populations 1000, 3000, 500) and V [3.7, 3.8] without population, all in EPCI E.
 */
async function buildTerritories(database: Database): Promise<void> {
  const { db } = database;
  const source = await db.insertInto('source').values({ kind: 'test', name: 'hand-made', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const upsert = (level: string, rows: object[]) => runNamedQuery(db, namedQuery('upsert_territories'), [JSON.stringify(rows), level, source.id, '2024', false]);
  await upsert('commune', [
    { code: 'S', name: 'S', population: 1000, geometry: box(3.0, 49.0, 3.1, 49.1) },
    { code: 'T', name: 'T', population: 3000, geometry: box(3.1, 49.0, 3.2, 49.1) },
    { code: 'U', name: 'U', population: 500, geometry: box(3.5, 49.0, 3.6, 49.1) },
    { code: 'V', name: 'V', population: null, geometry: box(3.7, 49.0, 3.8, 49.1) },
  ]);
  await upsert('epci', [{ code: 'E', name: 'CC', population: null, geometry: null }]);
  await runNamedQuery(db, namedQuery('upsert_memberships'), [JSON.stringify(['S', 'T', 'U', 'V'].map((commune) => ({ level: 'epci', code: 'E', commune })))]);
}

async function addSource(database: Database, kind: string, name: string, vintage: string | null): Promise<number> {
  const row = await database.db.insertInto('source').values({ kind, name, file_name: null, sha256: null, rows: null, vintage, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

interface ValueRow { indicator: string; code: string; vintage: string; value: number | null; numerator: number | null; denominator: number | null; communes: number; communes_expected: number; source_id: number | null }

async function values(database: Database, prefix: string): Promise<Map<string, ValueRow>> {
  const rows = await database.db
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .select(['v.indicator_id as indicator', 't.code', 'v.vintage', 'v.value', 'v.numerator', 'v.denominator', 'v.communes', 'v.communes_expected', 'v.source_id'])
    .where('v.indicator_id', 'like', `${prefix}%`)
    .execute();
  return new Map(rows.map((r) => [`${r.indicator}:${r.code}:${r.vintage}`, r]));
}

const catalogue = async (database: Database) =>
  (await database.db.selectFrom('indicator').select('id').where('publisher', '=', 'terrinum (calcul)').orderBy('id').execute()).map((r) => r.id);

const handResults = new Map<string, Map<string, ValueRow>>();

describe.each(backends())('coverage by hand (%s)', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await buildTerritories(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('creates no indicator while there is neither premises point nor zone', async () => {
    expect(await recomputeCoverage(database.db)).toEqual([]);
    expect(await catalogue(database)).toEqual([]);
  });

  it('computes premises coverage after a premises import: Σ deployed premises ÷ Σ premises', async () => {
    ANALYSIS_STEPS.push(coverageStep);
    try {
      await importPremises(database, fixture('premises-coverage-by-hand.csv'), { vintage: '2024-Q2' });
    } finally {
      ANALYSIS_STEPS.splice(ANALYSIS_STEPS.indexOf(coverageStep), 1);
    }
    const v = await values(database, 'fibre_coverage_premises');
    // S: (5 + 2) deployed of 5 + 2 + 3; T: 0 of 4 (planned)
    expect(v.get('fibre_coverage_premises:S:2024-Q2')).toMatchObject({ value: 0.7, numerator: 7, denominator: 10 });
    expect(v.get('fibre_coverage_premises:T:2024-Q2')).toMatchObject({ value: 0, numerator: 0, denominator: 4 });
    expect(v.has('fibre_coverage_premises:U:2024-Q2')).toBe(false);
    // EPCI: 7 / 14, from 2 of its 4 communes
    expect(v.get('fibre_coverage_premises:E:2024-Q2')).toMatchObject({ value: 0.5, numerator: 7, denominator: 14, communes: 2, communes_expected: 4, source_id: null });
    const indicator = await database.db.selectFrom('indicator').selectAll().where('id', '=', 'fibre_coverage_premises').executeTakeFirstOrThrow();
    expect(indicator).toMatchObject({ theme: 'infrastructure', unit: 'ratio', aggregation: 'ratio_of_sums', synthetic: false });
  });

  it('adds up sources of one vintage (carrying the latest), dates a source without vintage by its import quarter', async () => {
    const first = (await values(database, 'fibre_coverage_premises')).get('fibre_coverage_premises:S:2024-Q2')!.source_id!;
    const second = await addSource(database, 'premises', 'operator C', '2024-Q2');
    await runNamedQuery(database.db, namedQuery('insert_premises'), [JSON.stringify([{ lon: 3.03, lat: 49.03, premises: 10, status: 'deployed', operator: 'C' }]), second]);
    const undated = await addSource(database, 'premises', 'undated', null);
    await runNamedQuery(database.db, namedQuery('insert_premises'), [JSON.stringify([{ lon: 3.55, lat: 49.05, premises: 2, status: 'deployed', operator: 'D' }]), undated]);
    await recomputeCoverage(database.db);
    const v = await values(database, 'fibre_coverage_premises');
    expect(second).toBeGreaterThan(first);
    expect(v.get('fibre_coverage_premises:S:2024-Q2')).toMatchObject({ value: 17 / 20, numerator: 17, denominator: 20, source_id: second });
    expect(v.get('fibre_coverage_premises:T:2024-Q2')).toMatchObject({ source_id: first });
    const now = new Date();
    const quarter = `${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
    expect(v.get(`fibre_coverage_premises:U:${quarter}`)).toMatchObject({ value: 1, numerator: 2, denominator: 2, source_id: undated });
    // its values go with their source
    await database.db.deleteFrom('source').where('id', '=', undated).execute();
    expect((await values(database, 'fibre_coverage_premises')).has(`fibre_coverage_premises:U:${quarter}`)).toBe(false);
  });

  it('measures covered area and population shares per technology: half a square is 0.5, overlapping zones count once', async () => {
    const radio = await addSource(database, 'coverage', 'THD radio:zones.geojson', '2024');
    // west half of S
    await runNamedQuery(database.db, namedQuery('insert_coverage_areas'), [JSON.stringify([{ technology: 'THD radio', max_down_mbps: 30, geometry: box(2.9, 48.9, 3.05, 49.2) }]), radio]);
    const mobile = await addSource(database, 'coverage', '4G+:zones.geojson', '2024-Q4');
    // Z1 covers T; Z2 overlaps Z1 and covers the east fifth of S; in U, Z3 and Z4 overlap: 0.6 covered, not 0.8
    await runNamedQuery(database.db, namedQuery('insert_coverage_areas'), [
      JSON.stringify([
        { technology: '4G+', max_down_mbps: 100, geometry: box(3.1, 48.9, 3.25, 49.2) },
        { technology: '4G+', max_down_mbps: 100, geometry: box(3.08, 48.9, 3.3, 49.2) },
        { technology: '4G+', max_down_mbps: 100, geometry: box(3.5, 48.9, 3.54, 49.2) },
        { technology: '4G+', max_down_mbps: 100, geometry: box(3.52, 48.9, 3.56, 49.2) },
      ]),
      mobile,
    ]);
    expect(await recomputeCoverage(database.db)).toEqual(['coverage_area_4g_plus', 'coverage_area_thd_radio', 'coverage_population_4g_plus', 'coverage_population_thd_radio', 'fibre_coverage_premises']);
    const v = await values(database, 'coverage_');
    const area = (id: string, code: string, vintage: string) => v.get(`coverage_area_${id}:${code}:${vintage}`)!;
    const population = (id: string, code: string, vintage: string) => v.get(`coverage_population_${id}:${code}:${vintage}`)!;
    expect(area('thd_radio', 'S', '2024').value).toBeCloseTo(0.5, 3);
    expect(area('thd_radio', 'S', '2024').source_id).toBe(radio);
    expect(area('thd_radio', 'T', '2024').value).toBe(0);
    expect(area('thd_radio', 'V', '2024').value).toBe(0);
    expect(population('thd_radio', 'S', '2024')).toMatchObject({ denominator: 1000 });
    expect(population('thd_radio', 'S', '2024').numerator).toBeCloseTo(500, 1);
    // V has no population: no population share
    expect(v.has('coverage_population_thd_radio:V:2024')).toBe(false);
    expect(area('4g_plus', 'S', '2024-Q4').value).toBeCloseTo(0.2, 3);
    expect(area('4g_plus', 'T', '2024-Q4').value).toBe(1);
    expect(area('4g_plus', 'U', '2024-Q4').value).toBeCloseTo(0.6, 3);
    expect(area('4g_plus', 'V', '2024-Q4').value).toBe(0);
    // EPCI: four communes of equal area → (0.2 + 1 + 0.6) / 4; population (200 + 3000 + 300) / (1000 + 3000 + 500)
    expect(area('4g_plus', 'E', '2024-Q4').value).toBeCloseTo(1.8 / 4, 3);
    expect(area('4g_plus', 'E', '2024-Q4')).toMatchObject({ communes: 4, communes_expected: 4 });
    expect(population('4g_plus', 'E', '2024-Q4').value).toBeCloseTo(3500 / 4500, 3);
    expect(population('4g_plus', 'E', '2024-Q4')).toMatchObject({ denominator: 4500, communes: 3, communes_expected: 4 });
    handResults.set(backend, v);
  });

  it('reruns after a coverage import; a technology written differently is the same layer; gone inputs leave the catalogue', async () => {
    ANALYSIS_STEPS.push(coverageStep);
    try {
      // a bow-tie over S repaired into two triangles (half of S), and T fully
      await importCoverage(database, fixture('coverage-self-intersecting.geojson'), { technology: 'thd-radio', vintage: '2025-Q1' });
    } finally {
      ANALYSIS_STEPS.splice(ANALYSIS_STEPS.indexOf(coverageStep), 1);
    }
    const v = await values(database, 'coverage_area_thd_radio');
    expect(v.get('coverage_area_thd_radio:S:2025-Q1')!.value).toBeCloseTo(0.5, 3);
    expect(v.get('coverage_area_thd_radio:T:2025-Q1')!.value).toBe(1);
    expect(v.get('coverage_area_thd_radio:S:2024')!.value).toBeCloseTo(0.5, 3);
    const label = await database.db.selectFrom('indicator').select('label_en').where('id', '=', 'coverage_area_thd_radio').executeTakeFirstOrThrow();
    expect(label.label_en).toBe('Area covered – THD radio, thd-radio');

    await database.db.deleteFrom('source').where('kind', '=', 'coverage').where('name', 'like', '4G+%').execute();
    await database.db.deleteFrom('source').where('kind', '=', 'premises').execute();
    expect(await recomputeCoverage(database.db)).toEqual(['coverage_area_thd_radio', 'coverage_population_thd_radio']);
    expect(await catalogue(database)).toEqual(['coverage_area_thd_radio', 'coverage_population_thd_radio']);
  });
});

const demoResults = new Map<string, Map<string, ValueRow>>();

describe.each(backends())('coverage on the demo (%s)', (backend) => {
  let database: Database;
  const demo = generateDemo();
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
    const started = performance.now();
    await coverageStep.run(database.db, null);
    console.log(`coverage step on the demo (${backend}): ${(performance.now() - started).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('gives the thd-radio zone non-zero shares only in the communes it touches (turf, spherical, within 0.5 %)', async () => {
    const v = await values(database, 'coverage_area_thd_radio');
    const vintage = demo.quarters.at(-1)!;
    const zone = turf.feature(demo.coverage[0]!.geometry) as Feature<Polygon | MultiPolygon>;
    let touched = 0;
    for (const commune of demo.communes) {
      const shape = turf.feature(commune.geometry) as Feature<Polygon | MultiPolygon>;
      const overlap = turf.intersect(turf.featureCollection([shape, zone]));
      const expected = overlap ? turf.area(overlap) / turf.area(shape) : 0;
      const stored = v.get(`coverage_area_thd_radio:${commune.code}:${vintage}`)!.value!;
      if (expected > 1e-6) touched += 1;
      if (expected === 0) expect(stored, commune.code).toBe(0);
      else expect(Math.abs(stored - expected), commune.code).toBeLessThanOrEqual(0.005 * expected + 1e-9);
    }
    expect(touched).toBeGreaterThan(5);
    expect(touched).toBeLessThan(demo.communes.length / 2);
    demoResults.set(backend, new Map([...v, ...(await values(database, 'coverage_population_')), ...(await values(database, 'fibre_coverage_premises'))]));
  });

  it('computes premises coverage from the demo points as Σ deployed ÷ Σ premises per commune', async () => {
    const points = await database.db
      .selectFrom('premises_point as p')
      .innerJoin('territory as t', 't.id', 'p.commune_id')
      .select(['t.code', 'p.premises', 'p.status'])
      .execute();
    const sums = new Map<string, [number, number]>();
    for (const p of points) {
      const s = sums.get(p.code) ?? [0, 0];
      if (p.status === 'deployed') s[0] += p.premises;
      s[1] += p.premises;
      sums.set(p.code, s);
    }
    const v = await values(database, 'fibre_coverage_premises');
    const vintage = demo.quarters.at(-1)!;
    expect(sums.size).toBe(demo.communes.length);
    for (const [code, [deployed, all]] of sums) expect(v.get(`fibre_coverage_premises:${code}:${vintage}`), code).toMatchObject({ numerator: deployed, denominator: all });
    const synthetic = await database.db.selectFrom('indicator').select('synthetic').where('id', '=', 'fibre_coverage_premises').executeTakeFirstOrThrow();
    expect(synthetic.synthetic).toBe(true);
  });

  it('keeps the ARCEP fibre_coverage values as imported', async () => {
    const [row] = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM indicator_value WHERE indicator_id = 'fibre_coverage' AND source_id IS NOT NULL`.execute(database.db)).rows;
    expect(row!.n).toBe(demo.deployments.length);
  });
});

const robustnessResults = new Map<string, Map<string, ValueRow>>();

/**
 * One commune and two overlapping discs of the national benchmark (bench/analysis.ts, 35,000 communes, commune 6118):
 * merging the two clipped discs is a floating-point overlay that GEOS can only complete by catching an internal
 * failure and retrying with snapping, which PGlite's WebAssembly build cannot do — the statement used to stop
 * returning rows without an error (pglite #916). The overlay now snap-rounds onto a 2^-30° grid.
 */
describe.each(backends())('coverage overlay where a floating-point union fails (%s)', (backend) => {
  let database: Database;
  const fixtureFile = JSON.parse(fs.readFileSync(fixture('coverage-overlay-robustness.geojson'), 'utf8')) as FeatureCollection<MultiPolygon>;
  const commune = fixtureFile.features.find((f) => f.properties!.role === 'commune')!;
  const zones = fixtureFile.features.filter((f) => f.properties!.role === 'zone');
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    const source = await addSource(database, 'coverage', 'THD radio:bench.geojson', '2024-Q4');
    await runNamedQuery(database.db, namedQuery('upsert_territories'), [JSON.stringify([{ code: 'R1', name: 'R1', population: 800, geometry: commune.geometry }]), 'commune', source, '2024', false]);
    await runNamedQuery(database.db, namedQuery('insert_coverage_areas'), [JSON.stringify(zones.map((z) => ({ technology: 'THD radio', max_down_mbps: 100, geometry: z.geometry }))), source]);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('writes the covered share of the two overlapping discs (turf, spherical, within 0.5 %)', async () => {
    expect(await recomputeCoverage(database.db)).toEqual(['coverage_area_thd_radio', 'coverage_population_thd_radio']);
    const v = await values(database, 'coverage_');
    const area = v.get('coverage_area_thd_radio:R1:2024-Q4')!;
    const merged = turf.union(turf.featureCollection(zones as Feature<MultiPolygon>[]))!;
    const covered = turf.intersect(turf.featureCollection([commune as Feature<MultiPolygon>, merged]))!;
    const expected = turf.area(covered) / turf.area(commune);
    const separately = zones.reduce((sum, z) => sum + turf.area(turf.intersect(turf.featureCollection([commune as Feature<MultiPolygon>, z as Feature<MultiPolygon>]))!), 0) / turf.area(commune);
    // the two clipped discs overlap (a sliver: 0.014 % of the commune), which is what the union has to resolve
    expect(separately - expected).toBeGreaterThan(1e-4);
    expect(Math.abs(area.value! - expected)).toBeLessThanOrEqual(0.005 * expected);
    expect(v.get('coverage_population_thd_radio:R1:2024-Q4')).toMatchObject({ value: area.value, denominator: 800 });
    robustnessResults.set(backend, v);
  });
});

describe.runIf(backends().length > 1)('coverage: both backends agree', () => {
  it('gives identical covered areas where the overlay needs its grid (the 2^-30° grid is exact in binary)', () => {
    const numbers = (backend: string) => [...robustnessResults.get(backend)!].map(([key, r]) => [key, r.value, r.numerator, r.denominator]);
    expect(numbers('postgis')).toEqual(numbers('embedded'));
  });

  it('gives the same values, numerators and denominators within 1e-9 (relative for areas in m²)', () => {
    for (const set of [handResults, demoResults]) {
      const [embedded, server] = [set.get('embedded')!, set.get('postgis')!];
      expect(server.size).toBe(embedded.size);
      for (const [key, row] of embedded) {
        const other = server.get(key)!;
        expect(Math.abs(other.value! - row.value!), key).toBeLessThanOrEqual(1e-9);
        for (const field of ['numerator', 'denominator'] as const) {
          expect(Math.abs(other[field]! - row[field]!), `${key} ${field}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(row[field]!)));
        }
      }
    }
  });
});
