import { sql, type Kysely, type Transaction } from 'kysely';
import { PbfReader, PbfWriter } from 'pbf';
import vtpbf from 'vt-pbf';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { BUFFER, EXTENT, bandOf } from './layers.ts';
import { cutFeatures, fill, type TileRequest } from './render.ts';

/**
 * Low-zoom tiles of the embedded backend, cut once per outline change (migration 008). A z5 commune tile holds
 * 10,000–18,500 features: clipping, GeoJSON, geojson-vt and vt-pbf took 1.4 s p95 per request. Their geometry
 * does not depend on the request, only their properties do; in MVT a feature's geometry is one packed field, so
 * a request copies its bytes and writes the properties (of the current data version) as vt-pbf would: the
 * same bytes as the tile cut afresh.
 */

/**
 * Deepest zoom cut beforehand: the z5–6 band is the one over 250 ms cut per request (docs/tiles.md); z8–9 tiles
 * answer in 54–67 ms p95 at 35,000 communes, z7 was not measured.
 */
export const PRECUT_MAX_ZOOM = 6;

type Db = Kysely<DB> | Transaction<DB>;

const WORLD_METRES = 2 * Math.PI * 6378137;

/** The territory query of tile_territories_features.sql carrying each feature's territory id instead of values. */
const cutQuery = () => fill(namedQuery('tile_territories_features'), { 'indicator columns': 'g.territory_id', 'indicator joins': '' });

/** What the pre-cut tiles hold after a rebuild. */
export interface PrecutSummary {
  tiles: number;
  features: number;
  bytes: number;
}

/**
 * Cuts and stores the geometry of every tile from z0 to PRECUT_MAX_ZOOM meeting each level's outlines (and the
 * buffer), empty tiles included, from tile_geometry (rebuilt just before). On both backends: ST_AsMVT of a z5 tile
 * on the server (0.7–1.1 s for 5,000 communes' outlines) costs far more than copying its stored geometry.
 */
export async function precutTiles(db: Db): Promise<PrecutSummary> {
  await sql`DELETE FROM tile_precut`.execute(db);
  const summary: PrecutSummary = { tiles: 0, features: 0, bytes: 0 };
  const zooms = Array.from({ length: PRECUT_MAX_ZOOM + 1 }, (_, z) => z);
  const { rows: extents } = await sql<{ level: string; band: number; xmin: number; ymin: number; xmax: number; ymax: number }>`
    SELECT level, band, ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
    FROM (SELECT level, band, ST_Extent(geom) AS e FROM tile_geometry WHERE band = ANY(${[...new Set(zooms.map(bandOf))]}::smallint[]) GROUP BY level, band) q`.execute(db);
  const query = cutQuery();
  for (const extent of extents) {
    for (const z of zooms.filter((z) => bandOf(z) === Number(extent.band))) {
      const [x0, x1] = tileRange(extent.xmin + WORLD_METRES / 2, extent.xmax + WORLD_METRES / 2, z);
      const [y0, y1] = tileRange(WORLD_METRES / 2 - extent.ymax, WORLD_METRES / 2 - extent.ymin, z);
      for (let x = x0; x <= x1; x++) {
        for (let y = y0; y <= y1; y++) {
          const features = await cutFeatures(db, query, { layer: extent.level, z, x, y, indicators: [] });
          const ids = features.map((f) => Number(f.tags?.territory_id));
          const bytes = features.length
            ? Buffer.from(vtpbf.fromGeojsonVt({ [extent.level]: { features: features.map((f) => ({ ...f, tags: {} })) } }, { version: 2, extent: EXTENT }))
            : Buffer.alloc(0);
          await sql`INSERT INTO tile_precut (level, z, x, y, territory_ids, features) VALUES (${extent.level}, ${z}, ${x}, ${y}, ${ids}::int[], ${bytes})`.execute(db);
          summary.tiles++;
          summary.features += ids.length;
          summary.bytes += bytes.length;
        }
      }
    }
  }
  // the request query sizes its unnest of territory_ids from these statistics (PGlite has no autovacuum)
  await sql`ANALYZE tile_precut`.execute(db);
  return summary;
}

/** Columns (or rows) of the tiles at zoom z whose search envelope (tile and buffer) meets [min, max], metres from the world's west (north) edge. */
function tileRange(min: number, max: number, z: number): [number, number] {
  const size = WORLD_METRES / 2 ** z;
  const margin = BUFFER / EXTENT;
  const clamp = (i: number) => Math.min(2 ** z - 1, Math.max(0, i));
  return [clamp(Math.floor(min / size - margin)), clamp(Math.floor(max / size + margin))];
}

interface StoredFeature {
  type: number;
  geometry: Uint8Array;
}

type Value = string | number | boolean;

/** How many indicator vintages TileProperties keeps (a few MB each at 35,000 communes). */
const MAX_VALUE_SETS = 16;

/**
 * Names and indicator values of whole levels, read once and shared by the low-zoom tiles of one data version (the
 * tile service makes one per version). A z5 tile holds half of France's communes: reading its properties with a
 * join per tile cost 290–410 ms at 18,500 features on PGlite (load ≈ 6), hash or nested-loop joins alike; the
 * level-wide reads cost ≈ 60 ms each at 35,000 communes, once, then each tile only looks its features up.
 */
export class TileProperties {
  private readonly territories = new Map<string, Promise<Map<number, [string, string]>>>();
  private readonly values = new Map<string, Promise<Map<number, [number | null, boolean]>>>();

  constructor(private readonly db: Kysely<DB>) {}

  /** Territory id → code and name, for one level. */
  territoriesOf(level: string): Promise<Map<number, [string, string]>> {
    return remember(this.territories, level, Infinity, async () => {
      const { rows } = await sql<{ list: string }>`
        SELECT coalesce(json_agg(json_build_array(id, code, name)), '[]')::text AS list FROM territory WHERE level = ${level}`.execute(this.db);
      return new Map((JSON.parse(rows[0]!.list) as [number, string, string][]).map(([id, code, name]) => [id, [code, name]]));
    });
  }

  /** Territory id → value and partial flag of one indicator at one vintage, every level's. */
  valuesOf(indicator: string, vintage: string): Promise<Map<number, [number | null, boolean]>> {
    return remember(this.values, `${indicator}@${vintage}`, MAX_VALUE_SETS, async () => {
      // values as PostgreSQL writes them in JSON, as ST_AsGeoJSON does for tiles cut afresh: the same doubles
      const { rows } = await sql<{ list: string }>`
        SELECT coalesce(json_agg(json_build_array(territory_id, value, partial)), '[]')::text AS list
        FROM indicator_value WHERE indicator_id = ${indicator} AND vintage = ${vintage}`.execute(this.db);
      return new Map((JSON.parse(rows[0]!.list) as [number, number | null, boolean][]).map(([id, value, partial]) => [id, [value, partial]]));
    });
  }
}

/** The entry under `key`, read once (forgotten if the read fails); the oldest forgotten past `max` entries. */
function remember<T>(entries: Map<string, Promise<T>>, key: string, max: number, read: () => Promise<T>): Promise<T> {
  let entry = entries.get(key);
  if (!entry) {
    entry = read();
    entry.catch(() => entries.delete(key));
    entries.set(key, entry);
    if (entries.size > max) entries.delete(entries.keys().next().value!);
  }
  return entry;
}

/**
 * The tile from its stored geometry and the properties of `properties` (read now when not given): code, name,
 * partial and each indicator's value, in the order and encoding of tiles cut afresh. Null when it was not cut
 * beforehand (outside the outlines' extent, or a database migrated since its last outline import) or a territory
 * of it is gone.
 */
export async function renderPrecut(db: Kysely<DB>, { layer, z, x, y, indicators }: TileRequest, properties = new TileProperties(db)): Promise<Buffer | null> {
  // base64 text: PGlite hands a bytea over several times slower (28 ms against 4 for a z5 tile's 400 KB)
  const { rows } = await sql<{ features: string; territory_ids: number[] }>`
    SELECT encode(features, 'base64') AS features, territory_ids FROM tile_precut WHERE level = ${layer} AND z = ${z} AND x = ${x} AND y = ${y}`.execute(db);
  const row = rows[0];
  if (!row) return null;
  const features = readFeatures(Buffer.from(row.features, 'base64'));
  if (features.length !== row.territory_ids.length) return null;
  if (!features.length) return Buffer.alloc(0);
  const [territories, ...values] = await Promise.all([properties.territoriesOf(layer), ...indicators.map((i) => properties.valuesOf(i.id, i.vintage))]);
  if (row.territory_ids.some((id) => !territories.has(id))) return null;
  const out = new PbfWriter();
  out.writeMessage(3, writeLayer, { name: layer, indicators: indicators.map((i) => i.id), features, ids: row.territory_ids, territories, values });
  return Buffer.from(out.finish());
}

function readFeatures(bytes: Uint8Array): StoredFeature[] {
  const features: StoredFeature[] = [];
  if (!bytes.length) return features;
  new PbfReader(bytes).readFields((tag, list, pbf) => {
    if (tag === 3) pbf.readMessage(readLayer, list);
  }, features);
  return features;
}

function readLayer(tag: number, list: StoredFeature[], pbf: PbfReader): void {
  if (tag === 2) list.push(pbf.readMessage(readFeature, { type: 0, geometry: new Uint8Array(0) }));
}

function readFeature(tag: number, feature: StoredFeature, pbf: PbfReader): void {
  if (tag === 3) feature.type = pbf.readVarint();
  else if (tag === 4) {
    // the packed commands as they are: written back unchanged
    const end = pbf.readVarint() + pbf.pos;
    feature.geometry = pbf.buf.subarray(pbf.pos, end);
    pbf.pos = end;
  }
}

interface LayerParts {
  name: string;
  indicators: string[];
  features: StoredFeature[];
  ids: number[];
  territories: Map<number, [string, string]>;
  values: Map<number, [number | null, boolean]>[];
}

/**
 * Writes the layer field by field as vt-pbf's writeLayer does: each feature's properties code, name, partial and
 * the indicators' values in this order, a null left out, keys and values numbered in order of first use (values
 * told apart by type and value, as vt-pbf's `type:value` keys do).
 */
function writeLayer({ name, indicators, features, ids, territories, values }: LayerParts, pbf: PbfWriter): void {
  pbf.writeVarintField(15, 2);
  pbf.writeStringField(1, name);
  pbf.writeVarintField(5, EXTENT);
  const keys = ['code', 'name', 'partial', ...indicators];
  const keyIndex: number[] = keys.map(() => -1);
  const usedKeys: string[] = [];
  const table: Value[] = [];
  const strings = new Map<string, number>();
  const numbers = new Map<number, number>();
  const booleans = new Map<boolean, number>();
  const tags: number[] = [];
  const tag = (k: number, value: Value | null) => {
    if (value === null) return;
    if (keyIndex[k] === -1) {
      keyIndex[k] = usedKeys.length;
      usedKeys.push(keys[k]!);
    }
    const index = typeof value === 'string' ? strings : typeof value === 'number' ? numbers : booleans;
    let v = (index as Map<Value, number>).get(value);
    if (v === undefined) {
      v = table.length;
      (index as Map<Value, number>).set(value, v);
      table.push(value);
    }
    tags.push(keyIndex[k]!, v);
  };
  for (let f = 0; f < features.length; f++) {
    const id = ids[f]!;
    const [code, territoryName] = territories.get(id)!;
    tags.length = 0;
    tag(0, code);
    tag(1, territoryName);
    // SQL's coalesce(v1.partial OR v2.partial …, false): true when one of them is
    let partial = false;
    for (const v of values) if (v.get(id)?.[1] === true) partial = true;
    tag(2, partial);
    for (let i = 0; i < values.length; i++) tag(3 + i, values[i]!.get(id)?.[0] ?? null);
    pbf.writeMessage(2, writeFeature, { tags, feature: features[f]! });
  }
  for (const key of usedKeys) pbf.writeStringField(3, key);
  for (const value of table) pbf.writeMessage(4, writeValue, value);
}

function writeFeature({ tags, feature }: { tags: number[]; feature: StoredFeature }, pbf: PbfWriter): void {
  // written even when empty, as vt-pbf does (writePackedVarint would leave it out)
  pbf.writeMessage(2, writeTags, tags);
  pbf.writeVarintField(3, feature.type);
  pbf.writeBytesField(4, feature.geometry);
}

function writeTags(tags: number[], pbf: PbfWriter): void {
  for (const t of tags) pbf.writeVarint(t);
}

function writeValue(value: Value, pbf: PbfWriter): void {
  if (typeof value === 'string') pbf.writeStringField(1, value);
  else if (typeof value === 'boolean') pbf.writeBooleanField(7, value);
  else if (value % 1 !== 0) pbf.writeDoubleField(3, value);
  else if (value < 0) pbf.writeSVarintField(6, value);
  else pbf.writeVarintField(5, value);
}
