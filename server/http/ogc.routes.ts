import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { CRS84, epsgUri, indicatorFields, resolveIndicators, type ExportIndicator } from '../export/features.ts';
import { featureJson } from '../export/geojson.ts';
import { writeChunk } from '../export/stream.ts';
import { createFeaturesRepository, vintageEndDate, vintageStartDate, type FeatureFilter, type FeatureRow } from '../repositories/features.repository.ts';
import { compareVintages } from '../repositories/catalogue.repository.ts';
import type { ApiDeps } from './api.routes.ts';
import { HttpError } from './errors.ts';
import { nonEmptyQuery, rejectUnknownParameters, streamOrAbort } from './export.routes.ts';
import { indicatorsParam, operation, problemSchema, text, vintageParam } from './validation.ts';

/**
 * OGC API – Features, Part 1 (Core, GeoJSON) and Part 2 (CRS by reference), so QGIS and GDAL (driver OAPIF)
 * add terrinum's levels as layers. One collection per level; features are territories (id = code) with
 * code, name and, per indicator, its value, numerator and denominator at its latest vintage (or at `vintage`,
 * or at the vintage in force at `datetime`). Geometry in CRS84 unless `crs` asks EPSG:2154 or EPSG:3857, both
 * written easting, northing as their EPSG definitions order them. Unknown query parameters are a 400, as the
 * standard requires.
 */

const CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
];

/** Supported CRS, CRS84 first (the default): URI → EPSG code of the coordinates PostGIS writes (x, y order). */
const CRS_LIST: [string, number][] = [
  [CRS84, 4326],
  [epsgUri(2154), 2154],
  [epsgUri(3857), 3857],
];
const SRID_OF = new Map(CRS_LIST);
/** Decimal digits of coordinates: 6 for degrees (≈ 0.1 m), 2 for metres. */
const precisionOf = (srid: number) => (srid === 4326 ? 6 : 2);

const GEOJSON = 'application/geo+json';
const JSON_TYPE = 'application/json';
/** The OpenAPI document at /api/openapi.json is OpenAPI 3.1 (openapi.ts): its media type says so. */
const OPENAPI_TYPE = 'application/vnd.oai.openapi+json;version=3.1';
const MAX_LIMIT = 10_000;
const DEFAULT_LIMIT = 10;

const crsParam = (name: string) =>
  text()
    .refine((v) => SRID_OF.has(v), `must be one of ${CRS_LIST.map(([uri]) => uri).join(', ')}`)
    .meta({ description: `${name}: CRS URI, one of ${CRS_LIST.map(([uri]) => uri).join(', ')}; default CRS84 (longitude, latitude).` });

const formatParam = text()
  .refine((v) => ['json', 'geojson'].includes(v), 'must be json (the only encoding served)')
  .meta({ description: 'Encoding: json (GeoJSON).' });

/** bbox: 4 numbers (or 6 with heights, ignored), in bbox-crs. Ranges are checked once the CRS is known. */
const ogcBbox = text()
  .transform((s, ctx) => {
    const parts = s.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
    if (![4, 6].includes(parts.length) || parts.some((n) => !Number.isFinite(n))) {
      ctx.addIssue({ code: 'custom', message: 'must be four numbers minX,minY,maxX,maxY (or six with heights)' });
      return z.NEVER;
    }
    const [minX, minY, maxX, maxY] = parts.length === 6 ? [parts[0]!, parts[1]!, parts[3]!, parts[4]!] : (parts as [number, number, number, number]);
    if (minY > maxY) {
      ctx.addIssue({ code: 'custom', message: 'must have minY ≤ maxY' });
      return z.NEVER;
    }
    return [minX, minY, maxX, maxY] as [number, number, number, number];
  })
  .meta({ description: 'Bounding box minX,minY,maxX,maxY in bbox-crs (default CRS84: longitude, latitude); features intersecting it.' });

/** RFC 3339 date-time or interval; the features' values are those in force at its (end) instant. */
const datetimeParam = text()
  .transform((s, ctx) => {
    const instant = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/i;
    const [start, end, ...rest] = s.split('/');
    const valid = (v: string | undefined) => v !== undefined && (v === '..' || v === '' || instant.test(v));
    if (rest.length || !valid(start) || (end !== undefined && !valid(end)) || (end === undefined && !instant.test(start!))) {
      ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 date-time or interval, e.g. 2018-03-31, 2018-03-31T00:00:00Z or ../2018-12-31' });
      return z.NEVER;
    }
    const last = end === undefined ? start! : end;
    if (last === '..' || last === '') return null;
    // a real calendar instant (2018-13-45 matches the pattern), compared as its UTC date
    const time = Date.parse(last.length === 10 ? `${last}T00:00:00Z` : last);
    if (Number.isNaN(time) || (last.length >= 10 && new Date(`${last.slice(0, 10)}T00:00:00Z`).toISOString().slice(0, 10) !== last.slice(0, 10))) {
      ctx.addIssue({ code: 'custom', message: `must be a real date-time (got ${last})` });
      return z.NEVER;
    }
    return new Date(time).toISOString().slice(0, 10);
  })
  .meta({ description: 'Date-time or interval (RFC 3339): the indicator values are those of the latest vintage ending at or before it (its end for an interval).' });

const limitParam = text()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().min(1, 'must be at least 1'))
  // the standard: a limit above the maximum is not an error, the maximum applies
  .transform((n) => Math.min(n, MAX_LIMIT))
  .meta({ description: `Page size, 1 to ${MAX_LIMIT} (larger values read as ${MAX_LIMIT}); default ${DEFAULT_LIMIT}.` });

const offsetParam = text()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  // an offset past every territory is an empty page; past 2^31 it is a typo (and no bigint PostgreSQL can read)
  .pipe(z.number().max(2_147_483_647, 'must be at most 2147483647'))
  .meta({ description: 'Features to skip (paging; next/prev links carry it).' });

const valuesQuery = {
  crs: crsParam('crs').optional(),
  vintage: vintageParam.optional(),
  datetime: datetimeParam.optional(),
  indicators: indicatorsParam.optional().meta({ description: 'Comma-separated indicator ids; default: every indicator that has values.' }),
  f: formatParam.optional(),
};

const itemsQuery = z.object({
  bbox: ogcBbox.optional(),
  'bbox-crs': crsParam('bbox-crs').optional(),
  limit: limitParam.optional(),
  offset: offsetParam.optional(),
  code: text().max(40, 'is too long').optional().meta({ description: 'Property filter: territory code (exact).' }),
  name: text().max(200, 'is too long').optional().meta({ description: 'Property filter: territory name (exact).' }),
  ...valuesQuery,
});
const itemQuery = z.object(valuesQuery);
const fOnly = z.object({ f: formatParam.optional() });
const collectionIdParam = text().regex(/^[a-z][a-z0-9_-]*$/, 'must be a collection id such as commune or epci').meta({ description: 'Collection id: a level (commune, epci, departement, region).' });

const problems = {
  '400': { description: 'Malformed or unknown parameter (named in the problem).', content: { 'application/problem+json': problemSchema } },
  '404': { description: 'Unknown collection or feature.', content: { 'application/problem+json': problemSchema } },
};

const landingOp = operation({
  method: 'get',
  path: '/ogc',
  operationId: 'ogcLanding',
  tags: ['ogc-features'],
  summary: 'OGC API – Features landing page',
  query: fOnly,
  responses: { '200': { description: 'Links to the API description, conformance and collections.', content: { [JSON_TYPE]: null } }, ...problems },
});
const conformanceOp = operation({
  method: 'get',
  path: '/ogc/conformance',
  operationId: 'ogcConformance',
  tags: ['ogc-features'],
  summary: 'OGC API – Features conformance classes',
  query: fOnly,
  responses: { '200': { description: 'conformsTo: Core, GeoJSON, CRS by reference.', content: { [JSON_TYPE]: null } }, ...problems },
});
const collectionsOp = operation({
  method: 'get',
  path: '/ogc/collections',
  operationId: 'ogcCollections',
  tags: ['ogc-features'],
  summary: 'Feature collections: one per level',
  query: fOnly,
  responses: { '200': { description: 'Collections with extent, CRS list and indicator properties.', content: { [JSON_TYPE]: null } }, ...problems },
});
const collectionOp = operation({
  method: 'get',
  path: '/ogc/collections/{collectionId}',
  operationId: 'ogcCollection',
  tags: ['ogc-features'],
  summary: 'One feature collection (level)',
  params: z.object({ collectionId: collectionIdParam }),
  query: fOnly,
  responses: { '200': { description: 'The collection.', content: { [JSON_TYPE]: null } }, ...problems },
});
const itemsOp = operation({
  method: 'get',
  path: '/ogc/collections/{collectionId}/items',
  operationId: 'ogcItems',
  tags: ['ogc-features'],
  summary: 'Features of a collection (territories with indicator values)',
  description:
    'GeoJSON FeatureCollection with numberMatched, numberReturned, timeStamp and next/prev links. Properties: code, name, ' +
    'and per indicator ID, ID_numerator, ID_denominator. Unknown parameters are a 400.',
  params: z.object({ collectionId: collectionIdParam }),
  query: itemsQuery,
  responses: { '200': { description: 'A page of features; Content-Crs names the CRS.', content: { [GEOJSON]: null, [JSON_TYPE]: null } }, ...problems },
});
const itemOp = operation({
  method: 'get',
  path: '/ogc/collections/{collectionId}/items/{featureId}',
  operationId: 'ogcItem',
  tags: ['ogc-features'],
  summary: 'One feature (territory) by code',
  params: z.object({ collectionId: collectionIdParam, featureId: text().max(40, 'is too long').meta({ description: 'Territory code.' }) }),
  query: itemQuery,
  responses: { '200': { description: 'The feature; Content-Crs names the CRS.', content: { [GEOJSON]: null, [JSON_TYPE]: null } }, ...problems },
});

export function ogcRouter({ catalogue, database, resolve }: ApiDeps): Router {
  const router = Router();
  const features = createFeaturesRepository(database.db, { prefetch: database.backend === 'postgis' });
  const base = (req: Request) => `${req.protocol}://${req.get('host')}${req.baseUrl}`;

  // Collection extents cost a scan of the outlines: computed once per data version
  let extents: { version: number; byLevel: Map<string, [number, number, number, number] | null> } | undefined;
  async function spatialExtent(level: string) {
    const { version } = await features.dataVersion();
    if (extents?.version !== version) extents = { version, byLevel: new Map() };
    if (!extents.byLevel.has(level)) extents.byLevel.set(level, await features.extent({ level, requireGeometry: true }));
    return extents.byLevel.get(level) ?? null;
  }

  async function describeCollection(req: Request, level: { id: string; label_fr: string; label_en: string }, indicators: ExportIndicator[]) {
    const href = `${base(req)}/collections/${level.id}`;
    const bbox = await spatialExtent(level.id);
    const vintages = indicators.flatMap((i) => i.vintages).sort(compareVintages);
    return {
      id: level.id,
      title: level.label_fr,
      description: `${level.label_fr} / ${level.label_en} : code, nom et indicateurs (valeur, numérateur, dénominateur) au dernier millésime / code, name and indicators at their latest vintage.`,
      itemType: 'feature',
      extent: {
        spatial: { bbox: bbox ? [bbox] : [], crs: CRS84 },
        ...(vintages.length
          ? { temporal: { interval: [[`${vintageStartDate(vintages[0]!)}T00:00:00Z`, `${vintageEndDate(vintages.at(-1)!)}T23:59:59Z`]], trs: 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian' } }
          : {}),
      },
      crs: CRS_LIST.map(([uri]) => uri),
      storageCrs: CRS84,
      // terrinum: the indicator properties every feature carries, with the vintage served by default
      indicators: indicators.map((i) => ({ id: i.id, title: i.label_fr, title_en: i.label_en, unit: i.unit, vintage: i.vintage, vintages: i.vintages, properties: indicatorFields(i.id) })),
      links: [
        { href, rel: 'self', type: JSON_TYPE, title: level.label_fr },
        { href: `${href}/items`, rel: 'items', type: GEOJSON, title: `${level.label_fr} (GeoJSON)` },
        { href: `${base(req).replace(/\/ogc$/, '')}/api/export/${level.id}.gpkg`, rel: 'enclosure', type: 'application/geopackage+sqlite3', title: 'GeoPackage (EPSG:2154)' },
      ],
    };
  }

  router.get('/', async (req, res) => {
    rejectUnknownParameters(req, Object.keys(fOnly.shape));
    landingOp.query(nonEmptyQuery(req));
    const root = base(req);
    const apiRoot = root.replace(/\/ogc$/, '');
    res.type(JSON_TYPE).json({
      title: 'terrinum — OGC API – Features',
      description: 'Fibre et usages numériques par commune, EPCI, département et région / Fibre deployment and digital usage by territory.',
      links: [
        { href: root, rel: 'self', type: JSON_TYPE, title: 'Cette page / this document' },
        { href: `${apiRoot}/api/openapi.json`, rel: 'service-desc', type: OPENAPI_TYPE, title: 'Définition OpenAPI / API definition' },
        { href: `${apiRoot}/api/docs`, rel: 'service-doc', type: 'text/html', title: 'Documentation' },
        { href: `${root}/conformance`, rel: 'conformance', type: JSON_TYPE, title: 'Classes de conformité / Conformance' },
        { href: `${root}/collections`, rel: 'data', type: JSON_TYPE, title: 'Collections' },
      ],
    });
  });

  router.get('/conformance', (req, res) => {
    rejectUnknownParameters(req, Object.keys(fOnly.shape));
    conformanceOp.query(nonEmptyQuery(req));
    res.type(JSON_TYPE).json({ conformsTo: CONFORMANCE });
  });

  router.get('/collections', async (req, res) => {
    rejectUnknownParameters(req, Object.keys(fOnly.shape));
    collectionsOp.query(nonEmptyQuery(req));
    const [levels, indicators] = await Promise.all([catalogue.levels(), resolveIndicators(catalogue, undefined, undefined)]);
    const collections = [];
    for (const level of levels) collections.push(await describeCollection(req, level, indicators));
    res.type(JSON_TYPE).json({
      links: [{ href: `${base(req)}/collections`, rel: 'self', type: JSON_TYPE, title: 'Collections' }],
      collections,
    });
  });

  router.get('/collections/:collectionId', async (req, res) => {
    const { collectionId } = collectionOp.params(req);
    rejectUnknownParameters(req, Object.keys(fOnly.shape));
    collectionOp.query(nonEmptyQuery(req));
    const level = await resolve.level(collectionId, 'collectionId');
    const indicators = await resolveIndicators(catalogue, undefined, undefined);
    res.type(JSON_TYPE).json(await describeCollection(req, level, indicators));
  });

  /** Indicator columns at the vintage asked by `vintage` or `datetime` (each indicator's latest otherwise). */
  async function indicatorColumns(query: { indicators?: string[]; vintage?: string; datetime?: string | null }) {
    if (query.vintage !== undefined && query.datetime !== undefined) throw new HttpError(400, 'invalid-parameter', 'give vintage or datetime, not both', 'datetime');
    if (query.datetime) {
      // the vintage in force at that date: a day-precise date is the end of the month it falls in at most
      const all = await resolveIndicators(catalogue, query.indicators, undefined);
      const columns = all.map((i) => ({ ...i, vintage: [...i.vintages].filter((v) => vintageEndDate(v) <= query.datetime!).at(-1) ?? null }));
      if (columns.every((c) => c.vintage === null)) throw new HttpError(404, 'no-data', `no indicator value at or before ${query.datetime}`, 'datetime');
      return columns;
    }
    return resolveIndicators(catalogue, query.indicators, query.vintage);
  }

  function setCrsHeaders(res: Response, crsUri: string) {
    res.setHeader('Content-Crs', `<${crsUri}>`);
  }

  router.get('/collections/:collectionId/items', async (req, res) => {
    const { collectionId } = itemsOp.params(req);
    rejectUnknownParameters(req, Object.keys(itemsQuery.shape));
    const query = itemsOp.query(nonEmptyQuery(req));
    const level = await resolve.level(collectionId, 'collectionId');
    const crsUri = query.crs ?? CRS84;
    const srid = SRID_OF.get(crsUri)!;
    const bboxSrid = SRID_OF.get(query['bbox-crs'] ?? CRS84)!;
    if (query.bbox && bboxSrid === 4326) checkDegrees(query.bbox);
    const indicators = await indicatorColumns(query);
    const columns = indicators.map((i) => ({ id: i.id, vintage: i.vintage }));
    const filter: FeatureFilter = {
      level: level.id,
      bbox: query.bbox ? { box: query.bbox, srid: bboxSrid } : null,
      code: query.code ?? null,
      name: query.name ?? null,
      requireGeometry: true,
    };
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    const matched = await features.count(filter);
    const self = `${base(req)}/collections/${level.id}/items`;
    const pageLink = (rel: string, newOffset: number) => ({ href: withQuery(self, req.query, { offset: String(newOffset), limit: String(limit) }), rel, type: GEOJSON });
    const links = [
      { href: withQuery(self, req.query, {}), rel: 'self', type: GEOJSON, title: 'Cette page / this document' },
      ...(offset + limit < matched ? [pageLink('next', offset + limit)] : []),
      ...(offset > 0 ? [pageLink('prev', Math.max(0, offset - limit))] : []),
      { href: `${base(req)}/collections/${level.id}`, rel: 'collection', type: JSON_TYPE, title: level.label_fr },
    ];
    res.type(GEOJSON);
    setCrsHeaders(res, crsUri);
    const batches = features.batches(filter, { indicators: columns, geometry: { format: 'geojson', srid, precision: precisionOf(srid), orientation: 'ccw' } }, { offset, limit });
    await streamOrAbort(res, async () => {
      const head = {
        type: 'FeatureCollection',
        timeStamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        numberMatched: matched,
        links,
        // foreign member: the vintage each indicator column holds (with vintage= or datetime=, each indicator reads
        // its latest vintage at or before the one asked, which may differ between columns)
        terrinum: { indicators: columns },
      };
      if (!(await writeChunk(res, `${JSON.stringify(head).slice(0, -1)},"features":[\n`))) return;
      let returned = 0;
      for await (const batch of batches) {
        if (!(await writeChunk(res, `${returned ? ',\n' : ''}${batch.map((row: FeatureRow) => featureJson(row, columns)).join(',\n')}`))) return;
        returned += batch.length;
      }
      res.end(`\n],"numberReturned":${returned}}\n`);
    });
  });

  router.get('/collections/:collectionId/items/:featureId', async (req, res) => {
    const { collectionId, featureId } = itemOp.params(req);
    rejectUnknownParameters(req, Object.keys(itemQuery.shape));
    const query = itemOp.query(nonEmptyQuery(req));
    const level = await resolve.level(collectionId, 'collectionId');
    const crsUri = query.crs ?? CRS84;
    const srid = SRID_OF.get(crsUri)!;
    const indicators = await indicatorColumns(query);
    const columns = indicators.map((i) => ({ id: i.id, vintage: i.vintage }));
    const [row] = await features.page(
      { level: level.id, code: featureId, requireGeometry: true },
      { indicators: columns, geometry: { format: 'geojson', srid, precision: precisionOf(srid), orientation: 'ccw' } },
      { limit: 1 },
    );
    if (!row) throw new HttpError(404, 'unknown-feature', `collection ${level.id} has no feature "${featureId}"`, 'featureId');
    const collection = `${base(req)}/collections/${level.id}`;
    const links = [
      { href: withQuery(`${collection}/items/${encodeURIComponent(featureId)}`, req.query, {}), rel: 'self', type: GEOJSON },
      { href: collection, rel: 'collection', type: JSON_TYPE, title: level.label_fr },
    ];
    setCrsHeaders(res, crsUri);
    // end(), not send(): send() would add "; charset=utf-8", which application/geo+json does not define
    res.type(GEOJSON).end(featureJson(row, columns, `,"links":${JSON.stringify(links)},"terrinum":${JSON.stringify({ indicators: columns })}`));
  });

  return router;
}

/** A CRS84 box must be in degrees: a Lambert-93 box sent without bbox-crs is a client error worth naming. */
function checkDegrees([minX, minY, maxX, maxY]: [number, number, number, number]): void {
  if (minX < -180 || maxX > 180 || minY < -90 || maxY > 90) {
    throw new HttpError(400, 'invalid-parameter', 'query parameter bbox: longitudes and latitudes out of range; for projected coordinates set bbox-crs (e.g. EPSG:2154)', 'bbox');
  }
}

/** `href` with the request's query, some parameters replaced. */
function withQuery(href: string, query: Request['query'], replace: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (typeof value === 'string' && !(key in replace)) params.set(key, value);
  for (const [key, value] of Object.entries(replace)) params.set(key, value);
  const text = params.toString();
  return text ? `${href}?${text}` : href;
}
