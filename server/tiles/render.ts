import GeoJSONVT, { type LegacyFeature } from 'geojson-vt';
import type { Feature, FeatureCollection, Geometry, Position } from 'geojson';
import vtpbf from 'vt-pbf';
import type { Kysely } from 'kysely';
import { runNamedQuery, type Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { BUFFER, EXTENT, PLACES_LAYER, bandOf } from './layers.ts';
import { PRECUT_MAX_ZOOM, renderPrecut, type TileProperties } from './precut.ts';

/** One tile to cut: a layer, its coordinates, and the indicator values (id at vintage) to carry as properties. */
export interface TileRequest {
  layer: string;
  z: number;
  x: number;
  y: number;
  /** Ids come from the catalogue (the allow-list): they become column names in the SQL. */
  indicators: readonly { id: string; vintage: string }[];
}

/**
 * Cuts one tile, as MVT bytes; an empty buffer when no feature falls in it. At low zooms both backends copy the
 * geometry cut beforehand (precut.ts); otherwise the server backend encodes in PostGIS (ST_AsMVTGeom + ST_AsMVT)
 * and the embedded one clips in SQL and encodes with geojson-vt + vt-pbf. All read the same generalised outlines
 * with the same filter, so they yield the same features.
 */
export async function renderTile(database: Database, request: TileRequest, options: RenderOptions = {}): Promise<Buffer> {
  if (options.precut !== false && request.layer !== PLACES_LAYER && request.z <= PRECUT_MAX_ZOOM) {
    const tile = await renderPrecut(database.db, request, options.properties);
    if (tile) return tile;
  }
  return database.backend === 'postgis' && !options.javascript ? renderInPostgis(database, request) : renderInJavaScript(database, request);
}

export interface RenderOptions {
  /** false: cut a low-zoom tile afresh even when its geometry was cut beforehand (tests compare both). */
  precut?: boolean;
  /** true: cut with geojson-vt + vt-pbf on the server too (the encoder of the pre-cut tiles; tests compare them). */
  javascript?: boolean;
  /** The names and values low-zoom tiles carry, shared by the tiles of one data version (the tile service's). */
  properties?: TileProperties;
}

/** Positional parameters of a tile query (see sql/queries/tile_*.sql): the tile's, then each indicator's id and vintage. */
function parameters({ layer, z, x, y, indicators }: TileRequest, kind: 'mvt' | 'features'): unknown[] {
  const common = layer === PLACES_LAYER ? [z, x, y, EXTENT, BUFFER] : [z, x, y, layer, bandOf(z), EXTENT, BUFFER];
  return [...common, ...(kind === 'mvt' ? [layer] : []), ...indicators.flatMap((i) => [i.id, i.vintage])];
}

/** The query text of a layer, with one column and one join per requested indicator. */
function queryText(request: TileRequest, kind: 'mvt' | 'features'): string {
  if (request.layer === PLACES_LAYER) return namedQuery(`tile_places_${kind}`);
  // the indicators' parameters follow the tile's (7) and, for ST_AsMVT, the layer name
  const first = kind === 'mvt' ? 9 : 8;
  const alias = (i: number) => `v${i + 1}`;
  const columns = [
    request.indicators.length ? `coalesce(${request.indicators.map((_, i) => `${alias(i)}.partial`).join(' OR ')}, false) AS partial` : 'false AS partial',
    ...request.indicators.map((indicator, i) => {
      // the id names a column: only ids of the catalogue reach here, and the pattern keeps them plain identifiers
      if (!/^[a-z][a-z0-9_]*$/.test(indicator.id)) throw new Error(`indicator id "${indicator.id}" cannot name a tile property`);
      return `${alias(i)}.value AS "${indicator.id}"`;
    }),
  ];
  const joins = request.indicators.map((_, i) => {
    const v = alias(i);
    return `LEFT JOIN indicator_value ${v} ON ${v}.territory_id = g.territory_id AND ${v}.indicator_id = $${first + 2 * i}::text AND ${v}.vintage = $${first + 2 * i + 1}::text`;
  });
  return fill(namedQuery(`tile_territories_${kind}`), { 'indicator columns': columns.join(', '), 'indicator joins': joins.join('\n') });
}

/** Puts each part where its marker comment stands; each marker must appear once. */
export function fill(text: string, parts: Record<string, string>): string {
  return Object.entries(parts).reduce((result, [name, part]) => {
    const pieces = result.split(`/*${name}*/`);
    if (pieces.length !== 2) throw new Error(`a tile query must hold the /*${name}*/ marker once`);
    return pieces.join(part);
  }, text);
}

async function renderInPostgis(database: Database, request: TileRequest): Promise<Buffer> {
  const [row] = await runNamedQuery<{ tile: Buffer | null }>(database.db, queryText(request, 'mvt'), parameters(request, 'mvt'));
  return row?.tile ? Buffer.from(row.tile) : Buffer.alloc(0);
}

async function renderInJavaScript(database: Database, request: TileRequest): Promise<Buffer> {
  const kept = await cutFeatures(database.db, queryText(request, 'features'), request);
  if (!kept.length) return Buffer.alloc(0);
  return Buffer.from(vtpbf.fromGeojsonVt({ [request.layer]: { features: kept } }, { version: 2, extent: EXTENT }));
}

/**
 * The features of a tile, clipped (query `text`: tile_*_features.sql, filled) and cut by geojson-vt, in tile
 * units; their tags are the query's properties.
 */
export async function cutFeatures(db: Kysely<DB>, text: string, request: TileRequest): Promise<LegacyFeature[]> {
  const [row] = await runNamedQuery<{ features: string }>(db, text, parameters(request, 'features'));
  const place = proxyPlacement(request);
  const features = (JSON.parse(row?.features ?? '[]') as Feature[]).map((f) => ({ ...f, geometry: mapGeometry(f.geometry, place) }));
  if (!features.length) return [];
  // At its maxZoom geojson-vt does not simplify: the outlines were simplified for the zoom band already.
  const collection: FeatureCollection = { type: 'FeatureCollection', features };
  const tile = new GeoJSONVT(collection, { maxZoom: PROXY.z, indexMaxZoom: 0, extent: EXTENT, buffer: BUFFER }).getTile(PROXY.z, PROXY.x, PROXY.y);
  return (tile?.features ?? []).filter(notCollapsed);
}

/**
 * geojson-vt slices the world from zoom 0 down to the tile asked, clipping every feature again at each zoom: a
 * z12 tile costs twelve passes. The features here are clipped to the tile already, so they are handed to it as if
 * they lay in this quarter-world tile instead (same extent, buffer and rounding): two passes, and far from the
 * antimeridian it wraps features around and from the poles it clamps them at.
 */
const PROXY = { z: 2, x: 1, y: 1 };
const WORLD_METRES = 2 * Math.PI * 6378137;

/** EPSG:3857 metres of the requested tile → longitude and latitude of the same point of the proxy tile. */
function proxyPlacement({ z, x, y }: TileRequest): (p: Position) => Position {
  const size = WORLD_METRES / 2 ** z;
  const west = -WORLD_METRES / 2 + x * size;
  const north = WORLD_METRES / 2 - y * size;
  const proxySize = 1 / 2 ** PROXY.z;
  return (p) => {
    // position in the proxy tile, as a fraction of the Web Mercator world (0 to 1, y down)
    const u = (PROXY.x + (p[0]! - west) / size) * proxySize;
    const v = (PROXY.y + (north - p[1]!) / size) * proxySize;
    return [u * 360 - 180, (Math.atan(Math.sinh(Math.PI * (1 - 2 * v))) * 180) / Math.PI];
  };
}

function mapGeometry(geometry: Geometry, point: (p: Position) => Position): Geometry {
  switch (geometry.type) {
    case 'Point':
      return { type: 'Point', coordinates: point(geometry.coordinates) };
    case 'MultiPoint':
      return { type: 'MultiPoint', coordinates: geometry.coordinates.map(point) };
    case 'Polygon':
      return { type: 'Polygon', coordinates: geometry.coordinates.map((ring) => ring.map(point)) };
    case 'MultiPolygon':
      return { type: 'MultiPolygon', coordinates: geometry.coordinates.map((polygon) => polygon.map((ring) => ring.map(point))) };
    default:
      throw new Error(`unexpected ${geometry.type} in a tile layer`);
  }
}

/**
 * ST_AsMVTGeom drops polygon rings that snapping to the tile grid flattens to no area, and features left
 * with none; so does this, for both backends to yield the same features.
 */
function notCollapsed(feature: LegacyFeature): boolean {
  if (feature.type !== 3) return true;
  feature.geometry = feature.geometry.filter((ring) => ringArea(ring) !== 0);
  return feature.geometry.length > 0;
}

function ringArea(ring: [number, number][]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j]![0] - ring[i]![0]) * (ring[j]![1] + ring[i]![1]);
  return sum;
}
