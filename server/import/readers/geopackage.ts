import fs from 'node:fs';
import path from 'node:path';
import initSqlJs, { type Database as SqliteDatabase, type SqlValue } from 'sql.js';
import { ImportError } from '../errors.ts';
import { WGS84, type FeatureRecord, type FeatureSource, type SourceCrs, type WkbGeometry } from './feature-source.ts';

export interface GeoPackageOptions {
  /** The feature table to read when the GeoPackage holds several. */
  layer?: string;
  /** Overrides the coordinate system the GeoPackage declares. */
  crs?: SourceCrs;
}

interface Layer {
  table: string;
  column: string;
  srsId: number;
}

/**
 * Reads the features of one GeoPackage layer with sql.js (SQLite in WebAssembly). sql.js works on an
 * in-memory copy, so the whole .gpkg is loaded; features are then read row by row. Geometries stay WKB for
 * PostGIS: the GeoPackage header before the WKB is stripped.
 */
export async function openGeoPackage(file: string, options: GeoPackageOptions = {}): Promise<FeatureSource> {
  const fileName = path.basename(file);
  const bytes = fs.readFileSync(file);
  if (bytes.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') throw new ImportError({ file: fileName }, 'not a GeoPackage: expected an SQLite file');
  const SQL = await initSqlJs();
  const db = new SQL.Database(bytes);
  try {
    const layer = chooseLayer(fileName, db, options.layer);
    const crs = options.crs ?? readCrs(fileName, db, layer.srsId);
    return {
      crs,
      async *[Symbol.asyncIterator]() {
        yield* readFeatures(fileName, db, layer);
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

function query(db: SqliteDatabase, text: string, parameters: SqlValue[] = []): Record<string, SqlValue>[] {
  const statement = db.prepare(text, parameters);
  const rows: Record<string, SqlValue>[] = [];
  while (statement.step()) rows.push(statement.getAsObject());
  statement.free();
  return rows;
}

function chooseLayer(fileName: string, db: SqliteDatabase, wanted: string | undefined): Layer {
  let layers: Layer[];
  try {
    layers = query(
      db,
      `SELECT c.table_name AS "table", g.column_name AS "column", g.srs_id AS "srsId"
       FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
       WHERE c.data_type = 'features' ORDER BY c.table_name`,
    ) as unknown as Layer[];
  } catch (error) {
    throw new ImportError({ file: fileName }, `not a GeoPackage (no gpkg_contents/gpkg_geometry_columns tables): ${(error as Error).message}`);
  }
  const names = layers.map((l) => l.table);
  if (wanted !== undefined) {
    const layer = layers.find((l) => l.table === wanted);
    if (!layer) throw new ImportError({ file: fileName }, `no feature layer "${wanted}": the layers are ${names.join(', ') || 'none'}`);
    return layer;
  }
  if (layers.length !== 1) throw new ImportError({ file: fileName }, layers.length ? `several feature layers (${names.join(', ')}): choose one with --layer` : 'no feature layer in gpkg_contents');
  return layers[0]!;
}

/** The layer's SRS: the EPSG code when the organisation is EPSG, else its WKT definition. */
function readCrs(fileName: string, db: SqliteDatabase, srsId: number): SourceCrs | null {
  const [srs] = query(db, 'SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?', [srsId]);
  // GeoPackage reserves 0 for "undefined geographic" (taken as WGS84) and -1 for "undefined Cartesian"
  if (srsId === 0) return WGS84;
  if (!srs || srsId === -1) return null;
  const organization = String(srs.organization ?? '').toUpperCase();
  const code = Number(srs.organization_coordsys_id);
  if (organization === 'EPSG' && Number.isInteger(code) && code > 0) return { srid: code, label: `EPSG:${code}` };
  const definition = String(srs.definition ?? '').trim();
  if (!definition || definition.toLowerCase() === 'undefined') throw new ImportError({ file: fileName }, `the coordinate system ${srsId} has no EPSG code nor definition in gpkg_spatial_ref_sys: give --crs EPSG:NNNN`);
  return { definition, label: `${organization || 'srs'}:${code}` };
}

function* readFeatures(fileName: string, db: SqliteDatabase, layer: Layer): Generator<FeatureRecord> {
  const statement = db.prepare(`SELECT * FROM "${layer.table.replace(/"/g, '""')}"`);
  let index = 0;
  try {
    while (statement.step()) {
      index += 1;
      const row = statement.getAsObject();
      const { [layer.column]: blob, ...properties } = row;
      yield { index, properties, geometry: blob === null || blob === undefined ? null : parseGeoPackageBlob(fileName, index, layer.column, blob) };
    }
  } finally {
    statement.free();
    db.close();
  }
}

/**
 * GeoPackage binary geometry: "GP", version, flags, srs_id (int32), an optional envelope, then standard WKB.
 * Flags: bit 0 byte order of the header, bits 1–3 the envelope kind (0 none, 1 xy = 32 bytes, 2 xyz and
 * 3 xym = 48 bytes, 4 xyzm = 64 bytes), bit 4 empty geometry.
 */
export function parseGeoPackageBlob(fileName: string, index: number, column: string, blob: SqlValue): WkbGeometry {
  if (!(blob instanceof Uint8Array) || blob.length < 8 || blob[0] !== 0x47 || blob[1] !== 0x50) {
    throw new ImportError({ file: fileName, feature: index, column }, 'expected a GeoPackage geometry blob starting with "GP"');
  }
  const flags = blob[3]!;
  const envelopeBytes = [0, 32, 48, 48, 64][(flags >> 1) & 0b111];
  if (envelopeBytes === undefined) throw new ImportError({ file: fileName, feature: index, column }, `invalid envelope kind ${(flags >> 1) & 0b111} in the geometry header`);
  const wkb = blob.subarray(8 + envelopeBytes);
  if (wkb.length < 5) throw new ImportError({ file: fileName, feature: index, column }, 'the geometry blob holds no WKB after its header');
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  const rawType = view.getUint32(1, wkb[0] === 1);
  // ISO WKB adds 1000/2000/3000 for Z/M/ZM; EWKB-style writers set the high bits instead
  const wkbType = (rawType & 0x0fffffff) % 1000;
  return { type: 'wkb', hex: Buffer.from(wkb).toString('hex'), wkbType };
}
