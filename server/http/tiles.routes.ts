import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { MAX_ZOOM, MIN_ZOOM } from '../tiles/layers.ts';
import { createTileService, type TileAnswer, type TileServiceOptions } from '../tiles/service.ts';
import type { ApiDeps } from './api.routes.ts';
import { indicatorsParam, operation, problemSchema, text, vintageParam } from './validation.ts';

const MVT_TYPE = 'application/vnd.mapbox-vector-tile';
// Short: an import changes tiles, and the ETag makes revalidation cheap (304 from the cache).
const CACHE_CONTROL = 'public, max-age=60';

const layerParam = text()
  .regex(/^[a-z][a-z0-9_-]*$/, 'must be a layer id: commune, epci, departement, region or places')
  .meta({ description: 'Layer: a level (commune, epci, departement, region) or places (digital inclusion places).' });

const wholeNumber = (message: string, description: string) => text().regex(/^\d{1,8}$/, message).transform(Number).meta({ description });

const tileParams = z
  .object({
    layer: layerParam,
    z: wholeNumber(`must be a whole number from ${MIN_ZOOM} to ${MAX_ZOOM}`, `Zoom level, ${MIN_ZOOM} to ${MAX_ZOOM}.`).pipe(z.number().min(MIN_ZOOM).max(MAX_ZOOM, `must be at most ${MAX_ZOOM} (the deepest zoom served; clients over-zoom past it)`)),
    x: wholeNumber('must be a whole number from 0 to 2^z − 1', 'Tile column, 0 to 2^z − 1.'),
    y: wholeNumber('must be a whole number from 0 to 2^z − 1', 'Tile row from the north, 0 to 2^z − 1 (XYZ scheme).'),
  })
  .superRefine((tile, ctx) => {
    const size = 2 ** tile.z;
    for (const axis of ['x', 'y'] as const) {
      if (tile[axis] >= size) ctx.addIssue({ code: 'custom', path: [axis], message: `must be below 2^z = ${size} at zoom ${tile.z}` });
    }
  });

const tileQuery = z.object({
  vintage: vintageParam.optional(),
  indicators: indicatorsParam.optional(),
});

const problems = {
  '400': { description: 'Invalid parameter (problem+json naming it)', content: { 'application/problem+json': problemSchema } },
  '404': { description: 'Unknown layer, indicator or vintage', content: { 'application/problem+json': problemSchema } },
};

const tileOp = operation({
  method: 'get',
  path: '/tiles/{layer}/{z}/{x}/{y}.mvt',
  operationId: 'getTile',
  tags: ['tiles'],
  summary: 'Vector tile (Mapbox Vector Tile 2.1) of a level or of the places',
  description:
    'Features carry `code`, `name`, `partial` and one property per requested indicator, named by its id, valued at ' +
    '`vintage` (each indicator at its latest vintage when absent); a territory without a value has no such property. ' +
    'The places layer carries `id`, `name`, `kind`. An empty tile is answered 204 No Content. Tiles are cached ' +
    'until the next import; `ETag`/`If-None-Match` revalidate (304), `Accept-Encoding: gzip` compresses.',
  params: tileParams,
  query: tileQuery,
  responses: {
    '200': { description: 'The tile', content: { [MVT_TYPE]: null } },
    '204': { description: 'Empty tile: no feature here' },
    '304': { description: 'Not modified (If-None-Match)' },
    ...problems,
  },
});

const tileJsonOp = operation({
  method: 'get',
  path: '/tiles/{layer}.json',
  operationId: 'getTileJson',
  tags: ['tiles'],
  summary: 'TileJSON 3.0.0 of a layer (the same query as its tiles)',
  params: z.object({ layer: layerParam }),
  query: tileQuery,
  responses: { '200': { description: 'TileJSON 3.0.0', content: { 'application/json': null } }, ...problems },
});

/**
 * Vector tiles and their TileJSON under /tiles: `router`, and `cachedTiles`, the fast path of cache hits, to mount
 * before the middleware a hit does not need (compression, parameter checks) and after the headers every answer
 * carries (security, CORS).
 */
export function tilesRoutes({ database, catalogue }: ApiDeps, options: TileServiceOptions = {}): { router: Router; cachedTiles: RequestHandler } {
  const router = Router();
  const tiles = createTileService(database, catalogue, options);

  router.get('/:layer/:z/:x/:y.mvt', async (req, res) => {
    const { layer, z: zoom, x, y } = tileOp.params(req);
    const query = tileOp.query(req);
    const resolved = await tiles.resolve(layer, query.indicators ?? [], query.vintage, zoom, x, y);
    send(req, res, await tiles.tile(resolved, req.originalUrl));
  });

  router.get('/:layer.json', async (req, res) => {
    const { layer } = tileJsonOp.params(req);
    const query = tileJsonOp.query(req);
    const resolved = await tiles.resolve(layer, query.indicators ?? [], query.vintage);
    // the query is kept as given: the tiles then answer exactly what this TileJSON describes
    const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const template = `${req.protocol}://${req.get('host')}${req.baseUrl}/${encodeURIComponent(layer)}/{z}/{x}/{y}.mvt${search}`;
    res.json(await tiles.tileJson(resolved, template));
  });

  // A URL this router validated and resolved, whose tile is cached under the current data version, is answered
  // at once: validation, resolution and the middleware in between cost more than the hit itself (CPU per hit
  // measured 143–172 µs through them, 91–97 µs past them; docs/tiles.md). Anything else goes on to the router.
  const cachedTiles: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const tile = tiles.cachedByUrl(req.originalUrl);
    if (!tile) return next();
    send(req, res, { ...tile, hit: true });
  };

  return { router, cachedTiles };
}

/** Answers a tile: 304 when the client has it, 204 when empty, gzipped when accepted. */
function send(req: Request, res: Response, tile: TileAnswer): void {
  res.setHeader('ETag', tile.etag);
  res.setHeader('Cache-Control', CACHE_CONTROL);
  // appended: the CORS middleware may have set Vary: Origin already
  res.vary('Accept-Encoding');
  res.setHeader('X-Tile-Cache', tile.hit ? 'hit' : 'miss');
  const known = req.get('if-none-match');
  if (known && (known.trim() === '*' || known.split(',').some((tag) => weak(tag.trim()) === weak(tile.etag)))) {
    res.status(304).end();
    return;
  }
  if (!tile.raw.length) {
    res.status(204).end();
    return;
  }
  res.setHeader('Content-Type', MVT_TYPE);
  const body = tile.gzip && req.acceptsEncodings('gzip', 'identity') === 'gzip' ? tile.gzip : tile.raw;
  if (body === tile.gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/** If-None-Match compares weakly (RFC 9110 §13.1.2). */
const weak = (tag: string) => tag.replace(/^W\//, '');
