import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { buildProvenance } from '../export/provenance.ts';
import { writeCsv } from '../export/csv.ts';
import { exportVintage, requireKnownCrs, resolveIndicators, type ExportIndicator } from '../export/features.ts';
import { writeFlatGeobuf } from '../export/flatgeobuf.ts';
import { buildGeoPackage } from '../export/geopackage.ts';
import { writeGeoJson } from '../export/geojson.ts';
import { buildShapefileZip } from '../export/shapefile.ts';
import { createFeaturesRepository, type FeatureFilter } from '../repositories/features.repository.ts';
import type { ApiDeps } from './api.routes.ts';
import { HttpError } from './errors.ts';
import { bboxParam, codesParam, indicatorsParam, levelParam, operation, problemSchema, text, vintageParam, withinParam } from './validation.ts';

/**
 * Exports of one level's territories with indicator values, for GIS teams and spreadsheets:
 * GET /api/export/{level}.{geojson|csv|gpkg|fgb|shp.zip}. All formats read the same feature query
 * (repositories/features.repository.ts) and carry the same provenance (export/provenance.ts).
 *
 * Choices (documented in docs/exports.md):
 * - `indicators` defaults to every indicator that has values, so one download holds everything.
 * - `vintage` is per indicator: the vintage itself when the indicator has it, else its latest before it;
 *   without `vintage`, each indicator's latest. The provenance names the vintage of each column.
 * - Geographic formats hold the territories that have an outline; the CSV holds every territory.
 * - GeoJSON is RFC 7946 (WGS 84, exterior rings counter-clockwise); GeoPackage, FlatGeobuf and Shapefile are in
 *   EPSG:2154 (Lambert-93) unless `crs` says otherwise.
 */

export const EXPORT_FORMATS = ['geojson', 'csv', 'gpkg', 'fgb', 'shp.zip'] as const;
type Format = (typeof EXPORT_FORMATS)[number];

const MEDIA_TYPES: Record<Format, string> = {
  geojson: 'application/geo+json',
  csv: 'text/csv; charset=utf-8; header=present',
  gpkg: 'application/geopackage+sqlite3',
  fgb: 'application/flatgeobuf',
  'shp.zip': 'application/zip',
};

/** Default CRS of the projected formats: Lambert-93, what French GIS teams work in. */
export const DEFAULT_EXPORT_SRID = 2154;

const flag = (description: string) =>
  text()
    .regex(/^(0|1|true|false)$/, 'must be 0, 1, true or false')
    .transform((v) => v === '1' || v === 'true')
    .meta({ description });

const exportQuery = z.object({
  within: withinParam.optional(),
  bbox: bboxParam.optional(),
  codes: codesParam.optional(),
  indicators: indicatorsParam.optional().meta({ description: 'Comma-separated indicator ids; default: every indicator that has values.' }),
  vintage: vintageParam.optional().meta({
    description: "Vintage YYYY, YYYY-Qn or YYYY-MM. Each indicator reads it, or its latest vintage before it when it has none exactly at it; default: each indicator's latest.",
  }),
  precision: text()
    .regex(/^\d{1,2}$/, 'must be a whole number of decimal digits')
    .transform(Number)
    .pipe(z.number().max(15, 'must be at most 15'))
    .optional()
    .meta({ description: 'GeoJSON only: decimal digits of coordinates (default 6, about 0.1 m).' }),
  crs: text()
    .max(100, 'is too long')
    .optional()
    .meta({ description: 'gpkg, fgb and shp.zip: EPSG code of the output CRS (2154, 4326, 3857…, also EPSG:2154 or the OGC URI); default 2154.' }),
  sep: z.enum([',', ';'], { error: 'must be , or ;' }).optional().meta({ description: 'CSV only: field separator (default ,).' }),
  decimal: z.enum(['.', ','], { error: 'must be . or ,' }).optional().meta({ description: 'CSV only: decimal mark (default .); decimal=, needs sep=;.' }),
  bom: flag('CSV only: start with a UTF-8 byte order mark (Excel); default 0.').optional(),
  comments: flag('CSV only: provenance as # comment lines before the header; default 0.').optional(),
});

const FORMAT_ONLY: Record<string, readonly Format[]> = {
  precision: ['geojson'],
  crs: ['gpkg', 'fgb', 'shp.zip'],
  sep: ['csv'],
  decimal: ['csv'],
  bom: ['csv'],
  comments: ['csv'],
};

const exportOp = operation({
  method: 'get',
  path: '/api/export/{level}.{format}',
  operationId: 'exportLevel',
  tags: ['exports'],
  summary: 'Export a level with indicator values (GeoJSON, CSV, GeoPackage, FlatGeobuf, zipped Shapefile)',
  description:
    "Territoires d'un niveau avec les valeurs, numérateurs et dénominateurs des indicateurs, et leur provenance " +
    '(sources, millésimes, licence, date de génération, data_version). / One row or feature per territory with indicator ' +
    'values, numerators and denominators, and their provenance. GeoJSON (RFC 7946, streamed; provenance in the foreign ' +
    'member "terrinum"), CSV (UTF-8, one row per territory; `comments=1` writes the provenance), GeoPackage (EPSG:2154 by ' +
    'default; provenance in gpkg_metadata), FlatGeobuf (provenance in the header metadata), zipped Shapefile (provenance ' +
    'sidecar). Content-Disposition names level, indicators and vintage.',
  params: z.object({ level: levelParam, format: z.enum(EXPORT_FORMATS, { error: `must be one of ${EXPORT_FORMATS.join(', ')}` }) }),
  query: exportQuery,
  responses: {
    '200': {
      description: 'The file.',
      content: Object.fromEntries(EXPORT_FORMATS.map((f) => [MEDIA_TYPES[f].split(';')[0]!, null])),
    },
    '400': { description: 'A parameter is malformed or does not apply to the format.', content: { 'application/problem+json': problemSchema } },
    '404': { description: 'Unknown level, indicator or territory, or no value at or before the vintage.', content: { 'application/problem+json': problemSchema } },
  },
});

/** Query parameters that are not in the schema are a 400 naming them: a typo (indicator=) must not be ignored. */
export function rejectUnknownParameters(req: Request, known: readonly string[]): void {
  const unknown = Object.keys(req.query).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw new HttpError(400, 'unknown-parameter', `unknown query parameter "${unknown.slice(0, 40)}"; known: ${known.join(', ')}`, unknown);
  }
}

/** Parameters given empty (`within=`, as forms send them) count as absent, as in the rest of the API. */
export function nonEmptyQuery(req: Request): Request {
  const query = Object.fromEntries(Object.entries(req.query).filter(([, value]) => value !== ''));
  return { params: req.params, query } as unknown as Request;
}

/** `commune.shp.zip` → level commune, format shp.zip. */
function splitFileName(file: string): { level: string; format: string } {
  const match = /^(.*?)\.((?:shp\.)?[a-z0-9]+)$/.exec(file);
  if (!match) throw new HttpError(400, 'invalid-parameter', `path parameter format: the file must be LEVEL.FORMAT with FORMAT one of ${EXPORT_FORMATS.join(', ')}, got "${file.slice(0, 80)}"`, 'format');
  return { level: match[1]!, format: match[2]! };
}

export function exportRouter({ catalogue, database, resolve }: ApiDeps): Router {
  const router = Router();
  const features = createFeaturesRepository(database.db, { prefetch: database.backend === 'postgis' });

  router.get('/:file', async (req, res) => {
    // Express cannot split "commune.shp.zip" at the right dot; the parts are validated as path parameters
    const params = exportOp.params({ params: splitFileName(req.params.file as string) } as unknown as Request);
    rejectUnknownParameters(req, Object.keys(exportQuery.shape));
    const query = exportOp.query(nonEmptyQuery(req));
    const format = params.format;
    for (const [name, formats] of Object.entries(FORMAT_ONLY)) {
      if (query[name as keyof typeof query] !== undefined && !formats.includes(format)) {
        throw new HttpError(400, 'invalid-parameter', `query parameter ${name} applies to ${formats.join(', ')} only, not ${format}`, name);
      }
    }
    if (query.decimal === ',' && (query.sep ?? ',') === ',') throw new HttpError(400, 'invalid-parameter', 'query parameter decimal: decimal=, needs sep=; (the comma would be both)', 'decimal');

    const level = await resolve.level(params.level);
    const withinId = await resolve.within(query.within);
    const indicators = await resolveIndicators(catalogue, query.indicators, query.vintage);
    const crs = format === 'csv' ? null : format === 'geojson' ? await requireKnownCrs(features, '4326') : await requireKnownCrs(features, query.crs ?? String(DEFAULT_EXPORT_SRID));
    const filter: FeatureFilter = {
      level: level.id,
      withinId,
      bbox: query.bbox ? { box: query.bbox, srid: 4326 } : null,
      codes: query.codes ?? null,
      requireGeometry: format !== 'csv',
    };
    const provenance = await buildProvenance(features, {
      level,
      indicators,
      requestedVintage: query.vintage,
      srid: crs?.srid ?? null,
      filters: {
        ...(query.within ? { within: query.within } : {}),
        ...(query.bbox ? { bbox: query.bbox } : {}),
        ...(query.codes ? { codes: query.codes.length > 50 ? `${query.codes.length} codes` : query.codes } : {}),
      },
    });
    const baseName = exportBaseName(level.id, indicators, exportVintage(indicators, query.vintage), query.within);
    res.setHeader('Content-Type', MEDIA_TYPES[format]);
    res.setHeader('Content-Disposition', `attachment; filename="${baseName}.${format}"`);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Terrinum-Data-Version', String(provenance.data_version.version));

    // HEAD: the headers a GET would get, without building the file
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const columns = indicators.map((i) => ({ id: i.id, vintage: i.vintage }));
    await streamOrAbort(res, async () => {
      if (format === 'geojson') {
        const batches = features.featureTextBatches(filter, { indicators: columns, precision: query.precision ?? 6 });
        await writeGeoJson(res, batches, { name: level.id, provenance });
      } else if (format === 'csv') {
        const parentLevels = (await catalogue.levels()).filter((l) => l.rank > level.rank).map((l) => l.id);
        const batches = features.batches(filter, { indicators: columns, geometry: null, parentLevels });
        await writeCsv(res, batches, { separator: query.sep ?? ',', decimal: query.decimal ?? '.', bom: query.bom ?? false, comments: query.comments ?? false, parentLevels, indicators, provenance });
      } else if (format === 'fgb') {
        const [count, extent] = await Promise.all([features.count(filter), features.extent(filter, crs!.srid)]);
        const batches = features.batches(filter, { indicators: columns, geometry: { format: 'geojson', srid: crs!.srid, precision: 15 } });
        await writeFlatGeobuf(res, batches, { name: level.id, srid: crs!.srid, wkt: crs!.wkt, count, extent, indicators, provenance });
      } else if (format === 'gpkg') {
        const wkt4326 = (await features.crsWkt(4326))!;
        const batches = untilClosed(res, features.batches(filter, { indicators: columns, geometry: { format: 'wkb', srid: crs!.srid } }));
        const bytes = await buildGeoPackage(batches, { table: level.id, identifier: provenance.title, description: provenance.attribution.join(' ; '), srid: crs!.srid, wkt: crs!.wkt, wkt4326, indicators, provenance });
        res.setHeader('Content-Length', bytes.byteLength);
        res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        return;
      } else {
        const batches = untilClosed(res, features.batches(filter, { indicators: columns, geometry: { format: 'geojson', srid: crs!.srid, precision: 15, orientation: 'cw' } }));
        const zip = await buildShapefileZip(batches, { baseName, wkt: crs!.wkt, indicators, provenance });
        res.setHeader('Content-Length', zip.byteLength);
        res.end(zip);
        return;
      }
      res.end();
    });
  });

  return router;
}

/**
 * The batches of a file built whole before it is sent (GeoPackage, zipped Shapefile): reading stops when the client
 * has gone, rather than building a national file nobody will receive.
 */
async function* untilClosed<T>(res: Response, batches: AsyncIterable<T>): AsyncGenerator<T> {
  for await (const batch of batches) {
    if (res.destroyed) throw new Error('the client closed the connection');
    yield batch;
  }
}

/**
 * Runs a streamed answer. A failure before the first byte is an ordinary problem+json answer; after it, the
 * connection is cut, so the client sees a broken download rather than a file that looks whole.
 */
export async function streamOrAbort(res: Response, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (!res.headersSent) {
      for (const header of ['Content-Disposition', 'Content-Length', 'X-Terrinum-Data-Version']) res.removeHeader(header);
      throw error;
    }
    res.destroy(error as Error);
  }
}

/** `terrinum_commune_fibre_coverage_2018-Q1`, with `_epci-XE01` for a `within` filter. */
export function exportBaseName(level: string, indicators: readonly ExportIndicator[], vintage: string, within: string | undefined): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '-');
  const names = indicators.length <= 3 ? indicators.map((i) => i.id).join('-') : `${indicators.length}-indicateurs`;
  return ['terrinum', safe(level), safe(names || 'aucun-indicateur'), safe(vintage), ...(within ? [safe(within.replace(':', '-'))] : [])].join('_');
}
