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
import { tilesRouter } from './tiles.routes.ts';
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

  app.use(accessLog(logger));
  // JSON rows, GeoJSON and CSV shrink ~8× (national /api/stats/commune: 12 MB); tiles set their own gzip and are skipped.
  app.use(compression({ threshold: 1024 }));
  app.use(securityHeaders(config));
  // The data services: CORS per the allow-list, read-only, no NUL byte in parameters. No route reads a request
  // body (GET only, other methods refused before any is read), so there is no body parser to size-limit.
  for (const mount of ['/api', '/tiles', '/ogc']) app.use(mount, corsPolicy(config), readOnly, noNulCharacters);

  const deps: ApiDeps = { config, database, catalogue, territories, stats, metrics, resolve };
  app.use('/api', openapiRouter(deps));
  app.use('/api/export', exportRateLimit(config), exportRouter(deps));
  app.use('/api', apiRouter(deps));
  app.use('/api', notFound);
  app.use('/tiles', tilesRouter(deps));
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
