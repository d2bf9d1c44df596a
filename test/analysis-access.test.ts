import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessStep, recomputeAccess } from '../server/analysis/access.ts';
import { ANALYSIS_STEPS } from '../server/analysis/recompute.ts';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { importPlaces } from '../server/import/places.ts';
import { backends, openDemoDatabase, openEmptyDatabase } from './helpers/db.ts';

/** Vincenty's inverse formula on the WGS84 ellipsoid (metres): an independent check of PostGIS geography distances. */
function vincenty([lon1, lat1]: [number, number], [lon2, lat2]: [number, number]): number {
  const a = 6378137;
  const f = 1 / 298.257223563;
  const b = a * (1 - f);
  const rad = Math.PI / 180;
  const L = (lon2 - lon1) * rad;
  const U1 = Math.atan((1 - f) * Math.tan(lat1 * rad));
  const U2 = Math.atan((1 - f) * Math.tan(lat2 * rad));
  const [sinU1, cosU1, sinU2, cosU2] = [Math.sin(U1), Math.cos(U1), Math.sin(U2), Math.cos(U2)];
  let lambda = L;
  let sinSigma = 0, cosSigma = 0, sigma = 0, cos2Alpha = 0, cos2SigmaM = 0;
  for (let i = 0; i < 200; i++) {
    const [sinLambda, cosLambda] = [Math.sin(lambda), Math.cos(lambda)];
    sinSigma = Math.hypot(cosU2 * sinLambda, cosU1 * sinU2 - sinU1 * cosU2 * cosLambda);
    if (sinSigma === 0) return 0;
    cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
    sigma = Math.atan2(sinSigma, cosSigma);
    const sinAlpha = (cosU1 * cosU2 * sinLambda) / sinSigma;
    cos2Alpha = 1 - sinAlpha * sinAlpha;
    cos2SigmaM = cos2Alpha === 0 ? 0 : cosSigma - (2 * sinU1 * sinU2) / cos2Alpha;
    const C = (f / 16) * cos2Alpha * (4 + f * (4 - 3 * cos2Alpha));
    const previous = lambda;
    lambda = L + (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    if (Math.abs(lambda - previous) < 1e-13) break;
  }
  const u2 = (cos2Alpha * (a * a - b * b)) / (b * b);
  const A = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
  const B = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  const deltaSigma = B * sinSigma * (cos2SigmaM + (B / 4) * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) - (B / 6) * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
  return b * A * (sigma - deltaSigma);
}

// Squares of 0.1°: a square's point on surface is its centre.
const square = (x: number, y: number) => ({ type: 'Polygon', coordinates: [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]] });
const centre = (x: number, y: number): [number, number] => [x + 0.05, y + 0.05];

/**
 * Communes A, B, C, F in EPCI E1 (F without population), D alone in E2 at 60° N; département DEP holds all five.
 * Places: P1 2.2 km north of A's centre, P2 east of C's centre, and at D's latitude Q1 0.15° east of D's centre
 * (8.4 km) and Q2 0.1° north (11.1 km): Q2 is nearer in planar degrees, Q1 on the ellipsoid.
 */
const COMMUNES = [
  { code: 'A', population: 1000, corner: [3.0, 49.0] },
  { code: 'B', population: 300, corner: [3.3, 49.0] },
  { code: 'C', population: 600, corner: [3.0, 49.4] },
  { code: 'F', population: null, corner: [3.6, 49.0] },
  { code: 'D', population: 100, corner: [-0.05, 59.95] },
] as const;
const PLACES: Record<string, [number, number]> = { P1: [3.05, 49.07], P2: [3.2, 49.45], Q1: [0.15, 60.0], Q2: [0.0, 60.1] };

async function buildTerritories(database: Database): Promise<void> {
  const { db } = database;
  const source = await db.insertInto('source').values({ kind: 'test', name: 'hand-made', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const upsert = (level: string, rows: object[]) => runNamedQuery(db, namedQuery('upsert_territories'), [JSON.stringify(rows), level, source.id, '2024', false]);
  await upsert('commune', COMMUNES.map((c) => ({ code: c.code, name: `Commune ${c.code}`, population: c.population, geometry: square(c.corner[0], c.corner[1]) })));
  await upsert('epci', [{ code: 'E1', name: 'CC Une', population: null, geometry: null }, { code: 'E2', name: 'CC Deux', population: null, geometry: null }]);
  await upsert('departement', [{ code: 'DEP', name: 'Dép', population: null, geometry: null }]);
  const members = [['epci', 'E1', 'A'], ['epci', 'E1', 'B'], ['epci', 'E1', 'C'], ['epci', 'E1', 'F'], ['epci', 'E2', 'D'], ...COMMUNES.map((c) => ['departement', 'DEP', c.code])];
  await runNamedQuery(db, namedQuery('upsert_memberships'), [JSON.stringify(members.map(([level, code, commune]) => ({ level, code, commune })))]);
}

async function addPlaces(database: Database, names: string[]): Promise<void> {
  const source = await database.db.insertInto('source').values({ kind: 'places', name: 'hand-made places', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
  const rows = names.map((name) => ({ name, kind: 'mediation', lon: PLACES[name]![0], lat: PLACES[name]![1] }));
  await runNamedQuery(database.db, namedQuery('insert_places'), [JSON.stringify(rows), source.id, false]);
}

interface AccessRow { code: string; level: string; distance_m: number | null; place: string | null; s10: number | null; s20: number | null; origin: string }

async function access(database: Database): Promise<Map<string, AccessRow>> {
  const rows = await database.db
    .selectFrom('metric_access as a')
    .innerJoin('territory as t', 't.id', 'a.territory_id')
    .leftJoin('place as p', 'p.id', 'a.nearest_place_id')
    .select(['t.code', 't.level', 'a.distance_m', 'p.name as place', 'a.share_population_beyond_10km as s10', 'a.share_population_beyond_20km as s20', 'a.origin'])
    .execute();
  return new Map(rows.map((r) => [`${r.level}:${r.code}`, r]));
}

const results = new Map<string, Map<string, AccessRow>>();

describe.each(backends())('access to mediation by hand (%s)', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await buildTerritories(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('stores nothing while no place exists', async () => {
    await recomputeAccess(database.db);
    expect((await access(database)).size).toBe(0);
  });

  it('measures each commune from its centre to the nearest place on the ellipsoid (Vincenty within 1 mm)', async () => {
    await addPlaces(database, ['P1', 'P2', 'Q1', 'Q2']);
    await accessStep.run(database.db, null);
    const rows = await access(database);
    const expected: Record<string, string> = { A: 'P1', B: 'P1', C: 'P2', F: 'P1', D: 'Q1' };
    for (const c of COMMUNES) {
      const row = rows.get(`commune:${c.code}`)!;
      expect(row.place, c.code).toBe(expected[c.code]);
      expect(row.distance_m! - vincenty(centre(c.corner[0], c.corner[1]), PLACES[expected[c.code]!]!), c.code).toBeCloseTo(0, 3);
      expect(row.origin).toBe('point on surface');
    }
    // by hand: 0.02° of latitude ≈ 2.2 km; 0.3° of longitude at 49° ≈ 22 km; 0.15° at 49.45° ≈ 10.9 km
    expect(rows.get('commune:A')!.distance_m).toBeGreaterThan(2200);
    expect(rows.get('commune:A')!.distance_m).toBeLessThan(2250);
    expect(rows.get('commune:B')!.distance_m).toBeGreaterThan(20000);
    expect(rows.get('commune:C')!.distance_m).toBeGreaterThan(10000);
    expect(rows.get('commune:C')!.distance_m).toBeLessThan(20000);
    // Q2 is the nearer in planar degrees (0.1 < 0.15), Q1 on the ground (8.4 km < 11.1 km)
    expect(rows.get('commune:D')!.distance_m).toBeLessThan(8500);
    expect([rows.get('commune:A')!.s10, rows.get('commune:B')!.s10, rows.get('commune:C')!.s10]).toEqual([0, 1, 1]);
    expect([rows.get('commune:A')!.s20, rows.get('commune:B')!.s20, rows.get('commune:C')!.s20]).toEqual([0, 1, 0]);
    results.set(backend, rows);
  });

  it('gives coarser territories their population beyond 10/20 km and population-weighted mean distance', async () => {
    const rows = await access(database);
    const d = (code: string) => rows.get(`commune:${code}`)!.distance_m!;
    // E1: A 1000 (2.2 km), B 300 (22 km), C 600 (10.9 km); F has no population and does not count
    const e1 = rows.get('epci:E1')!;
    expect(e1.s10).toBeCloseTo(900 / 1900, 12);
    expect(e1.s20).toBeCloseTo(300 / 1900, 12);
    expect(e1.distance_m).toBeCloseTo((1000 * d('A') + 300 * d('B') + 600 * d('C')) / 1900, 6);
    expect(e1.place).toBeNull();
    expect(rows.get('epci:E2')).toMatchObject({ s10: 0, s20: 0 });
    expect(rows.get('epci:E2')!.distance_m).toBeCloseTo(d('D'), 9);
    const dep = rows.get('departement:DEP')!;
    expect(dep.s10).toBeCloseTo(900 / 2000, 12);
    expect(dep.distance_m).toBeCloseTo((1000 * d('A') + 300 * d('B') + 600 * d('C') + 100 * d('D')) / 2000, 6);
  });

  it('reruns after a places import (the import flags the analyses inputs as changed)', async () => {
    ANALYSIS_STEPS.push(accessStep);
    try {
      // one place at (3.25, 49.05): nearer to B's centre (3.35, 49.05) than P1
      const report = await importPlaces(database, path.resolve(import.meta.dirname, 'fixtures/places-points.geojson'));
      expect(report.imported).toBe(1);
    } finally {
      ANALYSIS_STEPS.splice(ANALYSIS_STEPS.indexOf(accessStep), 1);
    }
    const b = (await access(database)).get('commune:B')!;
    expect(b.place).toBe('Espace public numérique');
    expect(b.distance_m! - vincenty([3.35, 49.05], [3.25, 49.05])).toBeCloseTo(0, 3);
    expect(b.s10).toBe(0);
  });
});

const demoResults = new Map<string, Map<string, AccessRow>>();

describe.each(backends())('access on the demo (%s)', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('gives every demo commune a distance to a place, and every coarser territory its shares', async () => {
    const started = performance.now();
    await accessStep.run(database.db, null);
    console.log(`access step on the demo (${backend}): ${(performance.now() - started).toFixed(0)} ms`);
    const rows = await access(database);
    const communes = await database.db.selectFrom('territory').select(sql<number>`count(*)::int`.as('n')).where('level', '=', 'commune').executeTakeFirstOrThrow();
    const communeRows = [...rows.values()].filter((r) => r.level === 'commune');
    expect(communeRows.length).toBe(communes.n);
    expect(communeRows.every((r) => r.distance_m !== null && r.distance_m >= 0 && r.place !== null)).toBe(true);
    // a commune holding a place is at most its own width from it
    const [{ max }] = (await sql<{ max: number }>`
      SELECT max(a.distance_m) AS max FROM metric_access a JOIN place p ON p.commune_id = a.territory_id`.execute(database.db)).rows as [{ max: number }];
    expect(max).toBeLessThan(15000);
    for (const level of ['epci', 'departement', 'region']) {
      const coarse = [...rows.values()].filter((r) => r.level === level);
      expect(coarse.length, level).toBeGreaterThan(0);
      for (const r of coarse) {
        expect(r.s20!).toBeGreaterThanOrEqual(0);
        expect(r.s20!).toBeLessThanOrEqual(r.s10!);
        expect(r.s10!).toBeLessThanOrEqual(1);
      }
    }
    demoResults.set(backend, rows);
  });
});

describe.runIf(backends().length > 1)('access: both backends agree', () => {
  it('gives the same nearest places, distances (relative) and shares within 1e-9 (hand-made and demo)', () => {
    for (const set of [results, demoResults]) {
      const [embedded, server] = [set.get('embedded')!, set.get('postgis')!];
      expect(server.size).toBe(embedded.size);
      for (const [key, row] of embedded) {
        const other = server.get(key)!;
        expect(other.place, key).toBe(row.place);
        // PostGIS rounds geography distances to 10 nm, and the geodesic code differs between versions in the last
        // bits: metres agree within 1e-9 relative (1e-5 mm at 10 km); shares within 1e-9
        expect(Math.abs(other.distance_m! - row.distance_m!), `${key} distance`).toBeLessThanOrEqual(1e-9 * Math.max(1, row.distance_m!));
        for (const field of ['s10', 's20'] as const) expect(Math.abs(other[field]! - row[field]!), `${key} ${field}`).toBeLessThanOrEqual(1e-9);
      }
    }
  });
});
