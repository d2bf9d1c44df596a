import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import compression from 'compression';
import express from 'express';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { createCatalogueRepository } from '../repositories/catalogue.repository.ts';
import { createMetricsRepository } from '../repositories/metrics.repository.ts';
import { createStatsRepository } from '../repositories/stats.repository.ts';
import { createTerritoriesRepository } from '../repositories/territories.repository.ts';
import { createCatalogueService } from '../services/catalogue.service.ts';
import { apiRouter, type ApiDeps } from './api.routes.ts';
import { embedRouter } from './embed.routes.ts';
import { exportRouter } from './export.routes.ts';
import { ogcRouter } from './ogc.routes.ts';
import { openapiRouter } from './openapi.routes.ts';
import { tilesRoutes } from './tiles.routes.ts';
import { notFound, problemHandler } from './errors.ts';
import { accessLog, corsPolicy, exportRateLimit, noNulCharacters, readOnly, securityHeaders } from './security.ts';

/** The built client (npm run build). */
export const CLIENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'client');

export interface AppContext {
  config: Readonly<Config>;
  database: Database;
  logger: Logger;
}

/** Builds the Express application: API under /api, the map client at /. */
export function createApp({ config, database, logger }: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  const catalogue = createCatalogueRepository(database.db);
  const territories = createTerritoriesRepository(database.db);
  const stats = createStatsRepository(database.db);
  const metrics = createMetricsRepository(database.db);
  const resolve = createCatalogueService(catalogue, territories);

  const deps: ApiDeps = { config, database, catalogue, territories, stats, metrics, resolve };
  const tiles = tilesRoutes(deps);

  app.use(accessLog(logger));
  app.use(securityHeaders(config));
  // The data services: CORS per the allow-list, read-only, no NUL byte in parameters. No route reads a request
  // body (GET only, other methods refused before any is read), so there is no body parser to size-limit.
  for (const mount of ['/api', '/tiles', '/ogc']) app.use(mount, corsPolicy(config), readOnly);
  // Cached tiles, at thousands a second, skip what follows (issue #5): only URLs the tile router validated before.
  app.use('/tiles', tiles.cachedTiles);
  // JSON rows, GeoJSON and CSV shrink ~8× (national /api/stats/commune: 12 MB); tiles set their own gzip and are skipped.
  // Exports at gzip level 1: measured on commune outlines, level 6 compresses 30 MB per CPU-second (the export's
  // whole throughput goal, and more CPU than the export itself), level 1 140 MB for 3.2× smaller instead of 3.6×.
  // GeoPackage, FlatGeobuf and zip are not compressible types and go through as they are.
  const compressAnswer = compression({ threshold: 1024 });
  const compressExport = compression({ threshold: 1024, level: 1 });
  app.use((req, res, next) => (req.path.startsWith('/api/export/') ? compressExport : compressAnswer)(req, res, next));
  for (const mount of ['/api', '/tiles', '/ogc']) app.use(mount, noNulCharacters);

  app.use('/api', openapiRouter(deps));
  app.use('/api/export', exportRateLimit(config), exportRouter(deps));
  app.use('/api', apiRouter(deps));
  app.use('/api', notFound);
  app.use('/tiles', tiles.router);
  app.use('/ogc', ogcRouter(deps));
  app.use(embedRouter(deps));

  if (fs.existsSync(path.join(CLIENT_DIR, 'index.html'))) {
    app.use(express.static(CLIENT_DIR, { index: 'index.html', maxAge: '1h' }));
  } else {
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('The map client is not built: run `npm run build` (npm start does it for you).\n');
    });
  }
  app.use(notFound);
  app.use(problemHandler(logger));
  return app;
}
