import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { compareVintages } from './catalogue.repository.ts';
import { sharesCommunesWith } from './territories.repository.ts';
import { indicatorFields } from '../export/features.ts';

/**
 * The one feature query behind the exports (/api/export) and OGC API – Features (/ogc): territories of a level,
 * filtered, with their outline in a chosen CRS and, per requested indicator, its value at a vintage.
 *
 * Vintages are chosen per indicator, never per territory: a column holds one vintage only, so every value of it
 * is comparable and the provenance can name that vintage (see `vintageAtOrBefore`).
 */

/** Which territories. All filters combine with AND. */
export interface FeatureFilter {
  level: string;
  /** Territory id of `within=LEVEL:CODE` (communes sharing members with it), or null. */
  withinId?: number | null;
  /** Territories whose outline intersects this box, in `srid` (4326 = longitude/latitude). */
  bbox?: { box: [number, number, number, number]; srid: number } | null;
  /** Territory codes (`codes=`). */
  codes?: string[] | null;
  /** Exact code (OGC property filter `code=`). */
  code?: string | null;
  /** Exact name (OGC property filter `name=`). */
  name?: string | null;
  /** Leave out territories without an outline (formats that need a geometry per feature). */
  requireGeometry?: boolean;
}

/** One indicator column: its id and the vintage read, or null when it has no vintage at or before the one asked. */
export interface IndicatorColumn {
  id: string;
  vintage: string | null;
}

export interface GeometryOptions {
  /** GeoJSON text (RFC 7946 when srid is 4326) or WKB (little-endian, for GeoPackage) with its envelope. */
  format: 'geojson' | 'wkb';
  srid: number;
  /** Decimal digits of GeoJSON coordinates. */
  precision?: number;
  /** Ring orientation: 'ccw' exterior rings counter-clockwise (RFC 7946), 'cw' clockwise (Shapefile). */
  orientation?: 'ccw' | 'cw';
}

export interface FeatureOptions {
  indicators: IndicatorColumn[];
  /** null: no geometry (CSV). */
  geometry: GeometryOptions | null;
  /** Coarser levels whose codes to add (a commune's EPCI, département…); '|'-separated when several. */
  parentLevels?: string[];
}

export interface IndicatorCell {
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

export interface FeatureRow {
  code: string;
  name: string;
  /** GeoJSON text or WKB bytes, per `GeometryOptions.format`; null for a territory without an outline. */
  geometry: string | Uint8Array | null;
  /** Envelope minX, minY, maxX, maxY of the geometry (WKB only). */
  envelope: [number, number, number, number] | null;
  /** One per requested indicator, in order. */
  values: IndicatorCell[];
  /** Codes of the coarser levels asked, by level. */
  parents: Record<string, string | null>;
}

export interface Page {
  offset?: number;
  limit?: number;
}

/**
 * Rows fetched per query when streaming: about 0.6 MB of commune outlines, so the garbage each batch leaves
 * (row objects, feature text, its UTF-8 copy) stays small and the peak memory of a national export flat.
 */
export const BATCH_SIZE = 500;

/**
 * Features per batch of the GeoJSON text export: one string of ~2.5 MB of commune outlines. Fewer, larger
 * batches spend less on the per-query round trips; the peak memory stays a few batches.
 */
export const TEXT_BATCH_SIZE = 2000;

export interface FeatureTextOptions {
  indicators: IndicatorColumn[];
  /** Decimal digits of the coordinates. */
  precision: number;
}

/** Features as text: `count` features joined by ",\n", the last one's code (for keyset paging). */
export interface TextBatch {
  text: string;
  count: number;
  last: string | null;
}

/** Where a projected CRS is defined: boxes are clipped to it before reprojection (PROJ errors otherwise). */
const CRS_DOMAIN: Record<number, [number, number, number, number]> = {
  4326: [-180, -90, 180, 90],
  3857: [-20037508.342789244, -20048966.1040146, 20037508.342789244, 20048966.1040146],
  // EPSG:2154's area of use (metropolitan France) projected, with a margin
  2154: [-1_000_000, 5_500_000, 2_500_000, 7_800_000],
};

export interface FeaturesRepositoryOptions {
  /**
   * Read the next batch while the current one is written out. Worth it on the server backend, where PostgreSQL
   * works in parallel with Node; not embedded, where PGlite runs on Node's own thread and two batches in
   * memory only raise the peak.
   */
  prefetch?: boolean;
}

export function createFeaturesRepository(db: Kysely<DB>, { prefetch = false }: FeaturesRepositoryOptions = {}) {
  async function select(filter: FeatureFilter, options: FeatureOptions, after: string | null, page: Required<Page>): Promise<FeatureRow[]> {
    const columns: RawBuilder<unknown>[] = [sql`t.code`, sql`t.name`];
    const joins: RawBuilder<unknown>[] = [];
    if (options.geometry) {
      columns.push(...geometryColumns(options.geometry));
      // the projected geometry is computed once per row (OFFSET 0 keeps the planner from inlining it into each use)
      joins.push(sql`CROSS JOIN LATERAL (SELECT ${geometryExpression(options.geometry)} AS geom OFFSET 0) g`);
    }
    if (options.indicators.length) {
      columns.push(sql.raw(options.indicators.map((_, i) => `vals.value_${i}, vals.numerator_${i}, vals.denominator_${i}`).join(', ')));
      joins.push(indicatorValues(options.indicators));
    }
    if (options.parentLevels?.length) {
      columns.push(sql.raw(options.parentLevels.map((_, index) => `parents.parent_${index}`).join(', ')));
      joins.push(parentCodes(filter.level, options.parentLevels));
    }
    const conditions = whereConditions(filter);
    if (after !== null) conditions.push(sql`t.code > ${after}`);
    // the page is cut before the joins: rows skipped by OFFSET (deep OGC pages) cost no geometry and no lookup
    const query = sql<Record<string, unknown>>`
      SELECT ${sql.join(columns)}
      FROM (SELECT t.id, t.code, t.name, t.geom FROM territory t WHERE ${sql.join(conditions, sql` AND `)}
            ORDER BY t.code LIMIT ${page.limit} OFFSET ${page.offset}) t
      ${sql.join(joins, sql` `)}
      ORDER BY t.code`;
    const rows = await withoutJit(query);
    return rows.map((row) => toFeatureRow(row, options));
  }

  // No JIT: before indicator_value has statistics (imports analyse only territories) the planner overestimates
  // the lateral scans a thousandfold, and the server then spent ~115 ms compiling each 50 ms batch (36 s for a
  // national GeoJSON instead of 3). SET LOCAL needs a transaction; PGlite accepts and ignores the setting.
  // extra_float_digits 1 (the default): shortest round-trip float text, as JavaScript writes numbers.
  async function withoutJit<R>(query: RawBuilder<R>): Promise<R[]> {
    const { rows } = await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('jit', 'off', true), set_config('extra_float_digits', '1', true)`.execute(trx);
      return query.execute(trx);
    });
    return rows;
  }

  /**
   * One batch of GeoJSON Features as text, written whole by the database (see `featureText`): Node only passes
   * one string per batch on, instead of decoding a row object per feature and serialising it again.
   */
  async function selectText(filter: FeatureFilter, options: FeatureTextOptions, after: string | null, limit: number): Promise<TextBatch> {
    const conditions = whereConditions(filter);
    if (after !== null) conditions.push(sql`t.code > ${after}`);
    const joins = options.indicators.length ? indicatorValues(options.indicators) : sql``;
    const rows = await withoutJit(sql<{ text: string | null; n: number; last: string | null }>`
      SELECT string_agg(f.feature, ${',\n'}::text ORDER BY f.code) AS text, count(*)::int AS n, max(f.code) AS last
      FROM (
        SELECT t.code, ${featureText(options)} AS feature
        FROM (SELECT t.id, t.code, t.name, t.geom FROM territory t WHERE ${sql.join(conditions, sql` AND `)}
              ORDER BY t.code LIMIT ${limit}) t
        ${joins}
      ) f`);
    const row = rows[0];
    return { text: row?.text ?? '', count: Number(row?.n ?? 0), last: row?.last ?? null };
  }

  /** Keyset paging shared by `batches` and `featureTextBatches`, reading the next batch ahead when `prefetch`. */
  async function* keyset<B>(read: (after: string | null, offset: number, limit: number) => Promise<B>, size: (batch: B) => number, lastCode: (batch: B) => string | null, page: Page, batchSize: number): AsyncGenerator<B> {
    let remaining = page.limit ?? Infinity;
    if (remaining <= 0) return;
    const query = (after: string | null, offset: number) => {
      const pending = read(after, offset, Math.min(batchSize, remaining));
      // a prefetched batch the consumer never asks for (client gone) must not be an unhandled rejection
      pending.catch(() => undefined);
      return pending;
    };
    let next: Promise<B> | null = query(null, page.offset ?? 0);
    for (;;) {
      const limit = Math.min(batchSize, remaining);
      const batch: B = await next!;
      const count = size(batch);
      remaining -= count;
      const last = count < limit || remaining <= 0;
      const after = lastCode(batch);
      next = !last && prefetch ? query(after, 0) : null;
      if (count) yield batch;
      if (last) return;
      next ??= query(after, 0);
    }
  }

  return {
    /** Territories matching the filter. */
    async count(filter: FeatureFilter): Promise<number> {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM territory t WHERE ${sql.join(whereConditions(filter), sql` AND `)}`.execute(db);
      return rows[0]?.n ?? 0;
    },

    /** Extent [minX, minY, maxX, maxY] of the matching outlines in `srid`, or null when none has one. */
    async extent(filter: FeatureFilter, srid = 4326): Promise<[number, number, number, number] | null> {
      const { rows } = await sql<{ xmin: number | null; ymin: number; xmax: number; ymax: number }>`
        SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
        FROM (SELECT ST_Extent(${srid === 4326 ? sql`t.geom` : sql`ST_Transform(t.geom, ${sql.lit(srid)})`})::geometry AS e
              FROM territory t WHERE ${sql.join(whereConditions(filter), sql` AND `)}) x`.execute(db);
      const row = rows[0];
      return row && row.xmin !== null ? [row.xmin, row.ymin, row.xmax, row.ymax] : null;
    },

    /** One page of features in code order (OGC items, one feature). */
    page(filter: FeatureFilter, options: FeatureOptions, page: Page = {}): Promise<FeatureRow[]> {
      return select(filter, options, null, { offset: page.offset ?? 0, limit: page.limit ?? BATCH_SIZE });
    },

    /**
     * The features in code order, in batches: each batch is its own query resuming after the last code
     * (keyset paging on the unique (level, code) index), so no transaction or cursor stays open while a slow
     * client downloads, and the embedded backend serves other requests between batches.
     */
    async *batches(filter: FeatureFilter, options: FeatureOptions, page: Page = {}, batchSize = BATCH_SIZE): AsyncGenerator<FeatureRow[]> {
      yield* keyset((after, offset, limit) => select(filter, options, after, { offset, limit }), (rows) => rows.length, (rows) => rows.at(-1)?.code ?? null, page, batchSize);
    },

    /**
     * GeoJSON Features (RFC 7946: WGS 84, exterior rings counter-clockwise) in code order, as text batches of
     * features joined by ",\n", keyset-paged like `batches`.
     */
    async *featureTextBatches(filter: FeatureFilter, options: FeatureTextOptions, batchSize = TEXT_BATCH_SIZE): AsyncGenerator<TextBatch> {
      yield* keyset((after, _offset, limit) => selectText(filter, options, after, limit), (b) => b.count, (b) => b.last, {}, batchSize);
    },

    /** The sources behind an indicator's values at one vintage (commune rows; aggregates are terrinum's). */
    async indicatorSources(indicatorId: string, vintage: string) {
      return db
        .selectFrom('source as s')
        .select(['s.id', 's.kind', 's.name', 's.file_name', 's.sha256', 's.vintage', 's.publisher', 's.licence', 's.url', 's.synthetic', 's.imported_at'])
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('indicator_value as v')
              .select(sql`1`.as('one'))
              .whereRef('v.source_id', '=', 's.id')
              .where('v.indicator_id', '=', indicatorId)
              .where('v.vintage', '=', vintage),
          ),
        )
        .orderBy('s.id')
        .execute();
    },

    /** The sources of a level's outlines. */
    async boundarySources(level: string) {
      return db
        .selectFrom('source as s')
        .select(['s.id', 's.kind', 's.name', 's.file_name', 's.sha256', 's.vintage', 's.publisher', 's.licence', 's.url', 's.synthetic', 's.imported_at'])
        .where((eb) => eb.exists(eb.selectFrom('territory as t').select(sql`1`.as('one')).whereRef('t.source_id', '=', 's.id').where('t.level', '=', level)))
        .orderBy('s.id')
        .execute();
    },

    /** The import stamp caches and exports refer to. */
    async dataVersion(): Promise<{ version: number; changed_at: string }> {
      const row = await db.selectFrom('data_version').select(['version', 'changed_at']).executeTakeFirst();
      return { version: Number(row?.version ?? 0), changed_at: new Date(row?.changed_at ?? 0).toISOString() };
    },

    /** The CRS definition (OGC WKT) PostGIS holds for an EPSG code, or null when it has none. */
    async crsWkt(srid: number): Promise<string | null> {
      const { rows } = await sql<{ srtext: string | null }>`SELECT srtext FROM spatial_ref_sys WHERE srid = ${srid}`.execute(db);
      return rows[0]?.srtext || null;
    },

    /**
     * Whether PostGIS projects a point of metropolitan France to `srid`: some codes of spatial_ref_sys have no
     * usable operation ("No inverse operation", a missing grid file), which would fail an export midway.
     */
    async canProject(srid: number): Promise<boolean> {
      try {
        const { rows } = await sql<{ x: number | null; y: number | null }>`
          SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(2.35, 46.5), 4326), ${srid}::int) AS p) AS t`.execute(db);
        // the embedded PostGIS can answer an error with no rows (pglite #916)
        return rows.length === 1 && Number.isFinite(rows[0]!.x) && Number.isFinite(rows[0]!.y);
      } catch {
        return false;
      }
    },
  };
}

export type FeaturesRepository = ReturnType<typeof createFeaturesRepository>;

/**
 * Each indicator column's value, numerator and denominator for territory `t`, in one lateral scan of that
 * territory's values (`indicator_value_territory`), the columns picked out with FILTER. The scan's only
 * condition is on territory_id, so no statistics can lead the planner elsewhere: with per-indicator lookups
 * (`indicator_id = $1 AND territory_id = t.id AND vintage = $2`) and no statistics (the embedded backend never
 * autovacuums), it chose the (indicator_id, vintage) index and read every value of the vintage for each
 * territory: 20 s of CPU for 5,000 communes instead of 0.25 s. OFFSET 0 keeps the subquery from being flattened.
 */
function indicatorValues(indicators: readonly IndicatorColumn[]): RawBuilder<unknown> {
  const columns = indicators.flatMap((indicator, index) =>
    (['value', 'numerator', 'denominator'] as const).map((column) =>
      indicator.vintage === null
        ? sql`NULL::float8 AS ${sql.raw(`${column}_${index}`)}`
        : sql`max(v.${sql.raw(column)}) FILTER (WHERE v.indicator_id = ${indicator.id} AND v.vintage = ${indicator.vintage}) AS ${sql.raw(`${column}_${index}`)}`,
    ),
  );
  return sql`LEFT JOIN LATERAL (SELECT ${sql.join(columns)} FROM indicator_value v WHERE v.territory_id = t.id OFFSET 0) vals ON true`;
}

/**
 * One GeoJSON Feature as text, as `featureJson` (export/geojson.ts) writes it: id and properties code, name,
 * then per indicator value, numerator and denominator as JSON reals (see `realText`). to_json escapes text as
 * JSON.stringify does. The property names come from the catalogue allow-list, bound as parameters anyway.
 */
function featureText({ indicators, precision }: FeatureTextOptions): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [
    sql`'{"type":"Feature","id":'`,
    sql`to_json(t.code)::text`,
    sql`',"geometry":'`,
    sql`coalesce(ST_AsGeoJSON(ST_ForcePolygonCCW(t.geom), ${sql.lit(precision)}, 0), 'null')`,
    sql`',"properties":{"code":'`,
    sql`to_json(t.code)::text`,
    sql`',"name":'`,
    sql`to_json(t.name)::text`,
  ];
  indicators.forEach((indicator, index) => {
    const fields = indicatorFields(indicator.id);
    for (const [field, column] of [
      [fields.value, 'value'],
      [fields.numerator, 'numerator'],
      [fields.denominator, 'denominator'],
    ] as const) {
      parts.push(sql`${`,${JSON.stringify(field)}:`}::text`, realText(sql.raw(`vals.${column}_${index}`)));
    }
  });
  parts.push(sql`'}}'`);
  return sql`concat(${sql.join(parts)})`;
}

/**
 * A float8 as a JSON real, as `realJson` writes it: integers with ".0" (GDAL, hence QGIS, infers a field's type
 * from the first features), null, NaN and infinities as null, else the shortest round-trip text (extra_float_digits
 * 1), which is JavaScript's but for the exponent form of very small or large numbers (5e-05): the same number.
 */
function realText(x: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`CASE WHEN NOT (abs(${x}) < 'Infinity'::float8) OR ${x} IS NULL THEN 'null'
    WHEN ${x} = trunc(${x}) AND abs(${x}) < 1e15 THEN trunc(${x})::bigint::text || '.0' ELSE ${x}::text END`;
}

/** The outline in the output CRS and ring orientation. */
function geometryExpression({ srid, orientation }: GeometryOptions): RawBuilder<unknown> {
  let geometry: RawBuilder<unknown> = sql`t.geom`;
  if (srid !== 4326) geometry = sql`ST_Transform(${geometry}, ${sql.lit(srid)})`;
  if (orientation === 'ccw') geometry = sql`ST_ForcePolygonCCW(${geometry})`;
  if (orientation === 'cw') geometry = sql`ST_ForcePolygonCW(${geometry})`;
  return geometry;
}

/** Columns read from the lateral `g.geom` (geometryExpression). */
function geometryColumns({ format, precision = 6 }: GeometryOptions): RawBuilder<unknown>[] {
  // options 0: no bbox and no "crs" member (RFC 7946 has none; OGC API announces the CRS in a header)
  if (format === 'geojson') return [sql`ST_AsGeoJSON(g.geom, ${sql.lit(precision)}, 0) AS geometry`];
  return [sql`ST_AsBinary(g.geom, 'NDR') AS geometry`, sql`ST_XMin(g.geom) AS xmin, ST_YMin(g.geom) AS ymin, ST_XMax(g.geom) AS xmax, ST_YMax(g.geom) AS ymax`];
}

/**
 * Codes of the territories of each `parents` level sharing communes with `t` (a commune's own EPCI,
 * département…), '|'-separated, as columns parent_0, parent_1…: one lateral scan of the memberships per row.
 */
function parentCodes(level: string, parents: string[]): RawBuilder<unknown> {
  const distinct = level === 'commune' ? sql`` : sql`DISTINCT `;
  const columns = parents.map((parent, index) => sql`string_agg(${distinct}p.code, '|' ORDER BY p.code) FILTER (WHERE p.level = ${parent}) AS ${sql.raw(`parent_${index}`)}`);
  const members =
    level === 'commune'
      ? sql`territory_member m JOIN territory p ON p.id = m.territory_id WHERE m.commune_id = t.id`
      : sql`territory_member a JOIN territory_member m ON m.commune_id = a.commune_id JOIN territory p ON p.id = m.territory_id WHERE a.territory_id = t.id`;
  return sql`LEFT JOIN LATERAL (SELECT ${sql.join(columns)} FROM ${members} OFFSET 0) parents ON true`;
}

function whereConditions(filter: FeatureFilter): RawBuilder<unknown>[] {
  const conditions: RawBuilder<unknown>[] = [sql`t.level = ${filter.level}`];
  if (filter.withinId !== undefined && filter.withinId !== null) conditions.push(sharesCommunesWith(filter.withinId, filter.level));
  if (filter.codes?.length) conditions.push(sql`t.code = ANY(${filter.codes}::text[])`);
  if (filter.code !== undefined && filter.code !== null) conditions.push(sql`t.code = ${filter.code}`);
  if (filter.name !== undefined && filter.name !== null) conditions.push(sql`t.name = ${filter.name}`);
  if (filter.requireGeometry) conditions.push(sql`t.geom IS NOT NULL`);
  if (filter.bbox) conditions.push(bboxCondition(filter.bbox.box, filter.bbox.srid));
  return conditions;
}

/**
 * Outlines intersecting a box given in `srid`. A projected box is clipped to the CRS's domain, densified
 * (its edges are curves in longitude/latitude) and reprojected to the stored WGS84 once.
 */
function bboxCondition(box: [number, number, number, number], srid: number): RawBuilder<unknown> {
  const domain = CRS_DOMAIN[srid];
  if (!domain) throw new Error(`no domain known for EPSG:${srid}`);
  const [minX, minY, maxX, maxY] = [Math.max(box[0], domain[0]), Math.max(box[1], domain[1]), Math.min(box[2], domain[2]), Math.min(box[3], domain[3])];
  if (minX > maxX || minY > maxY) return sql`FALSE`;
  let envelope: RawBuilder<unknown> = sql`ST_MakeEnvelope(${minX}::float8, ${minY}::float8, ${maxX}::float8, ${maxY}::float8, ${sql.lit(srid)})`;
  if (srid !== 4326) {
    const step = Math.max(maxX - minX, maxY - minY) / 32 || 1;
    envelope = sql`ST_Transform(ST_Segmentize(${envelope}, ${step}::float8), 4326)`;
  }
  return sql`(t.geom && ${envelope} AND ST_Intersects(t.geom, ${envelope}))`;
}

function toFeatureRow(row: Record<string, unknown>, options: FeatureOptions): FeatureRow {
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const geometry = row.geometry === undefined || row.geometry === null ? null : typeof row.geometry === 'string' ? row.geometry : toBytes(row.geometry);
  return {
    code: String(row.code),
    name: String(row.name),
    geometry,
    envelope: row.xmin === undefined || row.xmin === null ? null : [Number(row.xmin), Number(row.ymin), Number(row.xmax), Number(row.ymax)],
    values: options.indicators.map((_, index) => ({
      value: number(row[`value_${index}`]),
      numerator: number(row[`numerator_${index}`]),
      denominator: number(row[`denominator_${index}`]),
    })),
    parents: Object.fromEntries((options.parentLevels ?? []).map((level, index) => [level, (row[`parent_${index}`] as string | null) ?? null])),
  };
}

/** bytea arrives as a Buffer from pg and a Uint8Array from PGlite. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new Error(`expected WKB bytes, got ${typeof value}`);
}

/**
 * The vintage an indicator column reads for a requested one: that vintage when the indicator has it, else its
 * latest vintage ending at or before the requested one's end (a 2024-Q4 request reads a yearly indicator's 2024
 * and a quarterly one's 2024-Q4; a 2024-Q2 request reads 2023 of a yearly one), else null (nothing that old).
 * Without a requested vintage, the indicator's latest. `vintages` are sorted by compareVintages.
 */
export function vintageAtOrBefore(vintages: readonly string[], requested: string | null | undefined): string | null {
  if (!requested) return vintages.at(-1) ?? null;
  if (vintages.includes(requested)) return requested;
  const end = vintageEndDate(requested);
  return [...vintages].sort(compareVintages).filter((v) => vintageEndDate(v) <= end).at(-1) ?? null;
}

/** Last day (YYYY-MM-DD) of the period a vintage YYYY, YYYY-Qn or YYYY-MM covers. */
export function vintageEndDate(vintage: string): string {
  const year = Number(vintage.slice(0, 4));
  const quarter = /^\d{4}-Q([1-4])$/.exec(vintage);
  const month = quarter ? Number(quarter[1]) * 3 : /^\d{4}-(\d{2})$/.test(vintage) ? Number(vintage.slice(5, 7)) : 12;
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/** First day (YYYY-MM-DD) of the period a vintage covers. */
export function vintageStartDate(vintage: string): string {
  const year = Number(vintage.slice(0, 4));
  const quarter = /^\d{4}-Q([1-4])$/.exec(vintage);
  const month = quarter ? Number(quarter[1]) * 3 - 2 : /^\d{4}-(\d{2})$/.test(vintage) ? Number(vintage.slice(5, 7)) : 1;
  return new Date(Date.UTC(year, month - 1, 1)).toISOString().slice(0, 10);
}
