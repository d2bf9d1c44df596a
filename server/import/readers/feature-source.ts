import fs from 'node:fs';
import path from 'node:path';
import type { Geometry } from 'geojson';
import { ImportError } from '../errors.ts';

/** A geometry as ISO/OGC WKB (GeoPackage), handed to PostGIS ST_GeomFromWKB as hex. */
export interface WkbGeometry {
  type: 'wkb';
  hex: string;
  /** The WKB geometry type without Z/M flags: 3 Polygon, 6 MultiPolygon, … */
  wkbType: number;
}

/** One feature of a boundary file; `index` is its 1-based position in the file (error messages name it). */
export interface FeatureRecord {
  index: number;
  properties: Record<string, unknown>;
  geometry: Geometry | WkbGeometry | null;
}

/** The coordinate system of the input: an EPSG code PostGIS knows, or a WKT/PROJ definition (a .prj). */
export type SourceCrs = { srid: number; label: string } | { definition: string; label: string };

export const WGS84: SourceCrs = { srid: 4326, label: 'EPSG:4326' };

/**
 * Features of one file, streamed. `crs` is known once the first feature has been read (a GeoJSON `crs`
 * member comes before the features); null means the file does not say.
 */
export interface FeatureSource extends AsyncIterable<FeatureRecord> {
  readonly crs: SourceCrs | null;
}

/** Reads `EPSG:2154`, `urn:ogc:def:crs:EPSG::2154`, `…/EPSG/0/2154`, `CRS84`: the EPSG code, else null. */
export function parseCrsName(name: string): number | null {
  if (/(^|[:/])CRS84$/i.test(name.trim())) return 4326;
  const match = /EPSG(?::{1,2}|:[\d.]*:|\/\d+\/)(\d+)$/i.exec(name.trim());
  return match ? Number(match[1]) : null;
}

/** A file next to `file` with another extension, in any letter case (IGN ships `.shp`, others `.SHP`). */
export function siblingFile(file: string, extension: string): string | null {
  const dir = path.dirname(file);
  const stem = path.basename(file, path.extname(file)).toLowerCase();
  const wanted = `${stem}.${extension.toLowerCase()}`;
  const found = fs.readdirSync(dir).find((entry) => entry.toLowerCase() === wanted);
  return found ? path.join(dir, found) : null;
}

export function describeWkbType(type: number): string {
  return ['Geometry', 'Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection'][type] ?? `WKB type ${type}`;
}

/** Throws when the feature has no geometry; returns the GeoJSON or WKB type name. */
export function requireGeometry(fileName: string, feature: FeatureRecord): string {
  const { geometry } = feature;
  if (geometry === null || geometry === undefined) throw new ImportError({ file: fileName, feature: feature.index }, 'expected a Polygon or MultiPolygon, found a null geometry');
  return geometry.type === 'wkb' ? describeWkbType(geometry.wkbType) : String(geometry.type);
}
