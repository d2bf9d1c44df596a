import crypto from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { HttpError } from '../http/errors.ts';
import type { CatalogueRepository } from '../repositories/catalogue.repository.ts';
import { TileCache, type CachedTile } from './cache.ts';
import { rebuildTileGeometry, tileGeometryMissing } from './generalise.ts';
import { MAX_ZOOM, MIN_ZOOM, PLACES_LAYER } from './layers.ts';
import { createDataVersionReader } from '../db/data-version.ts';
import { TileProperties } from './precut.ts';
import { renderTile, type TileRequest } from './render.ts';

const gzip = promisify(zlib.gzip);

export interface TileServiceOptions {
  /** Bytes the tile cache may hold (raw and gzipped tiles); 64 MiB by default. */
  cacheBytes?: number;
  /**
   * How long a read of data_version is trusted, in milliseconds. Reading it for every cached tile would cap the
   * throughput at the database's; an import (this process or another) shows in tiles within this delay.
   */
  versionTtlMs?: number;
}

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_VERSION_TTL_MS = 1000;
/**
 * Request URLs remembered for the fast path of cache hits (see `cachedByUrl`), oldest forgotten first: a few
 * hundred bytes each, a few MB in all; a forgotten URL takes the full path once and is remembered again.
 */
const MAX_URLS = 20_000;

/** What the tiles answer about the catalogue, read once per data version. */
interface TileCatalogue {
  levels: Map<string, { label_fr: string; label_en: string }>;
  indicators: Map<string, { vintages: string[]; label_fr: string; label_en: string }>;
}

/** A validated tile request, and the data version it was resolved against. */
export interface ResolvedTile {
  version: number;
  request: TileRequest;
}

export interface TileAnswer extends CachedTile {
  /** Whether the tile came from the cache (or a render already under way). */
  hit: boolean;
}

/** Feature properties (and the geometry column) an indicator id cannot shadow. */
const RESERVED_PROPERTIES = new Set(['code', 'name', 'partial', 'geom', 'geometry']);

const SYNTHETIC_NOTICE = 'Données synthétiques de démonstration — pas des données réelles / Synthetic demonstration data — not real data';

/**
 * Vector tiles: request validation against the catalogue, rendering, an LRU cache of raw and gzipped tiles with
 * their ETags, invalidated when data_version changes (every import bumps it).
 */
export function createTileService(database: Database, catalogue: CatalogueRepository, options: TileServiceOptions = {}) {
  const cache = new TileCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
  const versionTtl = options.versionTtlMs ?? DEFAULT_VERSION_TTL_MS;
  /** Renders under way, so concurrent requests of a cold tile cut it once. */
  const pending = new Map<string, Promise<CachedTile>>();
  /**
   * Request URL → cache key of the tile it was resolved to (under the current data version): a URL once
   * validated and resolved (layer, indicators, latest vintages) is answered from the cache without doing so again.
   */
  const urls = new Map<string, string>();
  const versions = createDataVersionReader(database, versionTtl);
  const dataVersion = () => versions.read();
  let current: { version: number; catalogue: Promise<TileCatalogue>; properties: TileProperties } | null = null;

  /** The catalogue of the current data version; a new version empties the tile cache. */
  async function catalogueOf(versionValue: number): Promise<TileCatalogue> {
    if (current?.version !== versionValue) {
      cache.clear();
      urls.clear();
      const loading = loadCatalogue();
      const properties = new TileProperties(database.db);
      current = { version: versionValue, catalogue: loading, properties };
      // the low-zoom tiles write names from level-wide reads: started now, with the catalogue (a client asks for
      // the TileJSON first), rather than by the first tiles
      void loading.then((loaded) => Promise.all([...loaded.levels.keys()].map((level) => properties.territoriesOf(level)))).catch(() => undefined);
      loading.catch(() => {
        if (current?.catalogue === loading) current = null;
      });
    }
    return current.catalogue;
  }

  async function loadCatalogue(): Promise<TileCatalogue> {
    // a database migrated with outlines already in it has no generalised ones until its next import
    if (await tileGeometryMissing(database.db)) await database.db.transaction().execute((trx) => rebuildTileGeometry(trx));
    const [levels, indicators] = await Promise.all([catalogue.levels(), catalogue.indicators()]);
    return {
      levels: new Map(levels.map((l) => [l.id, l])),
      indicators: new Map(indicators.map((i) => [i.id, i])),
    };
  }

  /** Checks a layer and its indicators against the catalogue; each indicator at `vintage`, or its latest. */
  async function resolve(layer: string, indicatorIds: readonly string[], vintage: string | undefined, z = 0, x = 0, y = 0): Promise<ResolvedTile> {
    const versionValue = await dataVersion();
    const { levels, indicators } = await catalogueOf(versionValue);
    if (layer !== PLACES_LAYER && !levels.has(layer)) {
      throw new HttpError(404, 'unknown-layer', `unknown layer "${layer}"; known layers: ${[...levels.keys(), PLACES_LAYER].join(', ')}`, 'layer');
    }
    const ids = [...new Set(indicatorIds)];
    if (layer === PLACES_LAYER && ids.length) {
      throw new HttpError(400, 'invalid-parameter', 'the places layer carries no indicator: remove the indicators parameter', 'indicators');
    }
    const resolved = ids.map((id) => {
      const indicator = indicators.get(id);
      if (!indicator) throw new HttpError(404, 'unknown-indicator', `unknown indicator "${id}"; known indicators: ${[...indicators.keys()].join(', ')}`, 'indicators');
      if (RESERVED_PROPERTIES.has(id)) throw new HttpError(400, 'invalid-parameter', `indicator "${id}" has the name of a tile property of its own`, 'indicators');
      if (vintage === undefined) {
        const latest = indicator.vintages.at(-1);
        if (!latest) throw new HttpError(404, 'no-data', `indicator "${id}" has no values yet`, 'indicators');
        return { id, vintage: latest };
      }
      if (!indicator.vintages.includes(vintage)) {
        throw new HttpError(404, 'unknown-vintage', `indicator "${id}" has no vintage "${vintage}"; available: ${indicator.vintages.join(', ')}`, 'vintage');
      }
      return { id, vintage };
    });
    return { version: versionValue, request: { layer, z, x, y, indicators: resolved } };
  }

  /**
   * The cached tile a request URL was resolved to before, while the data version read is fresh; undefined
   * otherwise (the caller then takes the full path: validation, resolution, `tile`). Synchronous: no database.
   */
  function cachedByUrl(url: string): CachedTile | undefined {
    const version = versions.fresh();
    if (version === null || current?.version !== version) return undefined;
    const key = urls.get(url);
    // the key holds the data version: a URL resolved under an older one finds nothing
    return key === undefined ? undefined : cache.get(key);
  }

  /** The tile, from the cache or cut now (once, however many ask for it at the same time); `url` is remembered for `cachedByUrl`. */
  async function tile({ version: versionValue, request }: ResolvedTile, url?: string): Promise<TileAnswer> {
    const key = [versionValue, request.layer, request.z, request.x, request.y, ...request.indicators.map((i) => `${i.id}@${i.vintage}`)].join('/');
    if (url !== undefined && current?.version === versionValue && !urls.has(url)) {
      if (urls.size >= MAX_URLS) urls.delete(urls.keys().next().value!);
      urls.set(url, key);
    }
    const cached = cache.get(key);
    if (cached) return { ...cached, hit: true };
    const running = pending.get(key);
    if (running) return { ...(await running), hit: true };
    const rendering = (async () => {
      try {
        // properties read under an older data version are not shared with this one's tiles
        const properties = current?.version === versionValue ? current.properties : undefined;
        const raw = await renderTile(database, request, { properties });
        const entry: CachedTile = { raw, gzip: await compress(raw), etag: `W/"${crypto.createHash('sha1').update(raw).digest('base64url')}"` };
        // a render that began before an import is not cached under the version that replaced it
        if (current?.version === versionValue) cache.set(key, entry);
        return entry;
      } finally {
        pending.delete(key);
      }
    })();
    pending.set(key, rendering);
    return { ...(await rendering), hit: false };
  }

  /** TileJSON 3.0.0 of a layer; `tilesUrl` is the tile URL template, query included. */
  async function tileJson({ request }: ResolvedTile, tilesUrl: string) {
    const { levels, indicators } = await catalogueOf(await dataVersion());
    const { layer } = request;
    const level = levels.get(layer);
    const fields: Record<string, string> =
      layer === PLACES_LAYER
        ? { id: 'Number', name: 'String', kind: 'String' }
        : { code: 'String', name: 'String', partial: 'Boolean', ...Object.fromEntries(request.indicators.map((i) => [i.id, 'Number'])) };
    const description =
      layer === PLACES_LAYER
        ? 'Lieux de médiation numérique / Digital inclusion places'
        : [`${level!.label_fr} / ${level!.label_en}`, ...request.indicators.map((i) => `${i.id} ${i.vintage}: ${indicators.get(i.id)!.label_fr} / ${indicators.get(i.id)!.label_en}`)].join(' — ');
    return {
      tilejson: '3.0.0',
      name: `terrinum ${layer}`,
      description,
      version: '1.0.0',
      scheme: 'xyz',
      tiles: [tilesUrl],
      minzoom: MIN_ZOOM,
      maxzoom: MAX_ZOOM,
      bounds: await bounds(layer),
      attribution: await attribution(layer, request.indicators),
      vector_layers: [{ id: layer, description, minzoom: MIN_ZOOM, maxzoom: MAX_ZOOM, fields }],
    };
  }

  /** WGS84 extent of the layer's features; the whole Web Mercator world when it has none. */
  async function bounds(layer: string): Promise<[number, number, number, number]> {
    const extent =
      layer === PLACES_LAYER
        ? sql<{ w: number | null; s: number; e: number; n: number }>`SELECT ST_XMin(x) AS w, ST_YMin(x) AS s, ST_XMax(x) AS e, ST_YMax(x) AS n FROM (SELECT ST_Extent(geom)::geometry AS x FROM place) q`
        : sql<{ w: number | null; s: number; e: number; n: number }>`SELECT ST_XMin(x) AS w, ST_YMin(x) AS s, ST_XMax(x) AS e, ST_YMax(x) AS n FROM (SELECT ST_Extent(geom)::geometry AS x FROM territory WHERE level = ${layer}) q`;
    const row = (await extent.execute(database.db)).rows[0];
    return row?.w == null ? [-180, -85.0511, 180, 85.0511] : [row.w, row.s, row.e, row.n];
  }

  /** Who to credit: the sources of the layer's outlines (or places) and of the indicator values it carries. */
  async function attribution(layer: string, used: readonly { id: string; vintage: string }[]): Promise<string> {
    const sources = await database.db
      .selectFrom('source as s')
      .where((eb) =>
        eb.or([
          layer === PLACES_LAYER
            ? eb.exists(eb.selectFrom('place as p').whereRef('p.source_id', '=', 's.id').select('p.id'))
            : eb.exists(eb.selectFrom('territory as t').whereRef('t.source_id', '=', 's.id').where('t.level', '=', layer).select('t.id')),
          ...used.map((i) =>
            eb.exists(eb.selectFrom('indicator_value as v').whereRef('v.source_id', '=', 's.id').where('v.indicator_id', '=', i.id).where('v.vintage', '=', i.vintage).select('v.territory_id')),
          ),
        ]),
      )
      .select(['s.publisher', 's.name', 's.vintage', 's.licence', 's.synthetic'])
      .orderBy('s.id')
      .execute();
    const credits = [
      ...(sources.some((s) => s.synthetic) ? [SYNTHETIC_NOTICE] : []),
      ...sources.filter((s) => !s.synthetic).map((s) => [s.publisher ?? s.name, s.vintage, s.licence].filter(Boolean).join(' · ')),
    ];
    return [...new Set(credits)].map(escapeHtml).join(' | ');
  }

  return { resolve, tile, cachedByUrl, tileJson, dataVersion, cacheStats: () => cache.stats };
}

/**
 * Gzip of a tile; null when empty. Small tiles are compressed at once (well under a millisecond), large ones on
 * the thread pool so that they do not hold up other requests.
 */
async function compress(raw: Buffer): Promise<Buffer | null> {
  if (!raw.length) return null;
  return raw.length < 32 * 1024 ? zlib.gzipSync(raw) : gzip(raw);
}

/** TileJSON attribution is HTML: names from imported files must not inject markup. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export type TileService = ReturnType<typeof createTileService>;
