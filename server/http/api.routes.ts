import { Router, type Request } from 'express';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { postgisVersion } from '../db/migrate.ts';
import type { CatalogueRepository } from '../repositories/catalogue.repository.ts';
import type { StatsRepository } from '../repositories/stats.repository.ts';
import type { TerritoriesRepository } from '../repositories/territories.repository.ts';
import type { CatalogueService } from '../services/catalogue.service.ts';
import { HttpError } from './errors.ts';
import { sortAndPage } from './paging.ts';
import { BivariateInputError, bivariate, parseThresholds } from '../analysis/bivariate.ts';
import { MULTISPEED_RULE, rankMultispeed } from '../analysis/disparity.ts';
import { compareVintages } from '../repositories/catalogue.repository.ts';
import type { MetricsRepository } from '../repositories/metrics.repository.ts';

export interface ApiDeps {
  config: Readonly<Config>;
  database: Database;
  catalogue: CatalogueRepository;
  territories: TerritoriesRepository;
  stats: StatsRepository;
  metrics: MetricsRepository;
  resolve: CatalogueService;
}

/** A single-valued string query parameter; repeated or nested parameters are a 400. */
function queryParam(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new HttpError(400, 'invalid-parameter', `parameter ${name} must be given once, as a plain value`, name);
}

const SYNTHETIC_NOTICE = 'Données synthétiques de démonstration — pas des données réelles / Synthetic demonstration data — not real data';

/** The JSON API: health, meta, indicators, stats, multispeed, bivariate, access, geometries, sources. */
export function apiRouter({ config, database, catalogue, territories, stats, metrics, resolve }: ApiDeps): Router {
  const router = Router();

  router.get('/health', async (_req, res) => {
    res.json({ status: 'ok', database: { backend: database.backend, postgis: await postgisVersion(database) } });
  });

  router.get('/meta', async (_req, res) => {
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

  router.get('/indicators', async (_req, res) => {
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

  router.get('/stats/:level', async (req, res) => {
    const level = await resolve.level(req.params.level);
    const indicator = await resolve.indicator(queryParam(req, 'indicator'));
    const vintage = resolve.vintage(indicator, queryParam(req, 'vintage'));
    const withinId = await resolve.within(queryParam(req, 'within'));
    const rows = await stats.rows(level.id, indicator.id, vintage, withinId);
    const shaped = rows.map((row) => {
      const { lisa_i, lisa_p, lisa_class, ...rest } = row;
      return {
        ...rest,
        // ARCEP ratios can exceed 100 %: the raw value is kept, the display value is capped
        display_value: row.value !== null && indicator.unit === 'ratio' ? Math.min(row.value, 1) : row.value,
        vintage,
        ...(level.rank === 0 ? { lisa_i, lisa_p, lisa_class } : {}),
      };
    });
    const page = sortAndPage(shaped, req.query, shaped[0] ? Object.keys(shaped[0]) : ['code']);
    res.json({
      level: level.id,
      indicator: indicator.id,
      vintage,
      synthetic: indicator.synthetic || (await territories.isSynthetic()),
      total: page.total,
      rows: page.rows,
    });
  });

  router.get('/multispeed', async (req, res) => {
    const levelId = queryParam(req, 'level') ?? 'epci';
    const level = await resolve.level(levelId);
    if (level.rank === 0) throw new HttpError(400, 'invalid-level', 'multi-speed territories are coarser levels: level=epci, departement or region', 'level');
    const indicator = await resolve.indicator(queryParam(req, 'indicator'));
    const vintage = resolve.vintage(indicator, queryParam(req, 'vintage'));
    const withinId = await resolve.within(queryParam(req, 'within'));
    const rows = rankMultispeed(await metrics.disparity(level.id, indicator.id, vintage, withinId));
    // by default the ranking order: rank 1 first, unranked (partial) territories last
    const ranking = [...rows].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.code.localeCompare(b.code));
    const page = sortAndPage(req.query.sort ? rows : ranking, req.query, Object.keys(rows[0] ?? { code: 1 }));
    res.json({ level: level.id, indicator: indicator.id, vintage, rule: MULTISPEED_RULE, total: page.total, rows: page.rows });
  });

  router.get('/bivariate/:level', async (req, res) => {
    const level = await resolve.level(req.params.level);
    const x = await resolve.indicator(queryParam(req, 'x') ?? '', 'x');
    const y = await resolve.indicator(queryParam(req, 'y') ?? '', 'y');
    const requested = queryParam(req, 'vintage');
    // each axis uses its latest vintage at or before the requested one; by default the later of the two latest
    const vintage = requested ? resolve.vintageFormat(requested) : [x.vintages.at(-1) ?? '', y.vintages.at(-1) ?? ''].sort(compareVintages).at(-1)!;
    const withinId = await resolve.within(queryParam(req, 'within'));
    const thresholdsText = queryParam(req, 'thresholds');
    try {
      const thresholds = thresholdsText ? parseThresholds(thresholdsText) : undefined;
      const rows = await bivariate(database.db, { level: level.id, x: x.id, y: y.id, vintage, thresholds, withinId: withinId ?? undefined });
      const page = sortAndPage(rows, req.query, Object.keys(rows[0] ?? { code: 1 }));
      res.json({ level: level.id, x: x.id, y: y.id, vintage, total: page.total, rows: page.rows });
    } catch (error) {
      if (error instanceof BivariateInputError) throw new HttpError(400, 'invalid-parameter', error.message, error.parameter);
      throw error;
    }
  });

  router.get('/access/:level', async (req, res) => {
    const level = await resolve.level(req.params.level);
    const withinId = await resolve.within(queryParam(req, 'within'));
    const rows = await metrics.access(level.id, withinId);
    const page = sortAndPage(rows, req.query, Object.keys(rows[0] ?? { code: 1 }));
    res.json({ level: level.id, total: page.total, rows: page.rows });
  });

  router.get('/geometries/:level', async (req, res) => {
    const level = await resolve.level(req.params.level);
    const withinId = await resolve.within(queryParam(req, 'within'));
    const rows = await territories.outlines(level.id, withinId);
    // Geometry text comes from PostGIS as is; the collection is assembled without re-parsing it.
    res.type('application/geo+json');
    res.write('{"type":"FeatureCollection","features":[');
    rows.forEach((row, index) => {
      res.write(`${index ? ',' : ''}{"type":"Feature","properties":${JSON.stringify({ code: row.code, name: row.name })},"geometry":${row.geometry}}`);
    });
    res.end(']}');
  });

  router.get('/sources', async (_req, res) => {
    res.json(await catalogue.sources());
  });

  return router;
}
