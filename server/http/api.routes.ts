import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { postgisVersion } from '../db/migrate.ts';
import type { CatalogueRepository } from '../repositories/catalogue.repository.ts';
import type { StatsRepository } from '../repositories/stats.repository.ts';
import type { TerritoriesRepository } from '../repositories/territories.repository.ts';
import type { CatalogueService } from '../services/catalogue.service.ts';
import { createSearchService } from '../services/search.service.ts';
import { createDataVersionReader } from '../db/data-version.ts';
import { createAnswerCache } from './answer-cache.ts';
import { createFeaturesRepository } from '../repositories/features.repository.ts';
import { writeChunk } from '../export/stream.ts';
import { streamOrAbort } from './export.routes.ts';
import { createTerritoryService } from '../services/territory.service.ts';
import { HttpError } from './errors.ts';
import { sortAndPage } from './paging.ts';
import { BivariateInputError, bivariate, parseThresholds, type BivariateRow } from '../analysis/bivariate.ts';
import { disparityAtThreshold, MULTISPEED_RULE, rankMultispeed } from '../analysis/disparity.ts';
import { compareVintages } from '../repositories/catalogue.repository.ts';
import type { MetricsRepository } from '../repositories/metrics.repository.ts';
import { bboxParam, codesParam, levelParam, operation, pagingQuery, vintageParam, withinParam, type Operation } from './validation.ts';
import * as schemas from './api.schemas.ts';

export interface ApiDeps {
  config: Readonly<Config>;
  database: Database;
  catalogue: CatalogueRepository;
  territories: TerritoriesRepository;
  stats: StatsRepository;
  metrics: MetricsRepository;
  resolve: CatalogueService;
}

const SYNTHETIC_NOTICE = 'Données synthétiques de démonstration — pas des données réelles / Synthetic demonstration data — not real data';

/** Express path of an operation mounted under /api: `/api/stats/{level}` → `/stats/:level`. */
export function routePath(op: Operation<z.ZodObject, z.ZodObject>, mount = '/api'): string {
  return op.spec.path.slice(mount.length).replace(/\{(\w+)\}/g, ':$1');
}

/** Query parameters given empty (`vintage=`) count as absent, as they always have. */
function withoutEmpty(req: Request): Request {
  const query = Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== ''));
  return { params: req.params, query } as unknown as Request;
}

/** Answers kept by the answer cache: a national commune list is ~10 MB of JSON (~1.3 MB gzipped). */
const ANSWER_CACHE_BYTES = 64 * 1024 * 1024;
/** How long a read of the data version is trusted (as the tiles do): another process's import shows within it. */
const DATA_VERSION_TTL_MS = 1000;

const json = (description: string, schema: z.ZodType | null) => ({ '200': { description, content: { 'application/json': schema } } });

// ---- Operations (validation + OpenAPI) -------------------------------------------------------------------------

const healthOp = operation({
  method: 'get',
  path: '/api/health',
  operationId: 'getHealth',
  tags: ['meta'],
  summary: 'Service and database health',
  responses: json('The service answers; the database backend and its PostGIS version.', schemas.healthResponse),
});

const metaOp = operation({
  method: 'get',
  path: '/api/meta',
  operationId: 'getMeta',
  tags: ['meta'],
  summary: 'Name, attribution, extent, basemap and levels of this deployment',
  responses: json('Deployment metadata.', schemas.metaResponse),
});

const indicatorsOp = operation({
  method: 'get',
  path: '/api/indicators',
  operationId: 'listIndicators',
  tags: ['catalogue'],
  summary: 'Indicator catalogue with the vintages that have values',
  responses: json('Indicators by theme, vintages oldest first.', schemas.indicatorsResponse),
});

const statsOp = operation({
  method: 'get',
  path: '/api/stats/{level}',
  operationId: 'getStats',
  tags: ['statistics'],
  summary: 'One indicator for every territory of a level, with its stored metrics',
  description:
    'Value, numerator and denominator (ratio of sums for aggregates), completeness, trend and access for each territory; ' +
    'LISA at commune level; the disparity of member communes at coarser levels; with `y=`, the bivariate class against a second indicator.',
  params: z.object({ level: levelParam }),
  query: z.object({
    indicator: schemas.indicatorName('indicator'),
    vintage: vintageParam.optional(),
    within: withinParam.optional(),
    bbox: bboxParam.optional(),
    codes: codesParam.optional(),
    y: schemas.indicatorName('y').optional().meta({ description: 'Second indicator: adds y, x_class, y_class, bivariate_class, typology and gap (as /api/bivariate).' }),
    fields: schemas.statsFieldsParam.optional(),
    ...pagingQuery,
  }),
  responses: json('Rows of the level, by code unless sorted.', schemas.statsResponse),
});

const multispeedOp = operation({
  method: 'get',
  path: '/api/multispeed',
  operationId: 'getMultispeed',
  tags: ['statistics'],
  summary: 'Multi-speed territories: disparity of member communes, ranked',
  params: z.object({}),
  query: z.object({
    level: levelParam.optional().meta({ description: 'A coarser level: epci (default), departement or region.' }),
    indicator: schemas.indicatorName('indicator'),
    vintage: vintageParam.optional(),
    within: withinParam.optional(),
    threshold: z
      .string({ error: 'must be given once, as a plain value' })
      .regex(/^\d+(\.\d+)?$/, 'must be a number of points from 0 to 100')
      .transform(Number)
      .pipe(z.number().max(100, 'must be a number of points from 0 to 100'))
      .optional()
      .meta({ description: 'X, in points: "far below" = more than X points below the territory\'s own rate. Default: the stored one (TERRINUM_DISPARITY_THRESHOLD, 30); another X recomputes share_population_below and multispeed from member communes.' }),
    ...pagingQuery,
  }),
  responses: json('Territories ranked, multi-speed first; partial territories unranked, last.', schemas.multispeedResponse),
});

const bivariateOp = operation({
  method: 'get',
  path: '/api/bivariate/{level}',
  operationId: 'getBivariate',
  tags: ['statistics'],
  summary: 'Coverage × usage: 3 × 3 classes, typology and gap',
  params: z.object({ level: levelParam }),
  query: z.object({
    x: schemas.indicatorName('x'),
    y: schemas.indicatorName('y'),
    vintage: vintageParam.optional().meta({ description: 'Each axis at its latest vintage at or before this one (default: the later of the two latest).' }),
    within: withinParam.optional(),
    thresholds: schemas.thresholdsParam.optional(),
    ...pagingQuery,
  }),
  responses: json('Territories with both values.', schemas.bivariateResponse),
});

const accessOp = operation({
  method: 'get',
  path: '/api/access/{level}',
  operationId: 'getAccess',
  tags: ['statistics'],
  summary: 'Distance to the nearest digital mediation place',
  params: z.object({ level: levelParam }),
  query: z.object({ within: withinParam.optional(), ...pagingQuery }),
  responses: json('Distances and shares of population beyond 10 and 20 km.', schemas.accessResponse),
});

const geometriesOp = operation({
  method: 'get',
  path: '/api/geometries/{level}',
  operationId: 'getGeometries',
  tags: ['geometries'],
  summary: 'Outlines of a level as GeoJSON',
  params: z.object({ level: levelParam }),
  query: z.object({ within: withinParam.optional(), bbox: bboxParam.optional(), codes: codesParam.optional() }),
  responses: { '200': { description: 'Outlines (WGS84, 6 decimals).', content: { 'application/geo+json': schemas.geometriesResponse } } },
});

const territoryOp = operation({
  method: 'get',
  path: '/api/territories/{level}/{code}',
  operationId: 'getTerritory',
  tags: ['territories'],
  summary: 'Everything about one territory',
  description: 'Names, parents, member communes, neighbours, every indicator over every vintage with its rank, disparity, LISA, trend, access and sources.',
  params: z.object({ level: levelParam, code: schemas.codeParam }),
  responses: json('The territory.', schemas.territoryResponse),
});

const searchOp = operation({
  method: 'get',
  path: '/api/search',
  operationId: 'searchTerritories',
  tags: ['territories'],
  summary: 'Find communes, EPCI, départements and régions by name, code or postal code',
  description: 'Accent- and case-insensitive. Ranked: exact code or postal code, whole name, name prefix, word prefix, similar names; larger population first on ties.',
  params: z.object({}),
  query: z.object({
    q: schemas.required('q=laon').min(1, 'must not be empty').max(100, 'must be at most 100 characters').meta({ description: 'Name, INSEE/SIREN code or postal code.' }),
    limit: schemas.searchLimitParam.optional(),
    levels: schemas.levelsParam.optional(),
  }),
  responses: json('Results, best first.', schemas.searchResponse),
});

const sourcesOp = operation({
  method: 'get',
  path: '/api/sources',
  operationId: 'listSources',
  tags: ['catalogue'],
  summary: 'Every imported source, with publisher, licence and vintage',
  responses: json('Sources.', schemas.sourcesResponse),
});

/** Bivariate fields added to stats rows with `y=` (null for a territory without both values). */
function bivariateFields(row: BivariateRow | undefined) {
  return {
    y: row?.y ?? null,
    y_vintage: row?.y_vintage ?? null,
    x_class: row?.x_class ?? null,
    y_class: row?.y_class ?? null,
    bivariate_class: row?.bivariate_class ?? null,
    typology: row?.typology ?? null,
    gap: row?.gap ?? null,
  };
}

/** The JSON API: health, meta, indicators, stats, multispeed, bivariate, access, geometries, territories, search, sources. */
export function apiRouter({ config, database, catalogue, territories, stats, metrics, resolve }: ApiDeps): Router {
  const router = Router();
  const territoryService = createTerritoryService(catalogue, territories);
  const searchService = createSearchService(database.db);
  // the lists a map view loads and the territory profiles, replayed until the next import
  const features = createFeaturesRepository(database.db, { prefetch: database.backend === 'postgis' });
  const answers = createAnswerCache(createDataVersionReader(database, DATA_VERSION_TTL_MS), ANSWER_CACHE_BYTES);
  const get = (op: Operation<z.ZodObject, z.ZodObject>, handler: RequestHandler) => router.get(routePath(op), handler);

  get(healthOp, async (_req, res) => {
    res.json({ status: 'ok', database: { backend: database.backend, postgis: await postgisVersion(database) } });
  });

  get(metaOp, async (_req, res) => {
    const [synthetic, bbox, levels, sources] = await Promise.all([territories.isSynthetic(), territories.bbox(), catalogue.levels(), catalogue.sources()]);
    res.json({
      name: 'terrinum',
      synthetic,
      attribution: [
        ...(synthetic ? [SYNTHETIC_NOTICE] : []),
        ...sources.filter((s) => !s.synthetic).map((s) => [s.publisher ?? s.name, s.vintage, s.licence].filter(Boolean).join(' · ')),
      ],
      bbox,
      basemapStyle: config.basemapStyle,
      levels: levels.map((l) => ({ id: l.id, label: { fr: l.label_fr, en: l.label_en } })),
    });
  });

  get(indicatorsOp, async (_req, res) => {
    const indicators = await catalogue.indicators();
    res.json(
      indicators.map((i) => ({
        id: i.id,
        label: { fr: i.label_fr, en: i.label_en },
        theme: i.theme,
        theme_label: { fr: i.theme_label_fr, en: i.theme_label_en },
        unit: i.unit,
        higher_is_better: i.higher_is_better,
        aggregation: i.aggregation,
        description: { fr: i.description_fr, en: i.description_en },
        publisher: i.publisher,
        licence: i.licence,
        synthetic: i.synthetic,
        vintages: i.vintages,
      })),
    );
  });

  get(
    statsOp,
    answers.cached(async (req, res) => {
      const params = statsOp.params(req);
      const query = statsOp.query(withoutEmpty(req));
      const level = await resolve.level(params.level);
      const indicator = await resolve.indicator(query.indicator);
      const vintage = resolve.vintage(indicator, query.vintage);
      const withinId = await resolve.within(query.within);
      const y = query.y === undefined ? null : await resolve.indicator(query.y, 'y');
      // fields= also spares the joins of the metrics nobody asked for (sorting reads the fields sent)
      const fields = query.fields ? new Set<string>(['code', ...query.fields]) : null;
      const rows = await stats.rows(level.id, indicator.id, vintage, withinId, { bbox: query.bbox, codes: query.codes }, fields);
      // classes are computed over the same territories as /api/bivariate (the level, or within=), then joined
      const pairs = y ? new Map((await bivariate(database.db, { level: level.id, x: indicator.id, y: y.id, vintage, withinId: withinId ?? undefined })).map((r) => [r.code, r])) : null;
      const coarser = level.rank > 0;
      const shaped = rows.map((row) => {
        const { lisa_i, lisa_p, lisa_class, gini, theil, cv, interdecile_ratio, share_population_below, multispeed, share_population_beyond_10km, share_population_beyond_20km, ...rest } = row;
        return {
          ...rest,
          // ARCEP ratios can exceed 100 %: the raw value is kept, the display value is capped
          display_value: row.value !== null && indicator.unit === 'ratio' ? Math.min(row.value, 1) : row.value,
          vintage,
          ...(coarser ? { gini, theil, cv, interdecile_ratio, share_population_below, multispeed, share_population_beyond_10km, share_population_beyond_20km } : { lisa_i, lisa_p, lisa_class }),
          ...(pairs ? bivariateFields(pairs.get(row.code)) : {}),
        };
      });
      const picked = fields ? shaped.map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => fields.has(key)))) : shaped;
      const page = sortAndPage(picked, query, picked[0] ? Object.keys(picked[0]) : ['code']);
      res.json({
        level: level.id,
        indicator: indicator.id,
        vintage,
        ...(y ? { y: y.id } : {}),
        synthetic: indicator.synthetic || (y?.synthetic ?? false) || (await territories.isSynthetic()),
        total: page.total,
        rows: page.rows,
      });
    }),
  );

  get(
    multispeedOp,
    answers.cached(async (req, res) => {
      const query = multispeedOp.query(withoutEmpty(req));
      const level = await resolve.level(query.level ?? 'epci');
      if (level.rank === 0) throw new HttpError(400, 'invalid-level', 'multi-speed territories are coarser levels: level=epci, departement or region', 'level');
      const indicator = await resolve.indicator(query.indicator);
      const vintage = resolve.vintage(indicator, query.vintage);
      const withinId = await resolve.within(query.within);
      const stored = await metrics.disparity(level.id, indicator.id, vintage, withinId);
      // another X than the stored one: share below and flag recomputed from member communes, same formula
      const threshold = query.threshold ?? stored[0]?.threshold_points ?? config.disparityThreshold;
      const rows = rankMultispeed(await disparityAtThreshold(database.db, stored, { level: level.id, indicator: indicator.id, vintage, thresholdPoints: threshold }));
      // by default the ranking order: rank 1 first, unranked (partial) territories last
      const ranking = [...rows].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.code.localeCompare(b.code));
      const page = sortAndPage(query.sort ? rows : ranking, query, Object.keys(rows[0] ?? { code: 1 }));
      res.json({ level: level.id, indicator: indicator.id, vintage, threshold, rule: MULTISPEED_RULE, total: page.total, rows: page.rows });
    }),
  );

  get(
    bivariateOp,
    answers.cached(async (req, res) => {
      const params = bivariateOp.params(req);
      const query = bivariateOp.query(withoutEmpty(req));
      const level = await resolve.level(params.level);
      const x = await resolve.indicator(query.x, 'x');
      const y = await resolve.indicator(query.y, 'y');
      // each axis uses its latest vintage at or before the requested one; by default the later of the two latest
      const vintage = query.vintage ? resolve.vintageFormat(query.vintage) : [x.vintages.at(-1) ?? '', y.vintages.at(-1) ?? ''].sort(compareVintages).at(-1)!;
      const withinId = await resolve.within(query.within);
      try {
        const thresholds = query.thresholds ? parseThresholds(query.thresholds) : undefined;
        const rows = await bivariate(database.db, { level: level.id, x: x.id, y: y.id, vintage, thresholds, withinId: withinId ?? undefined });
        const page = sortAndPage(rows, query, Object.keys(rows[0] ?? { code: 1 }));
        res.json({ level: level.id, x: x.id, y: y.id, vintage, total: page.total, rows: page.rows });
      } catch (error) {
        if (error instanceof BivariateInputError) throw new HttpError(400, 'invalid-parameter', error.message, error.parameter);
        throw error;
      }
    }),
  );

  get(
    accessOp,
    answers.cached(async (req, res) => {
      const params = accessOp.params(req);
      const query = accessOp.query(withoutEmpty(req));
      const level = await resolve.level(params.level);
      const withinId = await resolve.within(query.within);
      const rows = await metrics.access(level.id, withinId);
      const page = sortAndPage(rows, query, Object.keys(rows[0] ?? { code: 1 }));
      res.json({ level: level.id, total: page.total, rows: page.rows });
    }),
  );

  get(geometriesOp, async (req, res) => {
    const params = geometriesOp.params(req);
    const query = geometriesOp.query(withoutEmpty(req));
    const level = await resolve.level(params.level);
    const withinId = await resolve.within(query.within);
    // streamed in batches written by the database (as the GeoJSON export): a national level is never held whole
    const batches = features.featureTextBatches(
      { level: level.id, withinId, bbox: query.bbox ? { box: query.bbox, srid: 4326 } : null, codes: query.codes ?? null, requireGeometry: true },
      { indicators: [], precision: 6 },
    );
    res.type('application/geo+json');
    await streamOrAbort(res, async () => {
      if (!(await writeChunk(res, '{"type":"FeatureCollection","features":[\n'))) return;
      let written = 0;
      for await (const batch of batches) {
        if (!(await writeChunk(res, written ? `,\n${batch.text}` : batch.text))) return;
        written += batch.count;
      }
      res.end('\n]}\n');
    });
  });

  get(
    territoryOp,
    answers.cached(async (req, res) => {
      const params = territoryOp.params(req);
      const level = await resolve.level(params.level);
      res.json(await territoryService.profile(level.id, params.code));
    }),
  );

  get(searchOp, async (req, res) => {
    const query = searchOp.query(withoutEmpty(req));
    if (query.q.trim() === '') throw new HttpError(400, 'invalid-parameter', 'query parameter q: must not be blank', 'q');
    if (query.levels) for (const id of query.levels) await resolve.level(id, 'levels');
    const results = await searchService.search({ q: query.q, limit: query.limit ?? 10, levels: query.levels ?? null });
    res.json({ q: query.q, results });
  });

  get(sourcesOp, async (_req, res) => {
    res.json(await catalogue.sources());
  });

  return router;
}
