import sqlite3InitModule, { type Database as SqliteDatabase } from '@sqlite.org/sqlite-wasm';
import type { FeatureRow } from '../repositories/features.repository.ts';
import { indicatorFields, type ExportIndicator } from './features.ts';
import { provenanceLines, type Provenance } from './provenance.ts';

/**
 * Writes an OGC GeoPackage (OGC 12-128r18; declared 1.3.1, see GPKG_USER_VERSION) with the official SQLite WebAssembly
 * build (@sqlite.org/sqlite-wasm): no GDAL and no native module, so it works the same on every machine and both
 * backends; unlike sql.js it has the R*Tree module. One feature table, the mandatory gpkg_spatial_ref_sys /
 * gpkg_contents / gpkg_geometry_columns, the spatial index (gpkg_rtree_index extension, Annex F.3) that GDAL and
 * QGIS use for bounding-box filters instead of reading every geometry, and the provenance through the metadata
 * extension (gpkg_metadata + gpkg_metadata_reference): once as JSON, once in GDAL's XML layout so that `ogrinfo`
 * and QGIS show it as layer metadata.
 */

/** 'GPKG' as a big-endian 32-bit integer, for PRAGMA application_id. */
export const GPKG_APPLICATION_ID = 0x47504b47;
/**
 * GeoPackage 1.3.1 (10300). Nothing written here is specific to 1.4, and GDAL before 3.7 (QGIS 3.28 on Debian 12)
 * warns that a 1.4 file "may only be partially supported".
 */
export const GPKG_USER_VERSION = 10300;
const PROVENANCE_URI = 'https://terrinum.invalid/provenance/1';

let sqlite: ReturnType<typeof sqlite3InitModule> | undefined;

export interface GeoPackageOptions {
  /** Feature table (layer) name. */
  table: string;
  identifier: string;
  description: string;
  srid: number;
  /** WKT of `srid` and of EPSG:4326 (mandatory in every GeoPackage), from PostGIS's spatial_ref_sys. */
  wkt: string;
  wkt4326: string;
  indicators: readonly ExportIndicator[];
  provenance: Provenance;
}

/** Builds the file from batches of WKB features; returns its bytes. */
export async function buildGeoPackage(batches: AsyncIterable<FeatureRow[]>, options: GeoPackageOptions): Promise<Uint8Array> {
  const sqlite3 = await (sqlite ??= sqlite3InitModule());
  const db = new sqlite3.oo1.DB(':memory:');
  try {
    createCoreTables(db, options);
    const columns = options.indicators.flatMap((i) => Object.values(indicatorFields(i.id)));
    const table = quoteId(options.table);
    const rtree = quoteId(`rtree_${options.table}_geom`);
    db.exec(
      `CREATE TABLE ${table} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON, code TEXT NOT NULL, name TEXT NOT NULL${columns
        .map((c) => `, ${quoteId(c)} REAL`)
        .join('')})`,
    );
    db.exec(`CREATE VIRTUAL TABLE ${rtree} USING rtree(id, minx, maxx, miny, maxy)`);
    const insert = db.prepare(`INSERT INTO ${table} (fid, geom, code, name${columns.map((c) => `, ${quoteId(c)}`).join('')}) VALUES (?, ?, ?, ?${', ?'.repeat(columns.length)})`);
    // the index is filled from the envelope PostGIS computed, as the spec's "load spatial index values" statement
    // would from ST_MinX(geom)…: those functions are GDAL's and SpatiaLite's, not SQLite's
    const index = db.prepare(`INSERT INTO ${rtree} (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)`);
    const extent = [Infinity, Infinity, -Infinity, -Infinity];
    let fid = 0;
    try {
      db.exec('BEGIN');
      for await (const batch of batches) {
        for (const row of batch) {
          fid += 1;
          let blob: Uint8Array | null = null;
          if (row.geometry instanceof Uint8Array && row.envelope) {
            const [minX, minY, maxX, maxY] = row.envelope;
            blob = geoPackageBinary(options.srid, row.envelope, row.geometry);
            index.bind([fid, minX, maxX, minY, maxY]).stepReset();
            extent[0] = Math.min(extent[0]!, minX);
            extent[1] = Math.min(extent[1]!, minY);
            extent[2] = Math.max(extent[2]!, maxX);
            extent[3] = Math.max(extent[3]!, maxY);
          }
          insert.bind([fid, blob, row.code, row.name, ...row.values.flatMap((v) => [v.value, v.numerator, v.denominator])]).stepReset();
        }
      }
      db.exec('COMMIT');
    } finally {
      insert.finalize();
      index.finalize();
    }
    const hasExtent = Number.isFinite(extent[0]);
    db.exec({
      sql: `INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
       VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)`,
      bind: [options.table, options.identifier, options.description, options.provenance.generated_at, ...(hasExtent ? extent : [null, null, null, null]), options.srid],
    });
    db.exec({
      sql: `INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES (?, 'geom', 'MULTIPOLYGON', ?, 0, 0)`,
      bind: [options.table, options.srid],
    });
    createSpatialIndexTriggers(db, options.table, 'geom', 'fid');
    writeMetadata(db, options);
    return sqlite3.capi.sqlite3_js_db_export(db);
  } finally {
    db.close();
  }
}

/**
 * The spatial index triggers as GeoPackage 1.3.1 Annex F.3 writes them (the version this file declares; 1.4 replaced
 * update1 and update3). They call ST_IsEmpty, ST_MinX… which SQLite lacks but GDAL (hence QGIS) and SpatiaLite
 * register: created after the rows are in, they only fire when someone edits the layer.
 */
function createSpatialIndexTriggers(db: SqliteDatabase, tableName: string, columnName: string, idName: string): void {
  const t = quoteId(tableName);
  const c = quoteId(columnName);
  const i = quoteId(idName);
  const r = quoteId(`rtree_${tableName}_${columnName}`);
  const trigger = (suffix: string) => quoteId(`rtree_${tableName}_${columnName}_${suffix}`);
  const upsert = `INSERT OR REPLACE INTO ${r} VALUES (
    NEW.${i},
    ST_MinX(NEW.${c}), ST_MaxX(NEW.${c}),
    ST_MinY(NEW.${c}), ST_MaxY(NEW.${c})
  );`;
  db.exec(`
CREATE TRIGGER ${trigger('insert')} AFTER INSERT ON ${t}
  WHEN (new.${c} NOT NULL AND NOT ST_IsEmpty(NEW.${c}))
BEGIN
  ${upsert}
END;
CREATE TRIGGER ${trigger('update1')} AFTER UPDATE OF ${c} ON ${t}
  WHEN OLD.${i} = NEW.${i} AND
       (NEW.${c} NOTNULL AND NOT ST_IsEmpty(NEW.${c}))
BEGIN
  ${upsert}
END;
CREATE TRIGGER ${trigger('update2')} AFTER UPDATE OF ${c} ON ${t}
  WHEN OLD.${i} = NEW.${i} AND
       (NEW.${c} ISNULL OR ST_IsEmpty(NEW.${c}))
BEGIN
  DELETE FROM ${r} WHERE id = OLD.${i};
END;
CREATE TRIGGER ${trigger('update3')} AFTER UPDATE OF ${c} ON ${t}
  WHEN OLD.${i} != NEW.${i} AND
       (NEW.${c} NOTNULL AND NOT ST_IsEmpty(NEW.${c}))
BEGIN
  DELETE FROM ${r} WHERE id = OLD.${i};
  ${upsert}
END;
CREATE TRIGGER ${trigger('update4')} AFTER UPDATE ON ${t}
  WHEN OLD.${i} != NEW.${i} AND
       (NEW.${c} ISNULL OR ST_IsEmpty(NEW.${c}))
BEGIN
  DELETE FROM ${r} WHERE id IN (OLD.${i}, NEW.${i});
END;
CREATE TRIGGER ${trigger('delete')} AFTER DELETE ON ${t}
  WHEN old.${c} NOT NULL
BEGIN
  DELETE FROM ${r} WHERE id = OLD.${i};
END;`);
  db.exec({
    sql: `INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES (?, ?, 'gpkg_rtree_index', 'http://www.geopackage.org/spec/#extension_rtree', 'write-only')`,
    bind: [tableName, columnName],
  });
}

/**
 * GeoPackage geometry blob (spec §2.1.3): "GP", version 0, flags (little-endian, envelope [minx, maxx, miny,
 * maxy]), srs_id, the envelope, then the standard WKB PostGIS wrote.
 */
export function geoPackageBinary(srid: number, envelope: [number, number, number, number], wkb: Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(8 + 32));
  header.setUint8(0, 0x47); // G
  header.setUint8(1, 0x50); // P
  header.setUint8(2, 0); // version 1
  header.setUint8(3, 0b0000_0011); // envelope code 1 (bits 1-3), little-endian (bit 0)
  header.setInt32(4, srid, true);
  const [minX, minY, maxX, maxY] = envelope;
  [minX, maxX, minY, maxY].forEach((value, index) => header.setFloat64(8 + index * 8, value, true));
  const blob = new Uint8Array(40 + wkb.length);
  blob.set(new Uint8Array(header.buffer), 0);
  blob.set(wkb, 40);
  return blob;
}

function createCoreTables(db: SqliteDatabase, options: GeoPackageOptions): void {
  db.exec(`PRAGMA application_id = ${GPKG_APPLICATION_ID}`);
  db.exec(`PRAGMA user_version = ${GPKG_USER_VERSION}`);
  // DDL as in the specification's Annex C
  db.exec(`
    CREATE TABLE gpkg_spatial_ref_sys (
      srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
      organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
    CREATE TABLE gpkg_contents (
      table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
      last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
      CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
    CREATE TABLE gpkg_geometry_columns (
      table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
      z TINYINT NOT NULL, m TINYINT NOT NULL,
      CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name),
      CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
      CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
    CREATE TABLE gpkg_extensions (
      table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
      CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
    CREATE TABLE gpkg_metadata (
      id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset',
      md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
    CREATE TABLE gpkg_metadata_reference (
      reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
      timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
      CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
      CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));`);
  const srs = db.prepare('INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)');
  srs.bind(['Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system']).stepReset();
  srs.bind(['Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system']).stepReset();
  srs.bind(['WGS 84 geodetic', 4326, 'EPSG', 4326, options.wkt4326, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid']).stepReset();
  if (options.srid !== 4326) srs.bind([wktName(options.wkt) ?? `EPSG:${options.srid}`, options.srid, 'EPSG', options.srid, options.wkt, null]).stepReset();
  srs.finalize();
}

function writeMetadata(db: SqliteDatabase, options: GeoPackageOptions): void {
  const definition = 'http://www.geopackage.org/spec/#extension_metadata';
  db.exec(`INSERT INTO gpkg_extensions VALUES ('gpkg_metadata', NULL, 'gpkg_metadata', ?, 'read-write'), ('gpkg_metadata_reference', NULL, 'gpkg_metadata', ?, 'read-write')`, { bind: [definition, definition] });
  const items = provenanceLines(options.provenance).map(([key, value]) => `<MDI key="${xml(key.toUpperCase().replace(/[^A-Z0-9]+/g, '_'))}">${xml(value)}</MDI>`);
  const gdalXml = `<GDALMultiDomainMetadata><Metadata>${items.join('')}</Metadata></GDALMultiDomainMetadata>`;
  db.exec(`INSERT INTO gpkg_metadata (id, md_scope, md_standard_uri, mime_type, metadata) VALUES (1, 'dataset', ?, 'application/json', ?), (2, 'dataset', 'http://gdal.org', 'text/xml', ?)`, {
    bind: [PROVENANCE_URI, JSON.stringify(options.provenance), gdalXml],
  });
  db.exec(`INSERT INTO gpkg_metadata_reference (reference_scope, table_name, timestamp, md_file_id) VALUES ('table', ?, ?, 1), ('table', ?, ?, 2)`, {
    bind: [options.table, options.provenance.generated_at, options.table, options.provenance.generated_at],
  });
}

/** The name a WKT definition starts with: PROJCS["RGF93 / Lambert-93", … → RGF93 / Lambert-93. */
export function wktName(wkt: string): string | null {
  return /^\s*[A-Z_]+\s*\[\s*"([^"]+)"/.exec(wkt)?.[1] ?? null;
}

function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
