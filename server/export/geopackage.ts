import initSqlJs, { type Database as SqliteDatabase, type SqlJsStatic } from 'sql.js';
import type { FeatureRow } from '../repositories/features.repository.ts';
import { indicatorFields, type ExportIndicator } from './features.ts';
import { provenanceLines, type Provenance } from './provenance.ts';

/**
 * Writes an OGC GeoPackage (OGC 12-128r18; declared 1.3.1, see GPKG_USER_VERSION) with sql.js, SQLite compiled to WebAssembly: no GDAL
 * and no native module, so it works the same on every machine and both backends. One feature table, the
 * mandatory gpkg_spatial_ref_sys / gpkg_contents / gpkg_geometry_columns, and the provenance through the
 * metadata extension (gpkg_metadata + gpkg_metadata_reference): once as JSON, once in GDAL's XML layout so
 * that `ogrinfo` and QGIS show it as layer metadata. No R-tree: optional, and QGIS builds its own index.
 */

/** 'GPKG' as a big-endian 32-bit integer, for PRAGMA application_id. */
export const GPKG_APPLICATION_ID = 0x47504b47;
/**
 * GeoPackage 1.3.1 (10300). Nothing written here is specific to 1.4, and GDAL before 3.7 (QGIS 3.28 on Debian 12)
 * warns that a 1.4 file "may only be partially supported".
 */
export const GPKG_USER_VERSION = 10300;
const PROVENANCE_URI = 'https://terrinum.invalid/provenance/1';

let sqlJs: Promise<SqlJsStatic> | undefined;

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
  const SQL = await (sqlJs ??= initSqlJs());
  const db = new SQL.Database();
  try {
    createCoreTables(db, options);
    const columns = options.indicators.flatMap((i) => Object.values(indicatorFields(i.id)));
    const table = quoteId(options.table);
    db.run(
      `CREATE TABLE ${table} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON, code TEXT NOT NULL, name TEXT NOT NULL${columns
        .map((c) => `, ${quoteId(c)} REAL`)
        .join('')})`,
    );
    const insert = db.prepare(`INSERT INTO ${table} (geom, code, name${columns.map((c) => `, ${quoteId(c)}`).join('')}) VALUES (?, ?, ?${', ?'.repeat(columns.length)})`);
    const extent = [Infinity, Infinity, -Infinity, -Infinity];
    db.run('BEGIN');
    for await (const batch of batches) {
      for (const row of batch) {
        let blob: Uint8Array | null = null;
        if (row.geometry instanceof Uint8Array && row.envelope) {
          blob = geoPackageBinary(options.srid, row.envelope, row.geometry);
          extent[0] = Math.min(extent[0]!, row.envelope[0]);
          extent[1] = Math.min(extent[1]!, row.envelope[1]);
          extent[2] = Math.max(extent[2]!, row.envelope[2]);
          extent[3] = Math.max(extent[3]!, row.envelope[3]);
        }
        insert.run([blob, row.code, row.name, ...row.values.flatMap((v) => [v.value, v.numerator, v.denominator])]);
      }
    }
    insert.free();
    db.run('COMMIT');
    const hasExtent = Number.isFinite(extent[0]);
    db.run(
      `INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
       VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)`,
      [options.table, options.identifier, options.description, options.provenance.generated_at, ...(hasExtent ? extent : [null, null, null, null]), options.srid],
    );
    db.run(`INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES (?, 'geom', 'MULTIPOLYGON', ?, 0, 0)`, [
      options.table,
      options.srid,
    ]);
    writeMetadata(db, options);
    return db.export();
  } finally {
    db.close();
  }
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
  db.run(`PRAGMA application_id = ${GPKG_APPLICATION_ID}`);
  db.run(`PRAGMA user_version = ${GPKG_USER_VERSION}`);
  // DDL as in the specification's Annex C
  db.run(`
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
  srs.run(['Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system']);
  srs.run(['Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system']);
  srs.run(['WGS 84 geodetic', 4326, 'EPSG', 4326, options.wkt4326, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid']);
  if (options.srid !== 4326) srs.run([wktName(options.wkt) ?? `EPSG:${options.srid}`, options.srid, 'EPSG', options.srid, options.wkt, null]);
  srs.free();
}

function writeMetadata(db: SqliteDatabase, options: GeoPackageOptions): void {
  const definition = 'http://www.geopackage.org/spec/#extension_metadata';
  db.run(`INSERT INTO gpkg_extensions VALUES ('gpkg_metadata', NULL, 'gpkg_metadata', ?, 'read-write'), ('gpkg_metadata_reference', NULL, 'gpkg_metadata', ?, 'read-write')`, [
    definition,
    definition,
  ]);
  const items = provenanceLines(options.provenance).map(([key, value]) => `<MDI key="${xml(key.toUpperCase().replace(/[^A-Z0-9]+/g, '_'))}">${xml(value)}</MDI>`);
  const gdalXml = `<GDALMultiDomainMetadata><Metadata>${items.join('')}</Metadata></GDALMultiDomainMetadata>`;
  db.run(`INSERT INTO gpkg_metadata (id, md_scope, md_standard_uri, mime_type, metadata) VALUES (1, 'dataset', ?, 'application/json', ?), (2, 'dataset', 'http://gdal.org', 'text/xml', ?)`, [
    PROVENANCE_URI,
    JSON.stringify(options.provenance),
    gdalXml,
  ]);
  db.run(`INSERT INTO gpkg_metadata_reference (reference_scope, table_name, timestamp, md_file_id) VALUES ('table', ?, ?, 1), ('table', ?, ?, 2)`, [
    options.table,
    options.provenance.generated_at,
    options.table,
    options.provenance.generated_at,
  ]);
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
