import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { parse } from 'csv-parse/sync';
import { geojson as fgb } from 'flatgeobuf';
import { sql } from 'kysely';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { start, type Running } from '../server/main.ts';
import { backends, openDemoDatabase } from './helpers/db.ts';
import { getJson } from './helpers/server.ts';

const run = promisify(execFile);
const demo = generateDemo();
const latest = demo.quarters.at(-1)!;
const earlier = demo.quarters[2]!;
const accented = demo.communes.find((c) => /[éèêàôûçîÉ]/.test(c.name))!;

/** The demo server without the export rate limit (these tests download more than 30 files a minute). */
async function startServer(backend: 'embedded' | 'postgis'): Promise<Running> {
  const database = await openDemoDatabase(backend);
  return start(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_EXPORT_RATE_LIMIT: '0' }), { database });
}

/** ogrinfo (gdal-bin) validates every file; under CI its absence fails the test, elsewhere it skips the GDAL checks. */
let gdal: boolean | undefined;
async function ogrinfo(...args: string[]): Promise<string | null> {
  gdal ??= await run('ogrinfo', ['--version']).then(
    () => true,
    () => false,
  );
  if (!gdal) {
    if (process.env.CI) throw new Error('ogrinfo (gdal-bin) is required under CI to validate the exports');
    console.warn('skipping a GDAL check: ogrinfo is not installed');
    return null;
  }
  const { stdout, stderr } = await run('ogrinfo', ['-ro', ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  // a file GDAL only half understands says so on stderr
  expect(stderr.replace(/^INFO:.*$/gm, '').trim()).toBe('');
  return stdout;
}

/** Opens a database file's bytes with the official SQLite WebAssembly build (sql.js lacks the R*Tree module). */
async function openSqlite(bytes: Uint8Array) {
  const sqlite3 = await sqlite3InitModule();
  const db = new sqlite3.oo1.DB();
  const { capi } = sqlite3;
  // a plain Uint8Array: the allocator rejects subclasses such as Buffer
  const pointer = sqlite3.wasm.allocFromTypedArray(new Uint8Array(bytes));
  db.checkRc(capi.sqlite3_deserialize(db, 'main', pointer, bytes.byteLength, bytes.byteLength, capi.SQLITE_DESERIALIZE_FREEONCLOSE | capi.SQLITE_DESERIALIZE_READONLY));
  return db;
}

/** ogrinfo's "name (Type) = value" lines of one feature. */
function ogrFields(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^ {2}(\w+) \(\w+\) = (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-export-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(backends())('exports on %s', (backend) => {
  let app: Running;
  let stats: Map<string, { value: number | null; numerator: number | null; denominator: number | null }>;

  async function download(urlPath: string): Promise<{ status: number; headers: Headers; body: Buffer; file: string }> {
    const response = await fetch(new URL(urlPath, app.url));
    const body = Buffer.from(await response.arrayBuffer());
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'problem.json';
    const file = path.join(dir, `${backend}-${name}`);
    fs.writeFileSync(file, body);
    return { status: response.status, headers: response.headers, body, file };
  }

  beforeAll(async () => {
    app = await startServer(backend);
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    stats = new Map(body.rows.map((r: any) => [r.code, r]));
  });
  afterAll(() => app?.close());

  it('GeoJSON: RFC 7946, streamed, one feature per commune with the /api/stats values and the provenance', async () => {
    const { status, headers, body, file } = await download(`/api/export/commune.geojson?indicators=fibre_coverage&vintage=${latest}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/geo+json');
    expect(headers.get('content-disposition')).toBe(`attachment; filename="terrinum_commune_fibre_coverage_${latest}.geojson"`);
    // streamed: no length known in advance
    expect(headers.get('content-length')).toBeNull();
    const collection = JSON.parse(body.toString('utf8'));
    expect(collection.type).toBe('FeatureCollection');
    expect(collection.features).toHaveLength(demo.communes.length);
    expect(collection).not.toHaveProperty('crs');
    for (const feature of collection.features) {
      expect(Object.keys(feature.properties)).toEqual(['code', 'name', 'fibre_coverage', 'fibre_coverage_numerator', 'fibre_coverage_denominator']);
      const expected = stats.get(feature.properties.code)!;
      expect(feature.properties.fibre_coverage).toBe(expected.value);
      expect(feature.properties.fibre_coverage_numerator).toBe(expected.numerator);
      expect(feature.properties.fibre_coverage_denominator).toBe(expected.denominator);
      expect(feature.id).toBe(feature.properties.code);
      expect(feature.geometry.type).toBe('MultiPolygon');
      // RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise
      for (const polygon of feature.geometry.coordinates) {
        expect(signedArea(polygon[0])).toBeGreaterThan(0);
        for (const hole of polygon.slice(1)) expect(signedArea(hole)).toBeLessThan(0);
      }
    }
    const names = new Map(demo.communes.map((c) => [c.code, c.name]));
    expect(collection.features.map((f: any) => f.properties.name)).toEqual(collection.features.map((f: any) => names.get(f.properties.code)));
    // default precision: 6 decimals
    const decimals = Math.max(...JSON.stringify(collection.features[0].geometry.coordinates).match(/\.\d+/g)!.map((d) => d.length - 1));
    expect(decimals).toBeLessThanOrEqual(6);
    expect(decimals).toBeGreaterThanOrEqual(4);

    const provenance = collection.terrinum;
    const dataVersion = (await sql<{ version: number }>`SELECT version FROM data_version`.execute(app.database.db)).rows[0]!.version;
    expect(provenance).toMatchObject({ generator: 'terrinum', data_version: { version: Number(dataVersion) }, synthetic: true, level: { id: 'commune' } });
    expect(Date.now() - Date.parse(provenance.generated_at)).toBeLessThan(60_000);
    expect(provenance.indicators).toEqual([
      expect.objectContaining({ id: 'fibre_coverage', vintage: latest, publisher: 'ARCEP', licence: 'Licence Ouverte / Open Licence 2.0', sources: [expect.objectContaining({ kind: 'demo', synthetic: true })] }),
    ]);
    expect(provenance.licences).toContain('Licence Ouverte / Open Licence 2.0');
    expect(provenance.boundaries.sources).toHaveLength(1);

    const info = await ogrinfo('-so', file, 'commune');
    if (info !== null) {
      expect(info).toMatch(new RegExp(`Feature Count: ${demo.communes.length}\\b`));
      expect(info).toMatch(/Geometry: Multi Polygon/);
      expect(info).toMatch(/ID\["EPSG",4326\]/);
      expect(info).toMatch(/^fibre_coverage: Real/m);
      const code = demo.communes[17]!.code;
      const one = ogrFields((await ogrinfo(file, 'commune', '-where', `code = '${code}'`))!);
      expect(Number(one.fibre_coverage)).toBeCloseTo(stats.get(code)!.value!, 12);
      expect(Number(one.fibre_coverage_numerator)).toBe(stats.get(code)!.numerator);
    }
  });

  it('GeoJSON: precision, within, codes and bbox filters', async () => {
    const coarse = JSON.parse((await download(`/api/export/commune.geojson?indicators=fibre_coverage&precision=3&codes=${demo.communes[0]!.code}`)).body.toString());
    expect(coarse.features).toHaveLength(1);
    expect(JSON.stringify(coarse.features[0].geometry.coordinates).match(/\.\d{4,}/)).toBeNull();

    const epci = demo.epcis[0]!.code;
    const members = demo.communes.filter((c) => c.epci === epci).map((c) => c.code).sort();
    const within = await download(`/api/export/commune.geojson?indicators=fibre_coverage&within=epci:${epci}`);
    expect(within.headers.get('content-disposition')).toBe(`attachment; filename="terrinum_commune_fibre_coverage_${latest}_epci-${epci}.geojson"`);
    const withinCodes = JSON.parse(within.body.toString()).features.map((f: any) => f.properties.code);
    expect(withinCodes).toEqual(members);

    const codes = [demo.communes[3]!.code, demo.communes[40]!.code, 'NOPE'];
    const listed = JSON.parse((await download(`/api/export/commune.geojson?codes=${codes.join(',')}`)).body.toString());
    expect(listed.features.map((f: any) => f.properties.code)).toEqual(codes.slice(0, 2).sort());
    // no indicators= : every indicator with values
    const indicators = (await getJson<any[]>(app, '/api/indicators')).body.filter((i) => i.vintages.length).map((i) => i.id);
    expect(listed.terrinum.indicators.map((i: any) => i.id).sort()).toEqual([...indicators].sort());

    // bbox: the communes whose outline intersects a box around one commune's centre
    const { rows } = await sql<{ x: number; y: number }>`
      SELECT ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y FROM territory WHERE level = 'commune' AND code = ${demo.communes[100]!.code}`.execute(app.database.db);
    const { x, y } = rows[0]!;
    const box = [x - 0.01, y - 0.01, x + 0.01, y + 0.01];
    const { rows: expected } = await sql<{ code: string }>`
      SELECT code FROM territory WHERE level = 'commune' AND ST_Intersects(geom, ST_MakeEnvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326)) ORDER BY code`.execute(app.database.db);
    const boxed = JSON.parse((await download(`/api/export/commune.geojson?indicators=fibre_coverage&bbox=${box.join(',')}`)).body.toString());
    expect(boxed.features.map((f: any) => f.properties.code)).toEqual(expected.map((r) => r.code));
    expect(boxed.features.map((f: any) => f.properties.code)).toContain(demo.communes[100]!.code);
  });

  it('CSV: one row per territory with codes, names, values, numerators and denominators', async () => {
    const { status, headers, body } = await download(`/api/export/commune.csv?indicators=fibre_coverage&vintage=${latest}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(headers.get('content-disposition')).toBe(`attachment; filename="terrinum_commune_fibre_coverage_${latest}.csv"`);
    const text = body.toString('utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['code', 'name', 'epci_code', 'departement_code', 'region_code', 'fibre_coverage', 'fibre_coverage_numerator', 'fibre_coverage_denominator']);
    expect(rows).toHaveLength(demo.communes.length);
    const byCode = new Map(demo.communes.map((c) => [c.code, c]));
    for (const row of rows) {
      const expected = stats.get(row.code!)!;
      expect(Number(row.fibre_coverage)).toBe(expected.value);
      expect(Number(row.fibre_coverage_numerator)).toBe(expected.numerator);
      expect(Number(row.fibre_coverage_denominator)).toBe(expected.denominator);
      expect(row.name).toBe(byCode.get(row.code!)!.name);
      expect(row.epci_code).toBe(byCode.get(row.code!)!.epci);
      expect(row.departement_code).toBe(demo.departement.code);
      expect(row.region_code).toBe(demo.region.code);
    }
  });

  it('CSV for French spreadsheets: sep=; decimal=, BOM and provenance comments; yearly indicators read their latest year before the quarter', async () => {
    const { body } = await download(`/api/export/epci.csv?indicators=fibre_coverage,illectronisme&vintage=${latest}&sep=;&decimal=,&bom=1&comments=1`);
    const text = body.toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).split('\r\n');
    const comments = lines.filter((l) => l.startsWith('#'));
    expect(comments.join('\n')).toMatch(/^# data_version: \d+/m);
    expect(comments.join('\n')).toMatch(new RegExp(`^# indicator fibre_coverage: .*vintage ${latest}.*ARCEP.*Licence Ouverte`, 'm'));
    // illectronisme is yearly: a quarter of 2024 reads 2024 only at Q4; here the latest quarter is 2024-Q4
    const illectronismeVintage = /^# indicator illectronisme: .*vintage (\d{4})/m.exec(comments.join('\n'))![1]!;
    const rows = parse(lines.filter((l) => !l.startsWith('#')).join('\r\n'), { columns: true, delimiter: ';' }) as Record<string, string>[];
    expect(rows).toHaveLength(demo.epcis.length);
    const epciStats = (await getJson(app, `/api/stats/epci?indicator=fibre_coverage&vintage=${latest}`)).body.rows;
    const usage = (await getJson(app, `/api/stats/epci?indicator=illectronisme&vintage=${illectronismeVintage}`)).body.rows;
    for (const row of rows) {
      expect(row.fibre_coverage).toMatch(/^\d+(,\d+)?$/);
      const fibre = epciStats.find((r: any) => r.code === row.code);
      expect(Number(row.fibre_coverage!.replace(',', '.'))).toBe(fibre.value);
      expect(Number(row.fibre_coverage_numerator)).toBe(fibre.numerator);
      expect(Number(row.illectronisme!.replace(',', '.'))).toBe(usage.find((r: any) => r.code === row.code).value);
      expect(row.departement_code).toBe(demo.departement.code);
    }
    // an earlier quarter: illectronisme falls back to the previous year
    const early = (await download(`/api/export/epci.csv?indicators=illectronisme&vintage=2024-Q1&comments=1`)).body.toString('utf8');
    expect(early).toMatch(/^# indicator illectronisme: .*vintage 2023/m);
    const earlyRows = parse(early.split('\r\n').filter((l) => !l.startsWith('#')).join('\r\n'), { columns: true }) as Record<string, string>[];
    const usage2023 = (await getJson(app, '/api/stats/epci?indicator=illectronisme&vintage=2023')).body.rows;
    for (const row of earlyRows) expect(Number(row.illectronisme)).toBe(usage2023.find((r: any) => r.code === row.code).value);
  });

  /**
   * The gpkg_rtree_index extension (GeoPackage Annex F.3) on the commune layer: one index row per feature, a bounding
   * box query through SQLite returns the features whose PostGIS envelope meets the box, and GDAL opens the layer
   * with its index and answers `-spat` with exactly the communes PostGIS says intersect the box.
   */
  async function expectSpatialIndex(body: Uint8Array, file: string): Promise<void> {
    // a box around the 40th commune's centre, 6 km a side, in Lambert-93
    const { rows: centre } = await sql<{ x: number; y: number }>`
      SELECT ST_X(c) x, ST_Y(c) y FROM (SELECT ST_Centroid(ST_Transform(geom, 2154)) c FROM territory WHERE level = 'commune' ORDER BY code OFFSET 40 LIMIT 1) s`.execute(app.database.db);
    const [x0, y0, x1, y1] = [centre[0]!.x - 3000, centre[0]!.y - 3000, centre[0]!.x + 3000, centre[0]!.y + 3000];
    const codes = async (predicate: 'envelope' | 'intersects', margin: number) => {
      const box = sql`ST_MakeEnvelope(${x0 - margin}, ${y0 - margin}, ${x1 + margin}, ${y1 + margin}, 2154)`;
      const test = predicate === 'envelope' ? sql`ST_Transform(geom, 2154) && ${box}` : sql`ST_Intersects(ST_Transform(geom, 2154), ${box})`;
      const { rows } = await sql<{ code: string }>`SELECT code FROM territory WHERE level = 'commune' AND ${test} ORDER BY code`.execute(app.database.db);
      return rows.map((r) => r.code);
    };
    const byEnvelope = await codes('envelope', 0);
    const byGeometry = await codes('intersects', 0);
    // the R-tree stores 32-bit floats (±0.5 m here): the box must not graze any envelope or outline within 2 m
    expect(await codes('envelope', -2)).toEqual(byEnvelope);
    expect(await codes('envelope', 2)).toEqual(byEnvelope);
    expect(await codes('intersects', -2)).toEqual(byGeometry);
    expect(await codes('intersects', 2)).toEqual(byGeometry);
    expect(byGeometry.length).toBeGreaterThan(1);
    expect(byEnvelope).toEqual(expect.arrayContaining(byGeometry));
    expect(byEnvelope.length).toBeLessThan(demo.communes.length / 4);

    const db = await openSqlite(body);
    try {
      expect(db.selectValue("SELECT sql FROM sqlite_master WHERE name = 'rtree_commune_geom'")).toBe('CREATE VIRTUAL TABLE "rtree_commune_geom" USING rtree(id, minx, maxx, miny, maxy)');
      expect(db.selectValues("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).toEqual(
        ['delete', 'insert', 'update1', 'update2', 'update3', 'update4'].map((suffix) => `rtree_commune_geom_${suffix}`),
      );
      expect(db.selectArrays("SELECT table_name, column_name, scope FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'")).toEqual([['commune', 'geom', 'write-only']]);
      expect(db.selectValue('SELECT count(*) FROM rtree_commune_geom')).toBe(demo.communes.length);
      expect(db.selectValue('SELECT count(*) FROM rtree_commune_geom r JOIN commune c ON c.fid = r.id')).toBe(demo.communes.length);
      const indexed = db.selectValues(
        `SELECT c.code FROM rtree_commune_geom r JOIN commune c ON c.fid = r.id
         WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? ORDER BY c.code`,
        [x1, x0, y1, y0],
      );
      expect(indexed).toEqual(byEnvelope);
    } finally {
      db.close();
    }

    const hasIndex = await ogrinfo(file, '-sql', "SELECT HasSpatialIndex('commune', 'geom')");
    if (hasIndex === null) return;
    expect(hasIndex).toMatch(/^ {2}HasSpatialIndex \(Integer\) = 1$/m);
    // GDAL's debug log shows the query it runs for the box: a join on the index, not a scan of the geometries
    const box = [x0, y0, x1, y1].map(String);
    const { stdout: filtered, stderr: log } = await run('ogrinfo', ['-ro', '--debug', 'on', '-spat', ...box, '-geom=NO', file, 'commune'], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    expect(log).toMatch(/JOIN "rtree_commune_geom" r ON m\."fid" = r\.id WHERE r\.maxx >= /);
    expect(log).not.toMatch(/^(ERROR|Warning)/m);
    expect(filtered).toMatch(new RegExp(`Feature Count: ${byGeometry.length}\\b`));
    expect([...filtered.matchAll(/^ {2}code \(String\) = (.*)$/gm)].map((m) => m[1]!).sort()).toEqual(byGeometry);

    // the spec's triggers keep the index right when GDAL (hence QGIS) edits the layer: one commune deleted, one moved
    const edited = path.join(dir, `${backend}-edited.gpkg`);
    fs.copyFileSync(file, edited);
    const [gone, moved] = byGeometry as [string, string];
    for (const statement of [`DELETE FROM commune WHERE code = '${gone}'`, `UPDATE commune SET geom = (SELECT geom FROM commune WHERE fid = 1) WHERE code = '${moved}'`]) {
      const { stderr } = await run('ogrinfo', [edited, '-sql', statement]);
      expect(stderr.replace(/^INFO:.*$|^ +using driver.*$/gm, '').trim()).toBe('');
    }
    const after = await openSqlite(fs.readFileSync(edited));
    try {
      expect(after.selectValue('SELECT count(*) FROM rtree_commune_geom')).toBe(demo.communes.length - 1);
      expect(after.selectValue('SELECT count(*) FROM rtree_commune_geom r JOIN commune c ON c.fid = r.id')).toBe(demo.communes.length - 1);
      const box = (where: string) => after.selectArray(`SELECT minx, maxx, miny, maxy FROM rtree_commune_geom WHERE id = (SELECT fid FROM commune WHERE ${where})`);
      const first = box('fid = 1')!;
      box(`code = '${moved}'`)!.forEach((value, index) => expect(Math.abs(Number(value) - Number(first[index]))).toBeLessThanOrEqual(1));
    } finally {
      after.close();
    }
  }

  it('HEAD answers the headers of the download without building it', async () => {
    const response = await fetch(new URL(`/api/export/commune.gpkg?indicators=fibre_coverage&vintage=${latest}`, app.url), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="terrinum_commune_fibre_coverage_${latest}.gpkg"`);
    expect(response.headers.get('content-length')).toBeNull();
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('GeoPackage: EPSG:2154 written in the file, GPKG header and metadata, read by GDAL with the same values', async () => {
    const { status, headers, body, file } = await download(`/api/export/commune.gpkg?indicators=fibre_coverage&vintage=${latest}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/geopackage+sqlite3');
    expect(headers.get('content-disposition')).toBe(`attachment; filename="terrinum_commune_fibre_coverage_${latest}.gpkg"`);
    const SQL = await initSqlJs();
    const db = new SQL.Database(body);
    try {
      const one = (text: string) => db.exec(text)[0]!.values[0]!;
      expect(one('PRAGMA application_id')[0]).toBe(0x47504b47);
      expect(one('PRAGMA user_version')[0]).toBe(10300);
      expect(one("SELECT srs_id, organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = 2154")).toEqual([2154, 'EPSG', 2154]);
      expect(String(one('SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = 2154')[0])).toMatch(/^PROJCS\["RGF93 \/ Lambert-93"/);
      expect(one("SELECT data_type, srs_id FROM gpkg_contents WHERE table_name = 'commune'")).toEqual(['features', 2154]);
      expect(one("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE table_name = 'commune'")).toEqual(['MULTIPOLYGON', 2154]);
      const blob = one('SELECT geom FROM commune LIMIT 1')[0] as Uint8Array;
      expect([...blob.subarray(0, 4)]).toEqual([0x47, 0x50, 0, 0b11]);
      expect(new DataView(blob.buffer, blob.byteOffset).getInt32(4, true)).toBe(2154);
      const metadata = JSON.parse(String(one("SELECT metadata FROM gpkg_metadata WHERE mime_type = 'application/json'")[0]));
      expect(metadata).toMatchObject({ generator: 'terrinum', indicators: [{ id: 'fibre_coverage', vintage: latest }] });
      expect(one("SELECT count(*) FROM gpkg_metadata_reference WHERE reference_scope = 'table' AND table_name = 'commune'")[0]).toBe(2);
    } finally {
      db.close();
    }
    const info = await ogrinfo('-so', file, 'commune');
    if (info === null) return;
    expect(info).toMatch(new RegExp(`Feature Count: ${demo.communes.length}\\b`));
    expect(info).toMatch(/PROJCRS\["RGF93 v1 \/ Lambert-93"/);
    expect(info).toMatch(/ID\["EPSG",2154\]\]\s*$/m);
    expect(info).toMatch(/DATA_VERSION=\d+/);
    expect(info).toMatch(/INDICATOR_FIBRE_COVERAGE=.*vintage 2024-Q4/);
    for (const field of ['code: String', 'name: String', 'fibre_coverage: Real', 'fibre_coverage_numerator: Real', 'fibre_coverage_denominator: Real']) expect(info).toContain(field);
    // the extent is PostGIS's own reprojection of the outlines
    const { rows } = await sql<{ x0: number; y0: number; x1: number; y1: number }>`
      SELECT ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1
      FROM (SELECT ST_Extent(ST_Transform(geom, 2154))::geometry e FROM territory WHERE level = 'commune') s`.execute(app.database.db);
    const extent = /Extent: \(([\d.]+), ([\d.]+)\) - \(([\d.]+), ([\d.]+)\)/.exec(info)!.slice(1).map(Number);
    expect(extent[0]).toBeCloseTo(rows[0]!.x0, 3);
    expect(extent[3]).toBeCloseTo(rows[0]!.y1, 3);
    const fields = ogrFields((await ogrinfo(file, 'commune', '-where', `code = '${accented.code}'`))!);
    expect(fields.name).toBe(accented.name);
    expect(Number(fields.fibre_coverage)).toBeCloseTo(stats.get(accented.code)!.value!, 12);
    expect(Number(fields.fibre_coverage_denominator)).toBe(stats.get(accented.code)!.denominator);

    await expectSpatialIndex(body, file);

    // another CRS on request
    const mercator = await download(`/api/export/region.gpkg?crs=EPSG:3857&indicators=fibre_coverage`);
    const mercatorInfo = await ogrinfo('-so', mercator.file, 'region');
    expect(mercatorInfo).toMatch(/ID\["EPSG",3857\]\]\s*$/m);
    expect(mercatorInfo).toMatch(/Feature Count: 1\b/);
  });

  it('FlatGeobuf: EPSG:2154, provenance in the header metadata, read by GDAL', async () => {
    const { status, headers, body, file } = await download(`/api/export/epci.fgb?indicators=fibre_coverage&vintage=${earlier}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/flatgeobuf');
    expect(headers.get('content-disposition')).toBe(`attachment; filename="terrinum_epci_fibre_coverage_${earlier}.fgb"`);
    let header: any;
    const features: any[] = [];
    for await (const feature of fgb.deserialize(new Uint8Array(body), { headerMetaFn: (h) => (header = h) })) features.push(feature);
    expect(features).toHaveLength(demo.epcis.length);
    expect(header.crs).toMatchObject({ org: 'EPSG', code: 2154 });
    expect(JSON.parse(header.metadata)).toMatchObject({ generator: 'terrinum', crs: expect.stringMatching(/^EPSG:2154/), indicators: [{ id: 'fibre_coverage', vintage: earlier }] });
    const epciStats = (await getJson(app, `/api/stats/epci?indicator=fibre_coverage&vintage=${earlier}`)).body.rows;
    for (const feature of features) {
      const expected = epciStats.find((r: any) => r.code === feature.properties.code);
      expect(feature.properties.fibre_coverage).toBe(expected.value);
      expect(feature.properties.fibre_coverage_numerator).toBe(expected.numerator);
    }
    const info = await ogrinfo('-so', file, 'epci');
    if (info === null) return;
    expect(info).toMatch(new RegExp(`Feature Count: ${demo.epcis.length}\\b`));
    expect(info).toMatch(/ID\["EPSG",2154\]\]\s*$/m);
    expect(info).toMatch(/^fibre_coverage: Real/m);
    const code = demo.epcis[3]!.code;
    const fields = ogrFields((await ogrinfo(file, 'epci', '-where', `code = '${code}'`))!);
    expect(Number(fields.fibre_coverage)).toBeCloseTo(epciStats.find((r: any) => r.code === code).value, 12);
  });

  it('zipped Shapefile: .prj EPSG:2154, UTF-8 names, short field names mapped in the provenance sidecar', async () => {
    const { status, headers, file } = await download(`/api/export/commune.shp.zip?indicators=fibre_coverage&vintage=${latest}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/zip');
    const base = `terrinum_commune_fibre_coverage_${latest}`;
    expect(headers.get('content-disposition')).toBe(`attachment; filename="${base}.shp.zip"`);
    const info = await ogrinfo('-so', `/vsizip/${file}`, base);
    if (info === null) return;
    expect(info).toMatch(new RegExp(`Feature Count: ${demo.communes.length}\\b`));
    expect(info).toMatch(/^PROJCRS\["RGF93 v1 \/ Lambert-93"/m);
    expect(info).not.toMatch(/BOUNDCRS/);
    for (const field of ['code: String', 'name: String', 'fibre_cove: Real', 'fibre_co_n: Real', 'fibre_co_d: Real']) expect(info).toContain(field);
    const fields = ogrFields((await ogrinfo(`/vsizip/${file}`, base, '-where', `code = '${accented.code}'`))!);
    expect(fields.name).toBe(accented.name);
    expect(Number(fields.fibre_cove)).toBeCloseTo(stats.get(accented.code)!.value!, 9);
    expect(Number(fields.fibre_co_d)).toBe(stats.get(accented.code)!.denominator);
    const sidecar = JSON.parse((await run('unzip', ['-p', file, `${base}.provenance.json`])).stdout);
    expect(sidecar.shapefile_fields).toEqual({ fibre_cove: 'fibre_coverage', fibre_co_n: 'fibre_coverage_numerator', fibre_co_d: 'fibre_coverage_denominator' });
    expect(sidecar.indicators[0]).toMatchObject({ id: 'fibre_coverage', vintage: latest });
  });

  it('answers bad requests with a 4xx problem naming the parameter, never a 5xx', async () => {
    const cases: [string, number, string][] = [
      ['/api/export/commune.xlsx', 400, 'format'],
      ['/api/export/commune', 400, 'format'],
      ['/api/export/nowhere.csv', 404, 'level'],
      ['/api/export/commune.csv?indicator=fibre_coverage', 400, 'indicator'],
      ['/api/export/commune.csv?indicators=nope', 404, 'indicators'],
      ['/api/export/commune.csv?indicators=Bad-Id', 400, 'indicators'],
      ['/api/export/commune.csv?vintage=1999', 404, 'vintage'],
      ['/api/export/commune.csv?vintage=2024-Q5', 400, 'vintage'],
      ['/api/export/commune.csv?within=epci', 400, 'within'],
      ['/api/export/commune.csv?within=epci:NOPE', 404, 'within'],
      ['/api/export/commune.csv?bbox=1,2,3', 400, 'bbox'],
      ['/api/export/commune.csv?bbox=1,2,0,3', 400, 'bbox'],
      ['/api/export/commune.csv?decimal=,', 400, 'decimal'],
      ['/api/export/commune.csv?sep=|', 400, 'sep'],
      ['/api/export/commune.csv?bom=yes', 400, 'bom'],
      ['/api/export/commune.csv?sep=;&sep=,', 400, 'sep'],
      ['/api/export/commune.csv?crs=2154', 400, 'crs'],
      ['/api/export/commune.geojson?crs=2154', 400, 'crs'],
      ['/api/export/commune.gpkg?crs=abc', 400, 'crs'],
      ['/api/export/commune.gpkg?crs=999999', 400, 'crs'],
      // in spatial_ref_sys, but no transformation to it ("No inverse operation"), and a geocentric (3D) system
      ['/api/export/commune.gpkg?crs=3752', 400, 'crs'],
      ['/api/export/commune.fgb?crs=4978', 400, 'crs'],
      ['/api/export/commune.shp.zip?crs=3752', 400, 'crs'],
      ['/api/export/commune.gpkg?precision=3', 400, 'precision'],
      ['/api/export/commune.geojson?precision=16', 400, 'precision'],
      ['/api/export/commune.geojson?precision=-1', 400, 'precision'],
      [`/api/export/commune.geojson?codes=${'X,'.repeat(6000)}`, 400, 'codes'],
    ];
    for (const [url, status, parameter] of cases) {
      const response = await fetch(new URL(url, app.url));
      const body = await response.json();
      expect({ url, status: response.status, type: response.headers.get('content-type'), parameter: body.parameter }).toEqual({
        url,
        status,
        type: 'application/problem+json; charset=utf-8',
        parameter,
      });
      expect(response.headers.get('content-disposition')).toBeNull();
    }
  });
});

/** Twice the signed area of a ring (shoelace): positive when counter-clockwise. */
function signedArea(ring: number[][]): number {
  let sum = 0;
  for (let i = 0; i < ring.length - 1; i++) sum += ring[i]![0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * ring[i]![1]!;
  return sum;
}
