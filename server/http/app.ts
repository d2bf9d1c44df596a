import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { exportRouter } from './export.routes.ts';
import { ogcRouter } from './ogc.routes.ts';
import { openapiRouter } from './openapi.routes.ts';
import { tilesRouter } from './tiles.routes.ts';
import { notFound, problemHandler } from './errors.ts';

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

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  const deps: ApiDeps = { config, database, catalogue, territories, stats, metrics, resolve };
  app.use('/api', openapiRouter(deps));
  app.use('/api/export', exportRouter(deps));
  app.use('/api', apiRouter(deps));
  app.use('/api', notFound);
  app.use('/tiles', tilesRouter(deps));
  app.use('/ogc', ogcRouter(deps));

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
