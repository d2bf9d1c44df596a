import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import type { DB } from '../server/db/schema.ts';
import { importBoundaries, type BoundariesOptions } from '../server/import/boundaries.ts';
import { ImportError } from '../server/import/errors.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared/data');
const hasShared = fs.existsSync(SHARED);
if (!hasShared && process.env.CI) throw new Error(`${SHARED} is missing: the real-data boundary tests cannot be skipped under CI`);
if (!hasShared) console.warn(`skipping real-data boundary tests: ${SHARED} not found`);
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
const fixture = (name: string) => path.join(FIXTURES, name);

// IGN ADMIN EXPRESS ships its Lambert-93 .prj as ESRI WKT
const LAMBERT93_PRJ =
  'PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],' +
  'PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],' +
  'PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]';

type Ring = [number, number][];

/** A 1 km square in Lambert-93 metres with its south-west corner at (x, y), clockwise as Shapefile outer rings are. */
const l93Square = (x: number, y: number): Ring => [
  [x, y],
  [x, y + 1000],
  [x + 1000, y + 1000],
  [x + 1000, y],
  [x, y],
];

/** Writes a Polygon Shapefile (.shp, .shx, .dbf with text fields) by hand: the format is small and documented (ESRI 1998). */
function writeShapefile(base: string, records: { fields: Record<string, string>; rings: Ring[] }[], encoding: 'utf8' | 'latin1'): void {
  const contents = records.map(({ rings }) => {
    const points = rings.flat();
    const content = Buffer.alloc(44 + 4 * rings.length + 16 * points.length);
    content.writeInt32LE(5, 0); // Polygon
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)].forEach((v, i) => content.writeDoubleLE(v, 4 + 8 * i));
    content.writeInt32LE(rings.length, 36);
    content.writeInt32LE(points.length, 40);
    let offset = 44;
    let start = 0;
    for (const ring of rings) {
      content.writeInt32LE(start, offset);
      offset += 4;
      start += ring.length;
    }
    for (const [x, y] of points) {
      content.writeDoubleLE(x, offset);
      content.writeDoubleLE(y, offset + 8);
      offset += 16;
    }
    return content;
  });
  const all = records.flatMap((r) => r.rings.flat());
  const header = (bytes: number) => {
    const h = Buffer.alloc(100);
    h.writeInt32BE(9994, 0);
    h.writeInt32BE(bytes / 2, 24); // length in 16-bit words
    h.writeInt32LE(1000, 28);
    h.writeInt32LE(5, 32);
    [Math.min(...all.map((p) => p[0])), Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[0])), Math.max(...all.map((p) => p[1]))].forEach((v, i) => h.writeDoubleLE(v, 36 + 8 * i));
    return h;
  };
  const shpParts: Buffer[] = [];
  const shxParts: Buffer[] = [];
  let offset = 100;
  contents.forEach((content, i) => {
    const recordHeader = Buffer.alloc(8);
    recordHeader.writeInt32BE(i + 1, 0);
    recordHeader.writeInt32BE(content.length / 2, 4);
    shpParts.push(recordHeader, content);
    const index = Buffer.alloc(8);
    index.writeInt32BE(offset / 2, 0);
    index.writeInt32BE(content.length / 2, 4);
    shxParts.push(index);
    offset += 8 + content.length;
  });
  fs.writeFileSync(`${base}.shp`, Buffer.concat([header(offset), ...shpParts]));
  fs.writeFileSync(`${base}.shx`, Buffer.concat([header(100 + 8 * records.length), ...shxParts]));

  const names = Object.keys(records[0]!.fields);
  const lengths = names.map((name) => Math.max(1, ...records.map((r) => Buffer.byteLength(r.fields[name]!, encoding))));
  const headerLength = 32 + 32 * names.length + 1;
  const recordLength = 1 + lengths.reduce((a, b) => a + b, 0);
  const dbf = Buffer.alloc(headerLength + recordLength * records.length + 1, 0x20);
  dbf.fill(0, 0, headerLength);
  dbf.writeUInt8(0x03, 0);
  dbf.writeUInt8(126, 1); // 2026
  dbf.writeUInt8(1, 2);
  dbf.writeUInt8(1, 3);
  dbf.writeUInt32LE(records.length, 4);
  dbf.writeUInt16LE(headerLength, 8);
  dbf.writeUInt16LE(recordLength, 10);
  names.forEach((name, i) => {
    dbf.write(name, 32 + 32 * i, 'ascii');
    dbf.write('C', 32 + 32 * i + 11, 'ascii');
    dbf.writeUInt8(lengths[i]!, 32 + 32 * i + 16);
  });
  dbf.writeUInt8(0x0d, headerLength - 1);
  records.forEach((record, r) => {
    let at = headerLength + r * recordLength + 1; // after the deletion flag (a space)
    names.forEach((name, i) => {
      dbf.write(record.fields[name]!, at, encoding);
      at += lengths[i]!;
    });
  });
  dbf.writeUInt8(0x1a, dbf.length - 1);
  fs.writeFileSync(`${base}.dbf`, dbf);
}

/** Little-endian WKB of a Polygon (type 3) or MultiPolygon (type 6). */
function wkb(polygons: Ring[][], multi: boolean): Buffer {
  const polygon = (rings: Ring[]) => {
    const parts = [Buffer.from([1]), u32(3), u32(rings.length)];
    for (const ring of rings) {
      parts.push(u32(ring.length));
      for (const [x, y] of ring) parts.push(f64(x), f64(y));
    }
    return Buffer.concat(parts);
  };
  return multi ? Buffer.concat([Buffer.from([1]), u32(6), u32(polygons.length), ...polygons.map(polygon)]) : polygon(polygons[0]!);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const f64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return b;
};

/** GeoPackage geometry blob: "GP", version 0, flags (bit 0 little-endian, bits 1–3 envelope kind), srs_id, envelope, WKB. */
function gpkgBlob(geometry: Buffer, srsId: number, envelope: [number, number, number, number] | null): Buffer {
  const header = Buffer.alloc(8);
  header.write('GP', 0, 'ascii');
  header.writeUInt8(0, 2);
  header.writeUInt8(1 | ((envelope ? 1 : 0) << 1), 3);
  header.writeInt32LE(srsId, 4);
  return Buffer.concat([header, ...(envelope ?? []).map(f64), geometry]);
}

/** A minimal GeoPackage: the three gpkg_ tables and one feature table `commune` in Lambert-93 (srs_id 2154). */
async function writeGeoPackage(file: string, rows: { code: string; name: string; blob: Buffer }[]): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`
    PRAGMA application_id = 1196444487;
    CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
      organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
    INSERT INTO gpkg_spatial_ref_sys VALUES
      ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
      ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL),
      ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]', NULL),
      ('RGF93 v1 / Lambert-93', 2154, 'EPSG', 2154, '${LAMBERT93_PRJ}', NULL);
    CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
      last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
    CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
      z TINYINT NOT NULL, m TINYINT NOT NULL, PRIMARY KEY (table_name, column_name));
    CREATE TABLE commune (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, INSEE_COM TEXT, NOM TEXT);
    INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('commune', 'features', 'commune', 2154);
    INSERT INTO gpkg_geometry_columns VALUES ('commune', 'geom', 'MULTIPOLYGON', 2154, 0, 0);
  `);
  for (const row of rows) db.run('INSERT INTO commune (geom, INSEE_COM, NOM) VALUES (?, ?, ?)', [row.blob, row.code, row.name]);
  fs.writeFileSync(file, db.export());
  db.close();
}

/** Counts and a checksum of every territory row, sources, rejects, memberships and the data version. */
async function snapshot(db: Kysely<DB>) {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT (SELECT count(*) FROM territory) AS territories,
           (SELECT md5(coalesce(string_agg(concat_ws('|', level, code, name, population, synthetic, md5(ST_AsEWKB(geom)), area_m2, geom_dissolved, source_id), ',' ORDER BY level, code), ''))
            FROM territory) AS checksum,
           (SELECT count(*) FROM source) AS sources,
           (SELECT count(*) FROM import_reject) AS rejects,
           (SELECT count(*) FROM territory_member) AS memberships,
           (SELECT version FROM data_version) AS version`.execute(db);
  return rows[0];
}

/** The vertex of a territory nearest to a point, in degrees. */
async function nearestVertex(db: Kysely<DB>, code: string, lon: number, lat: number): Promise<{ x: number; y: number }> {
  const { rows } = await sql<{ x: number; y: number }>`
    SELECT ST_X(d.geom) AS x, ST_Y(d.geom) AS y
    FROM territory t, ST_DumpPoints(t.geom) AS d
    WHERE t.level = 'commune' AND t.code = ${code}
    ORDER BY d.geom <-> ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326) LIMIT 1`.execute(db);
  return rows[0]!;
}

async function commune(db: Kysely<DB>, code: string) {
  return db
    .selectFrom('territory')
    .select(['code', 'name', 'area_m2', 'geom_dissolved', sql<string>`ST_GeometryType(geom)`.as('type'), sql<number>`ST_SRID(geom)`.as('srid'), sql<boolean>`ST_IsValid(geom)`.as('valid'), sql<number>`ST_NumGeometries(geom)`.as('parts')])
    .where('level', '=', 'commune')
    .where('code', '=', code)
    .executeTakeFirst();
}

describe.each(backends())('import boundaries on %s', (backend) => {
  let database: Database;
  let db: Kysely<DB>;
  let tmp: string;
  const load = (file: string, options: Partial<BoundariesOptions> = {}) => importBoundaries(database, file, { level: 'commune', ...options });

  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    db = database.db;
    await migrate(database);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-boundaries-'));
  });
  afterAll(async () => {
    await database?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('removes the synthetic demo territory and keeps quotes and accents in names', async () => {
    const { loadDemo } = await import('../server/demo/load.ts');
    await loadDemo(db);
    expect((await db.selectFrom('territory').select('id').where('synthetic', '=', true).execute()).length).toBeGreaterThan(300);

    const report = await load(fixture('boundaries-quotes-accents.geojson'));
    expect(report).toMatchObject({ read: 3, imported: 3, repaired: 0, reconciled: 0, rejected: 0 });
    expect(report.notes).toContain('the synthetic demonstration territory was removed: real territories are being imported');
    expect(await db.selectFrom('territory').select('id').where('synthetic', '=', true).execute()).toHaveLength(0);
    expect(await db.selectFrom('source').select('id').where('synthetic', '=', true).execute()).toHaveLength(0);
    // INSEE_COM/NOM_COM found by the defaults; names stored as written
    const names = await db.selectFrom('territory').select(['code', 'name']).where('level', '=', 'commune').orderBy('code').execute();
    expect(names).toEqual([
      { code: '80065', name: 'Beaucourt-sur-l\'Ancre "le Bourg"' },
      { code: '80147', name: "Buigny-l'Abbé — çà œ Ÿ" },
      { code: '80263', name: "L'Échelle-Saint-Aurin" },
    ]);
    // a 0.01° square at 50°N: 0.01° of latitude ≈ 1,112 m, of longitude ≈ 1,112 × cos 50° ≈ 716 m
    const square = await commune(db, '80263');
    expect(square).toMatchObject({ type: 'ST_MultiPolygon', srid: 4326, valid: true, geom_dissolved: false });
    expect(square!.area_m2! / 1e6).toBeCloseTo(0.797, 2);
  });

  it('rebuilds contiguity and tile outlines when outlines are imported again (memberships unchanged)', async () => {
    const pairs = async () =>
      (
        await sql<{ pair: string }>`
          SELECT a.code || '-' || b.code AS pair FROM territory_neighbour n
          JOIN territory a ON a.id = n.territory_id JOIN territory b ON b.id = n.neighbour_id
          WHERE a.code < b.code ORDER BY 1`.execute(db)
      ).rows.map((r) => r.pair);
    const tileCentre = async (code: string) =>
      (
        await sql<{ x: number }>`
          SELECT ST_X(ST_Transform(ST_Centroid(g.geom), 4326)) AS x FROM tile_geometry g JOIN territory t ON t.id = g.territory_id
          WHERE t.code = ${code} AND t.level = 'commune' ORDER BY g.band DESC LIMIT 1`.execute(db)
      ).rows[0]?.x;
    // the three squares of the previous test sit side by side, west to east: 80263 | 80065 | 80147
    expect(await pairs()).toEqual(['80065-80147', '80065-80263']);
    expect(await tileCentre('80065')).toBeCloseTo(2.015, 4);

    // the same file (so the same source, replaced) with 80065 moved 0.5° east, away from both others
    const features = JSON.parse(fs.readFileSync(fixture('boundaries-quotes-accents.geojson'), 'utf8'));
    const moved = features.features.find((f: { properties: { INSEE_COM: string } }) => f.properties.INSEE_COM === '80065');
    moved.geometry.coordinates = [[[2.51, 50.0], [2.52, 50.0], [2.52, 50.01], [2.51, 50.01], [2.51, 50.0]]];
    const file = path.join(tmp, 'boundaries-quotes-accents.geojson');
    fs.writeFileSync(file, JSON.stringify(features));
    expect(await load(file)).toMatchObject({ read: 3, imported: 3 });
    expect(await pairs()).toEqual([]);
    expect(await tileCentre('80065')).toBeCloseTo(2.515, 4);
  });

  it('repairs a self-intersecting (bow-tie) polygon into its two triangles', async () => {
    const report = await load(fixture('boundaries-bowtie.geojson'));
    expect(report).toMatchObject({ read: 1, imported: 1, repaired: 1 });
    const bowtie = await commune(db, '80001');
    expect(bowtie).toMatchObject({ type: 'ST_MultiPolygon', valid: true, parts: 2 });
    // the two triangles, each built on its own
    const { rows } = await sql<{ area: number }>`
      SELECT ST_Area(ST_GeomFromText('POLYGON((2 50.1,2.01 50.11,2 50.12,2 50.1))', 4326)::geography)
           + ST_Area(ST_GeomFromText('POLYGON((2.02 50.1,2.02 50.12,2.01 50.11,2.02 50.1))', 4326)::geography) AS area`.execute(db);
    expect(bowtie!.area_m2! / rows[0]!.area).toBeCloseTo(1, 6);
  });

  it('unions a commune merged since the file was made into the commune that absorbed it, with its current name', async () => {
    const report = await load(fixture('boundaries-merged-commune.geojson'));
    expect(report).toMatchObject({ read: 2, imported: 1, reconciled: 1 });
    const merged = await commune(db, '80436');
    expect(merged).toMatchObject({ name: 'Hescamps', parts: 1, valid: true });
    expect(await commune(db, '80007')).toBeUndefined();
    // two adjacent 0.01° squares: one 0.02° × 0.01° rectangle
    const { rows } = await sql<{ area: number }>`SELECT ST_Area(ST_MakeEnvelope(2.0, 50.2, 2.02, 50.21, 4326)::geography) AS area`.execute(db);
    expect(merged!.area_m2! / rows[0]!.area).toBeCloseTo(1, 6);
  });

  const malformed: [string, RegExp][] = [
    ['boundaries-truncated.geojson', /^boundaries-truncated\.geojson, feature 3: not readable GeoJSON/],
    ['boundaries-null-geometry.geojson', /^boundaries-null-geometry\.geojson, feature 3: expected a Polygon or MultiPolygon, found a null geometry/],
    ['boundaries-empty-geometry.geojson', /^boundaries-empty-geometry\.geojson, feature 3: expected a polygon with an area, found an empty geometry/],
    ['boundaries-degenerate-polygon.geojson', /^boundaries-degenerate-polygon\.geojson, feature 3: expected a polygon with an area/],
    ['boundaries-linestring.geojson', /^boundaries-linestring\.geojson, feature 3: expected a Polygon or MultiPolygon, found a LineString/],
    ['boundaries-unclosed-ring.geojson', /^boundaries-unclosed-ring\.geojson, feature 3: expected a closed ring/],
    ['boundaries-missing-code.geojson', /^boundaries-missing-code\.geojson, feature 3, column "code": expected a commune code, found no value/],
    ['boundaries-unplaced-code.geojson', /^boundaries-unplaced-code\.geojson, column "code": 1 code\(s\) match no current commune nor a commune merged since: 80999 \(feature 2\); nothing was imported — use --keep-unplaced/],
    ['boundaries-empty-collection.geojson', /^boundaries-empty-collection\.geojson: expected at least one feature, found none/],
    ['boundaries-empty-file.geojson', /boundaries-empty-file\.geojson: the file is empty/],
  ];
  it.each(malformed)('fails on %s naming the feature, leaving the database as it was', async (name, message) => {
    const before = await snapshot(db);
    // one feature per staging statement: the bad feature comes after staged ones
    const error = await load(fixture(name), { batchSize: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message).toMatch(message);
    expect(await snapshot(db)).toEqual(before);
  });

  it('names the available properties when the code field is missing', async () => {
    const before = await snapshot(db);
    await expect(load(fixture('boundaries-quotes-accents.geojson'), { codeField: 'CODE' })).rejects.toThrow(
      /feature 1, column "CODE": no property "CODE"; the properties are INSEE_COM, NOM_COM: choose one with --code-field/,
    );
    expect(await snapshot(db)).toEqual(before);
  });

  it('keeps unplaced codes as rejects with --keep-unplaced', async () => {
    const report = await load(fixture('boundaries-unplaced-code.geojson'), { keepUnplaced: true });
    expect(report).toMatchObject({ read: 2, imported: 1, rejected: 1 });
    expect(report.rejects).toEqual([{ code: '80999', reason: 'feature 2: 80999 matches no current commune' }]);
    const rejects = await db.selectFrom('import_reject').select(['code', 'source_id']).execute();
    expect(rejects).toEqual([{ code: '80999', source_id: report.sourceId }]);
    expect(await commune(db, '80005')).toMatchObject({ valid: true });
  });

  it('reprojects a GeoJSON with a legacy Lambert-93 crs member', async () => {
    const report = await load(fixture('boundaries-crs-2154.geojson'));
    expect(report.notes).toContain('reprojected from EPSG:2154 to EPSG:4326');
    // the Lambert-93 origin (700000, 6600000) is 3°E, 46.5°N by definition
    const corner = await nearestVertex(db, '03190', 3, 46.5);
    expect(Math.abs(corner.x - 3)).toBeLessThan(1e-6);
    expect(Math.abs(corner.y - 46.5)).toBeLessThan(1e-6);
    // 1 km² in Lambert-93, whose scale factor near 46.5°N is about 0.9990: ≈ 1.002 km² on the ellipsoid
    expect((await commune(db, '03190'))!.area_m2! / 1e6).toBeCloseTo(1.002, 2);
  });

  it('reads a Lambert-93 Shapefile through its ESRI .prj, decoding a UTF-8 .dbf', async () => {
    const base = path.join(tmp, 'COMMUNE');
    writeShapefile(
      base,
      [
        { fields: { ID: 'COMMUNE_1', NOM: 'Ainay-le-Château', INSEE_COM: '03003' }, rings: [l93Square(700000, 6600000)] },
        { fields: { ID: 'COMMUNE_2', NOM: "Bourbon-l'Archambault", INSEE_COM: '03036' }, rings: [l93Square(702000, 6600000)] },
      ],
      'utf8',
    );
    fs.writeFileSync(`${base}.prj`, LAMBERT93_PRJ);
    fs.writeFileSync(`${base}.cpg`, 'UTF-8');
    const report = await load(`${base}.shp`, { vintage: '2024' });
    expect(report).toMatchObject({ read: 2, imported: 2, repaired: 0 });
    expect(report.notes).toContain('reprojected from COMMUNE.prj to EPSG:4326');
    expect((await commune(db, '03003'))!.name).toBe('Ainay-le-Château');
    expect((await commune(db, '03036'))!.name).toBe("Bourbon-l'Archambault");
    const corner = await nearestVertex(db, '03003', 3, 46.5);
    expect(Math.abs(corner.x - 3)).toBeLessThan(1e-6);
    expect(Math.abs(corner.y - 46.5)).toBeLessThan(1e-6);
    expect((await commune(db, '03036'))!.area_m2! / 1e6).toBeCloseTo(1.002, 2);
    const source = await db.selectFrom('source').select(['kind', 'name', 'vintage']).where('id', '=', report.sourceId!).executeTakeFirstOrThrow();
    expect(source).toEqual({ kind: 'boundaries', name: 'COMMUNE.shp', vintage: '2024' });
  });

  it('decodes an ISO-8859-1 .dbf as its .cpg says', async () => {
    const base = path.join(tmp, 'latin1');
    writeShapefile(base, [{ fields: { INSEE_COM: '03021', NOM: 'Bègues' }, rings: [l93Square(704000, 6600000)] }, { fields: { INSEE_COM: '03027', NOM: 'Bézenet' }, rings: [l93Square(706000, 6600000)] }], 'latin1');
    fs.writeFileSync(`${base}.prj`, LAMBERT93_PRJ);
    fs.writeFileSync(`${base}.cpg`, 'ISO-8859-1');
    await load(`${base}.shp`);
    expect((await commune(db, '03021'))!.name).toBe('Bègues');
    expect((await commune(db, '03027'))!.name).toBe('Bézenet');
  });

  it('refuses a Shapefile without .prj, naming the missing file, unless --crs is given', async () => {
    const base = path.join(tmp, 'sans_prj');
    writeShapefile(base, [{ fields: { INSEE_COM: '03034', NOM: 'Boucé' }, rings: [l93Square(700000, 6600000)] }], 'utf8');
    const before = await snapshot(db);
    await expect(load(`${base}.shp`)).rejects.toThrow(/^sans_prj\.shp: the coordinate system file sans_prj\.prj is missing: add it, or give --crs EPSG:NNNN/);
    expect(await snapshot(db)).toEqual(before);
    const report = await load(`${base}.shp`, { crs: 'EPSG:2154' });
    expect(report.notes).toContain('reprojected from EPSG:2154 to EPSG:4326');
    const corner = await nearestVertex(db, '03034', 3, 46.5);
    expect(Math.abs(corner.x - 3)).toBeLessThan(1e-6);
    expect(Math.abs(corner.y - 46.5)).toBeLessThan(1e-6);
  });

  it('reads a GeoPackage layer in Lambert-93, with and without an envelope in the geometry header', async () => {
    const file = path.join(tmp, 'communes.gpkg');
    // one MultiPolygon with an xy envelope in its header, one Polygon without envelope
    await writeGeoPackage(file, [
      { code: '03046', name: 'Buxières-les-Mines', blob: gpkgBlob(wkb([[l93Square(700000, 6600000)]], true), 2154, [700000, 701000, 6600000, 6601000]) },
      { code: '03048', name: 'Cérilly', blob: gpkgBlob(wkb([[l93Square(710000, 6610000)]], false), 2154, null) },
    ]);
    const report = await load(file);
    expect(report).toMatchObject({ read: 2, imported: 2, repaired: 0 });
    expect(report.notes).toContain('reprojected from EPSG:2154 to EPSG:4326');
    expect(await commune(db, '03046')).toMatchObject({ name: 'Buxières-les-Mines', type: 'ST_MultiPolygon', valid: true });
    const corner = await nearestVertex(db, '03046', 3, 46.5);
    expect(Math.abs(corner.x - 3)).toBeLessThan(1e-6);
    expect(Math.abs(corner.y - 46.5)).toBeLessThan(1e-6);
    // (710000, 6610000) and (700000, 6600000) reproject alike through both paths: EPSG code here, the .prj above
    const { rows } = await sql<{ x: number; y: number }>`
      SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_Transform(ST_MakePoint(710000, 6610000), ${LAMBERT93_PRJ}::text, 4326) AS p) q`.execute(db);
    const sw = await nearestVertex(db, '03048', rows[0]!.x, rows[0]!.y);
    expect(Math.abs(sw.x - rows[0]!.x)).toBeLessThan(1e-9);
    expect(Math.abs(sw.y - rows[0]!.y)).toBeLessThan(1e-9);
    expect((await commune(db, '03048'))!.area_m2! / 1e6).toBeCloseTo(1.002, 2);
  });

  it('names the GeoPackage feature whose WKB PostGIS cannot read, leaving the database as it was', async () => {
    const file = path.join(tmp, 'broken-wkb.gpkg');
    const good = gpkgBlob(wkb([[l93Square(720000, 6620000)]], false), 2154, null);
    await writeGeoPackage(file, [
      { code: '03050', name: 'La Chabanne', blob: good },
      // the WKB announces 5 points and holds 2
      { code: '03052', name: 'Chamblet', blob: good.subarray(0, good.length - 48) },
      { code: '03054', name: 'Chapeau', blob: good },
    ]);
    const before = await snapshot(db);
    await expect(load(file)).rejects.toThrow(/^broken-wkb\.gpkg, feature 2: PostGIS could not read, reproject or repair this geometry/);
    expect(await snapshot(db)).toEqual(before);
  });

  describe.skipIf(!hasShared)('real data (../shared/data, COG 2018)', () => {
    const geo = (name: string) => path.join(SHARED, 'geo', name);
    const features = (name: string) =>
      (JSON.parse(fs.readFileSync(geo(name), 'utf8')) as { features: { properties: { code: string }; geometry: object }[] }).features;

    it('imports the Aisne and Pas-de-Calais communes onto the current COG', async () => {
      for (const [file, read, imported, reconciled] of [
        ['communes-02-aisne.geojson', 804, 797, 7],
        ['communes-62-pas-de-calais.geojson', 891, 887, 4],
      ] as const) {
        const report = await load(geo(file));
        expect(report).toMatchObject({ read, imported, reconciled, repaired: 0, rejected: 0 });
        console.info(`${backend}: ${file}: ${Math.round((report.read / report.elapsedMs) * 1000)} features/s (${report.elapsedMs} ms)`);
      }
      const { rows } = await sql<{ dep: string; communes: number; km2: number; valid: boolean; multi: boolean }>`
        SELECT left(code, 2) AS dep, count(*)::integer AS communes, sum(area_m2) / 1e6 AS km2,
               bool_and(ST_IsValid(geom)) AS valid, bool_and(ST_GeometryType(geom) = 'ST_MultiPolygon' AND ST_SRID(geom) = 4326) AS multi
        FROM territory WHERE level = 'commune' AND left(code, 2) IN ('02', '62') AND geom IS NOT NULL
        GROUP BY 1 ORDER BY 1`.execute(db);
      expect(rows.map((r) => [r.dep, r.communes, r.valid, r.multi])).toEqual([
        ['02', 797, true, true],
        ['62', 887, true, true],
      ]);
      // Aisne: 7,362 km² (INSEE); the simplified 2018 outlines stay within 1 %
      expect(Math.abs(rows[0]!.km2 / 7362 - 1)).toBeLessThan(0.01);
      // the 2018 codes merged since (SOURCES.md) are no communes of their own
      const merged = ['02077', '02301', '02311', '02434', '02475', '02695', '02733', '62210', '62461', '62549', '62743'];
      expect(await db.selectFrom('territory').select('code').where('level', '=', 'commune').where('code', 'in', merged).execute()).toHaveLength(0);
    });

    it('gives Cessières-Suzy the area of the 2018 Cessières and Suzy together', async () => {
      const parts = features('communes-02-aisne.geojson').filter((f) => ['02153', '02733'].includes(f.properties.code));
      expect(parts).toHaveLength(2);
      const { rows } = await sql<{ area: number }>`
        SELECT sum(ST_Area(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)::geography)) AS area
        FROM unnest(${parts.map((p) => JSON.stringify(p.geometry))}::text[]) AS g`.execute(db);
      const cessieres = await commune(db, '02153');
      expect(cessieres).toMatchObject({ name: 'Cessières-Suzy', valid: true });
      expect(Math.abs(cessieres!.area_m2! / rows[0]!.area - 1)).toBeLessThan(0.001);
    });

    it('replaces a re-imported file with the same counts and areas', async () => {
      const areas = () =>
        db.selectFrom('territory').select(['code', 'area_m2']).where('level', '=', 'commune').where('code', 'like', '02%').orderBy('code').execute();
      const before = await areas();
      const sources = await db.selectFrom('source').select('id').execute();
      const report = await load(geo('communes-02-aisne.geojson'));
      expect(report).toMatchObject({ read: 804, imported: 797, reconciled: 7 });
      const after = await areas();
      expect(after.length).toBe(797);
      expect(after.map((a) => a.code)).toEqual(before.map((b) => b.code));
      after.forEach((a, i) => expect(a.area_m2! / before[i]!.area_m2!).toBeCloseTo(1, 9));
      expect(await db.selectFrom('source').select('id').execute()).toHaveLength(sources.length);
    });

    it('imports département outlines as outlines of their own', async () => {
      const report = await importBoundaries(database, geo('departements.geojson'), { level: 'departement' });
      expect(report).toMatchObject({ read: 96, imported: 96, rejected: 0 });
      const aisne = await db.selectFrom('territory').select(['name', 'area_m2', 'geom_dissolved']).where('level', '=', 'departement').where('code', '=', '02').executeTakeFirstOrThrow();
      expect(aisne).toMatchObject({ name: 'Aisne', geom_dissolved: false });
      expect(Math.abs(aisne.area_m2! / 1e6 / 7362 - 1)).toBeLessThan(0.01);
    });

    it('fails on the 2018 EPCI that no longer exists, or keeps it aside with --keep-unplaced', async () => {
      const before = await snapshot(db);
      await expect(importBoundaries(database, geo('epci-2018-02-62.geojson'), { level: 'epci' })).rejects.toThrow(/1 code\(s\) match no current epci: 246201149 \(feature \d+\); nothing was imported/);
      expect(await snapshot(db)).toEqual(before);
      const report = await importBoundaries(database, geo('epci-2018-02-62.geojson'), { level: 'epci', keepUnplaced: true });
      expect(report).toMatchObject({ read: 40, imported: 39, rejected: 1 });
      expect(report.rejects[0]!.code).toBe('246201149');
    });

    it('keeps imported outlines through import hierarchy and re-dissolves coarser outlines after a commune import', async () => {
      const { importHierarchy } = await import('../server/import/hierarchy.ts');
      await importHierarchy(database);
      const territory = (level: string, code: string) =>
        db.selectFrom('territory').select(['area_m2', 'geom_dissolved']).where('level', '=', level).where('code', '=', code).executeTakeFirstOrThrow();
      expect(await territory('departement', '02')).toMatchObject({ geom_dissolved: false });
      expect(await territory('epci', '200043495')).toMatchObject({ geom_dissolved: false });
      expect((await commune(db, '02153'))!.area_m2).toBeGreaterThan(0);
      // Hauts-de-France (32) has no imported outline: dissolved from the member communes that have one
      const before = await territory('region', '32');
      expect(before.geom_dissolved).toBe(true);
      // a commune of the Somme (region 32) far from the others: the region grows by exactly its square
      const file = path.join(tmp, 'aigneville.geojson');
      fs.writeFileSync(
        file,
        JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { code: '80008', nom: 'Aigneville' }, geometry: { type: 'Polygon', coordinates: [[[1.5, 50.9], [1.51, 50.9], [1.51, 50.91], [1.5, 50.91], [1.5, 50.9]]] } }] }),
      );
      const square = (await load(file)) && (await commune(db, '80008'))!.area_m2!;
      const after = await territory('region', '32');
      expect(after.geom_dissolved).toBe(true);
      expect((after.area_m2! - before.area_m2!) / square).toBeCloseTo(1, 4);
    });
  });
});
