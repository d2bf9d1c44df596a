import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { namedQuery } from '../server/db/sql-files.ts';
import { importCoverage } from '../server/import/coverage.ts';
import { ImportError } from '../server/import/errors.ts';
import { importPlaces } from '../server/import/places.ts';
import { importPremises } from '../server/import/premises.ts';
import { formatSources, listSources } from '../server/import/sources.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

const fixture = (name: string) => path.resolve(import.meta.dirname, 'fixtures', name);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-points-'));

/** Three hand-made communes, 0.1° squares side by side at 49° N: A [3.0, 3.1], B [3.1, 3.2], C [3.2, 3.3]. */
const COMMUNES = ['A', 'B', 'C'].map((code, i) => ({ code, west: 3 + i / 10, east: 3 + (i + 1) / 10, south: 49, north: 49.1 }));
const square = ({ west, east, south, north }: (typeof COMMUNES)[number]) => ({ type: 'Polygon', coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] });
/** The commune that contains a point, by the squares' bounds; null outside. */
const communeOf = (lon: number, lat: number) => COMMUNES.find((c) => lon > c.west && lon < c.east && lat > c.south && lat < c.north)?.code ?? null;

const STATUSES = ['deployed', 'in_progress', 'planned'] as const;

/** A deterministic premises file: points over the three squares and around them; returns what it holds. */
function writePremises(file: string, rows: number) {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const expected = new Map<string, number>();
  const outsideLines: number[] = [];
  const out = fs.openSync(file, 'w');
  let chunk = 'lon,lat,premises,status,operator\n';
  for (let i = 0; i < rows; i++) {
    // 6 decimals, never exactly on a border (a border point belongs to two squares)
    let lon = Math.round((2.95 + random() * 0.4) * 1e6) / 1e6;
    const lat = Math.round((48.98 + random() * 0.14) * 1e6) / 1e6 + 1e-7;
    if (Math.abs(lon * 10 - Math.round(lon * 10)) < 1e-9) lon += 1e-6;
    const premises = 1 + Math.floor(random() * 20);
    const status = STATUSES[i % 3]!;
    const commune = communeOf(lon, lat);
    if (commune === null) outsideLines.push(i + 2);
    const key = `${commune}|${status}`;
    expected.set(key, (expected.get(key) ?? 0) + premises);
    chunk += `${lon},${lat},${premises},${status},${i % 2 ? 'AISN' : ''}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
  return { expected, outsideLines };
}

/** Lambert-93 (EPSG:2154) from WGS84/RGF93 longitude and latitude: the Lambert conformal conic of IGN's NTG_71, written out. */
function lambert93(lonDegrees: number, latDegrees: number): [number, number] {
  const a = 6378137;
  const f = 1 / 298.257222101;
  const e = Math.sqrt(2 * f - f * f);
  const rad = Math.PI / 180;
  const m = (phi: number) => Math.cos(phi) / Math.sqrt(1 - e * e * Math.sin(phi) ** 2);
  const t = (phi: number) => Math.tan(Math.PI / 4 - phi / 2) / ((1 - e * Math.sin(phi)) / (1 + e * Math.sin(phi))) ** (e / 2);
  const [phi1, phi2, phi0] = [44 * rad, 49 * rad, 46.5 * rad];
  const n = (Math.log(m(phi1)) - Math.log(m(phi2))) / (Math.log(t(phi1)) - Math.log(t(phi2)));
  const F = m(phi1) / (n * t(phi1) ** n);
  const rho = (phi: number) => a * F * t(phi) ** n;
  const theta = n * (lonDegrees - 3) * rad;
  return [700000 + rho(latDegrees * rad) * Math.sin(theta), 6600000 + rho(phi0) - rho(latDegrees * rad) * Math.cos(theta)];
}

async function snapshot(database: Database) {
  const { db } = database;
  return JSON.stringify([
    await db.selectFrom('source').select(['id', 'name', 'rows']).orderBy('id').execute(),
    await db.selectFrom('premises_point').select((eb) => eb.fn.countAll<number>().as('n')).execute(),
    await db.selectFrom('place').select((eb) => eb.fn.countAll<number>().as('n')).execute(),
    await db.selectFrom('coverage_area').select((eb) => eb.fn.countAll<number>().as('n')).execute(),
    await db.selectFrom('import_reject').select((eb) => eb.fn.countAll<number>().as('n')).execute(),
  ]);
}

async function failure(database: Database, run: () => Promise<unknown>): Promise<ImportError> {
  const before = await snapshot(database);
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportError);
  expect(await snapshot(database)).toBe(before);
  return error as ImportError;
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

const premisesFile = path.join(TMP, 'premises-20k.csv');
const premisesContent = writePremises(premisesFile, 20_000);

afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

describe.each(backends())('premises, places, coverage and sources on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    const source = await database.db.insertInto('source').values({ kind: 'test', name: 'hand-made squares', file_name: null, sha256: null, rows: null, vintage: null, publisher: null, licence: null, url: null }).returning('id').executeTakeFirstOrThrow();
    await runNamedQuery(database.db, namedQuery('upsert_territories'), [JSON.stringify(COMMUNES.map((c) => ({ code: c.code, name: `Commune ${c.code}`, population: 100, geometry: square(c) }))), 'commune', source.id, '2024', false]);
  });
  afterAll(() => database?.close());

  it('streams 20,000 premises into communes by point-in-polygon; points outside are stored without a commune and reported', async () => {
    const report = await importPremises(database, premisesFile, { batchSize: 5000 });
    expect(report).toMatchObject({ read: 20_000, imported: 20_000 });
    const rows = await database.db
      .selectFrom('premises_point as p')
      .leftJoin('territory as t', 't.id', 'p.commune_id')
      .select(['t.code', 'p.status', (eb) => eb.fn.sum<number>('p.premises').as('premises')])
      .groupBy(['t.code', 'p.status'])
      .execute();
    const stored = new Map(rows.map((r) => [`${r.code}|${r.status}`, Number(r.premises)]));
    expect(stored).toEqual(premisesContent.expected);
    const { outsideLines } = premisesContent;
    expect(outsideLines.length).toBeGreaterThan(1000);
    expect(report.notes).toContain(`${outsideLines.length} points outside every commune, stored without a commune: lines ${outsideLines.slice(0, 10).join(', ')}, …`);
    const operators = await database.db.selectFrom('premises_point').select((eb) => eb.fn.count<number>('operator').as('n')).executeTakeFirstOrThrow();
    expect(Number(operators.n)).toBe(10_000);
  });

  it('reprojects x,y from Lambert-93 (--crs EPSG:2154)', async () => {
    const file = path.join(TMP, 'premises-lambert93.csv');
    const centres = COMMUNES.map((c) => lambert93((c.west + c.east) / 2, 49.05));
    fs.writeFileSync(file, `x,y,premises,status\n${centres.map(([x, y], i) => `${x.toFixed(2)},${y.toFixed(2)},${i + 1},planned`).join('\n')}\n`);
    const report = await importPremises(database, file, { crs: 'EPSG:2154' });
    expect(report).toMatchObject({ read: 3, imported: 3, notes: [] });
    const rows = await database.db
      .selectFrom('premises_point as p')
      .innerJoin('territory as t', 't.id', 'p.commune_id')
      .innerJoin('source as s', 's.id', 'p.source_id')
      .select(['t.code', 'p.premises', sql<number>`ST_X(p.geom)`.as('lon'), sql<number>`ST_Y(p.geom)`.as('lat')])
      .where('s.file_name', '=', 'premises-lambert93.csv')
      .orderBy('t.code')
      .execute();
    expect(rows.map((r) => [r.code, r.premises])).toEqual([['A', 1], ['B', 2], ['C', 3]]);
    // back to the centres within a centimetre-ish (1e-6° ≈ 0.1 m)
    expect(rows[1]!.lon).toBeCloseTo(3.15, 6);
    expect(rows[1]!.lat).toBeCloseTo(49.05, 6);

    const error = await failure(database, () => importPremises(database, file));
    expect(error.message).toMatch(/x,y columns need --crs/);
    expect((await failure(database, () => importPremises(database, file, { crs: 'EPSG:99999' }))).message).toMatch(/unknown CRS EPSG:99999/);
  });

  it('fails on a status it does not know, naming line and column, and writes nothing', async () => {
    const error = await failure(database, () => importPremises(database, fixture('premises-bad-status.csv')));
    expect(error.location).toEqual({ file: 'premises-bad-status.csv', line: 3, column: 'status' });
    expect(error.message).toMatch(/expected deployed, in_progress or planned, found "raccordable"/);
  });

  it.runIf(process.env.TERRINUM_LARGE_TESTS === '1')('imports 1,000,000 premises in flat memory', { timeout: 900_000 }, async () => {
    const file = path.join(TMP, 'premises-1m.csv');
    const content = writePremises(file, 1_000_000);
    global.gc?.();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakHeap = Math.max(peakHeap, now.heapUsed);
      peakRss = Math.max(peakRss, now.rss);
    }, 100);
    const started = Date.now();
    const report = await importPremises(database, file);
    clearInterval(sampler);
    expect(report.imported).toBe(1_000_000);
    expect(report.notes[0]).toMatch(new RegExp(`^${content.outsideLines.length} points outside`));
    console.log(`${backend}: 1,000,000 premises in ${((Date.now() - started) / 1000).toFixed(1)} s; peak growth: JS heap ${((peakHeap - before.heapUsed) / 2 ** 20).toFixed(0)} MB, rss ${((peakRss - before.rss) / 2 ** 20).toFixed(0)} MB`);
    // the JS side streams: its heap must not grow with the file (the embedded database itself lives in this process)
    expect(peakHeap - before.heapUsed).toBeLessThan(100 * 2 ** 20);
    if (backend === 'postgis') expect(peakRss - before.rss).toBeLessThan(100 * 2 ** 20);
  });

  it('imports places with coordinates; rows with an address only are rejects with their line', async () => {
    const report = await importPlaces(database, fixture('places-address-only.csv'));
    expect(report).toMatchObject({ read: 5, imported: 3, rejected: 2 });
    expect(report.rejects.map((r) => [r.line, r.code])).toEqual([
      [4, 'Conseiller numérique (itinérant)'],
      [6, "Point d'accès"],
    ]);
    expect(report.notes).toEqual(['1 places outside every commune, stored without a commune']);
    const places = await database.db.selectFrom('place as p').leftJoin('territory as t', 't.id', 'p.commune_id').select(['p.name', 'p.kind', 't.code']).orderBy('p.id').execute();
    expect(places).toEqual([
      { name: 'France services Laon', kind: 'france-services', code: 'A' },
      { name: 'Médiathèque "L\'Escale"', kind: 'mediation', code: 'B' },
      { name: 'Hors zone', kind: 'mediation', code: null },
    ]);
  });

  it('fails when no place has coordinates', async () => {
    const error = await failure(database, () => importPlaces(database, fixture('places-no-coordinates.csv')));
    expect(error.message).toMatch(/none of the 2 places has coordinates/);
  });

  it('imports GeoJSON places; a feature without geometry is a reject', async () => {
    const report = await importPlaces(database, fixture('places-points.geojson'));
    expect(report).toMatchObject({ read: 2, imported: 1, rejected: 1 });
    expect(report.rejects[0]!.reason).toMatch(/^feature 2: no geometry/);
  });

  it('imports coverage zones: repairs a self-intersecting polygon, keeps max_down_mbps, rejects a null geometry', async () => {
    const report = await importCoverage(database, fixture('coverage-self-intersecting.geojson'), { technology: 'thd-radio' });
    expect(report).toMatchObject({ read: 3, imported: 2, repaired: 1, rejected: 1 });
    const zones = await database.db
      .selectFrom('coverage_area')
      .select(['technology', 'max_down_mbps', sql<number>`ST_NumGeometries(geom)`.as('parts'), sql<number>`ST_Area(geom::geography)`.as('area')])
      .orderBy('id')
      .execute();
    const squareArea = zones[1]!.area;
    // the bow-tie becomes two triangles, each a quarter of the 0.1° square
    expect(zones[0]).toMatchObject({ technology: 'thd-radio', max_down_mbps: null, parts: 2 });
    expect(zones[0]!.area / squareArea).toBeCloseTo(0.5, 2);
    expect(zones[1]).toMatchObject({ technology: 'thd-radio', max_down_mbps: 30, parts: 1 });
    const error = await failure(database, () => importCoverage(database, fixture('coverage-point.geojson'), { technology: '4g' }));
    expect(error.location).toEqual({ file: 'coverage-point.geojson', feature: 1 });
    expect(error.message).toMatch(/expected a Polygon or MultiPolygon, found Point/);
  });

  it('lists every source with its SHA-256, rows and rejects', async () => {
    const sources = await listSources(database);
    const byFile = new Map(sources.map((s) => [s.fileName, s]));
    expect(byFile.get('premises-20k.csv')).toMatchObject({ kind: 'premises', rows: 20_000, rejects: 0, sha256: sha256(premisesFile) });
    expect(byFile.get('places-address-only.csv')).toMatchObject({ kind: 'places', rows: 3, rejects: 2, sha256: sha256(fixture('places-address-only.csv')) });
    expect(byFile.get('coverage-self-intersecting.geojson')).toMatchObject({ kind: 'coverage', rows: 2, rejects: 1 });
    const text = formatSources(sources);
    const hash = sha256(fixture('places-address-only.csv'));
    expect(text).toContain(hash.slice(0, 12));
    expect(text).not.toContain(hash.slice(0, 13));
    expect(text.split('\n')[0]).toMatch(/^id\s+kind\s+file\s+sha256\s+rows\s+vintage\s+publisher\s+licence\s+imported at\s+rejects$/);
  });
});
