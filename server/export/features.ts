import { compareVintages, type CatalogueRepository } from '../repositories/catalogue.repository.ts';
import { vintageAtOrBefore, type FeatureRow, type FeaturesRepository, type IndicatorColumn } from '../repositories/features.repository.ts';
import { HttpError } from '../http/errors.ts';

/**
 * What the exports and OGC API – Features share above the feature query: which indicators, at which vintage,
 * under which property names, and how a CRS is named in a request.
 */

type CatalogueIndicator = Awaited<ReturnType<CatalogueRepository['indicators']>>[number];

/** An indicator column of an export: the catalogue entry and the vintage it reads (null: none that old). */
export interface ExportIndicator extends IndicatorColumn {
  label_fr: string;
  label_en: string;
  unit: string;
  aggregation: string;
  publisher: string | null;
  licence: string | null;
  synthetic: boolean;
  vintages: string[];
}

/**
 * The indicator columns of a request. Without `ids`, every indicator that has values (the catalogue order:
 * by theme, then id). Each reads `vintageAtOrBefore(its vintages, vintage)`. Unknown ids are a 404 naming
 * `parameter`; a vintage older than every requested indicator's first one is a 404 naming `vintage`.
 */
export async function resolveIndicators(
  catalogue: CatalogueRepository,
  ids: string[] | undefined,
  vintage: string | undefined,
  parameter = 'indicators',
): Promise<ExportIndicator[]> {
  const all = await catalogue.indicators();
  let chosen: CatalogueIndicator[];
  if (ids && ids.length) {
    const unknown = ids.filter((id) => !all.some((i) => i.id === id));
    if (unknown.length) {
      throw new HttpError(404, 'unknown-indicator', `unknown indicator${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; known indicators: ${all.map((i) => i.id).join(', ')}`, parameter);
    }
    chosen = [...new Set(ids)].map((id) => all.find((i) => i.id === id)!);
  } else {
    chosen = all.filter((i) => i.vintages.length > 0);
  }
  const columns = chosen.map((i) => ({
    id: i.id,
    label_fr: i.label_fr,
    label_en: i.label_en,
    unit: i.unit,
    aggregation: i.aggregation,
    publisher: i.publisher,
    licence: i.licence,
    synthetic: i.synthetic,
    vintages: i.vintages,
    vintage: vintageAtOrBefore(i.vintages, vintage),
  }));
  if (columns.length && columns.every((c) => c.vintage === null)) {
    throw new HttpError(
      404,
      'no-data',
      vintage
        ? `no value at or before vintage "${vintage}" for ${columns.map((c) => `${c.id} (from ${c.vintages[0] ?? 'never'})`).join(', ')}`
        : `${columns.map((c) => c.id).join(', ')} ha${columns.length > 1 ? 've' : 's'} no values yet`,
      vintage ? 'vintage' : parameter,
    );
  }
  return columns;
}

/** Property (column) names of one indicator: its value under its id, then the counts behind it. */
export function indicatorFields(id: string): { value: string; numerator: string; denominator: string } {
  return { value: id, numerator: `${id}_numerator`, denominator: `${id}_denominator` };
}

/** code, name, then per indicator its value, numerator and denominator (null when absent). */
export function featureProperties(row: FeatureRow, indicators: readonly IndicatorColumn[]): Record<string, string | number | null> {
  const properties: Record<string, string | number | null> = { code: row.code, name: row.name };
  indicators.forEach((indicator, index) => {
    const fields = indicatorFields(indicator.id);
    const cell = row.values[index]!;
    properties[fields.value] = cell.value;
    properties[fields.numerator] = cell.numerator;
    properties[fields.denominator] = cell.denominator;
  });
  return properties;
}

/** The vintage that names an export: the requested one, else the latest vintage any column reads. */
export function exportVintage(indicators: readonly ExportIndicator[], requested: string | undefined): string {
  if (requested) return requested;
  const read = indicators.map((i) => i.vintage).filter((v): v is string => v !== null);
  return read.sort(compareVintages).at(-1) ?? 'none';
}

// ---- Coordinate reference systems ------------------------------------------------------------------------

export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
export const epsgUri = (code: number) => `http://www.opengis.net/def/crs/EPSG/0/${code}`;

/**
 * An EPSG code from `4326`, `EPSG:4326`, `urn:ogc:def:crs:EPSG::4326`, the OGC URI or CRS84 (→ 4326: terrinum
 * always writes x = longitude, y = latitude), or null when the text names none of those.
 */
export function parseCrs(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === CRS84 || /^(OGC:)?CRS84$/i.test(trimmed) || trimmed === 'urn:ogc:def:crs:OGC:1.3:CRS84') return 4326;
  const match =
    /^(?:EPSG:)?(\d{4,6})$/i.exec(trimmed) ??
    /^https?:\/\/www\.opengis\.net\/def\/crs\/EPSG\/0\/(\d{4,6})$/.exec(trimmed) ??
    /^urn:ogc:def:crs:EPSG:[\d.]*:(\d{4,6})$/i.exec(trimmed);
  return match ? Number(match[1]) : null;
}

/** Short name of a CRS for file names and provenance. */
export const crsLabel = (srid: number) => (srid === 4326 ? 'EPSG:4326 (WGS 84, longitude/latitude)' : srid === 2154 ? 'EPSG:2154 (RGF93 v1 / Lambert-93)' : srid === 3857 ? 'EPSG:3857 (WGS 84 / Pseudo-Mercator)' : `EPSG:${srid}`);

/** An EPSG code PostGIS can project to, or a 400 naming `parameter`. */
export async function requireKnownCrs(features: FeaturesRepository, text: string, parameter = 'crs'): Promise<{ srid: number; wkt: string }> {
  const srid = parseCrs(text);
  if (srid === null) throw new HttpError(400, 'invalid-crs', `${parameter} must be an EPSG code such as 2154, EPSG:2154 or ${epsgUri(2154)}, got "${text.slice(0, 80)}"`, parameter);
  const wkt = await features.crsWkt(srid);
  if (!wkt) throw new HttpError(400, 'unknown-crs', `${parameter}: EPSG:${srid} is not a coordinate system PostGIS knows`, parameter);
  // 2D only: a geocentric or compound (3D) system would silently drop or misread coordinates
  if (!/^(PROJCS|GEOGCS)\[/.test(wkt) || !(await features.canProject(srid))) {
    throw new HttpError(400, 'unsupported-crs', `${parameter}: EPSG:${srid} cannot be used for France's outlines (not a 2D system, or PostGIS has no transformation to it)`, parameter);
  }
  // a null TOWGS84 (RGF93 ≡ WGS 84 at this precision) makes GDAL read a BOUNDCRS instead of plain EPSG:2154
  return { srid, wkt: wkt.replace(/TOWGS84\[0,0,0,0,0,0,0\],/g, '') };
}
