import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

export interface Within {
  level: string;
  code: string;
}

/** Territories, their outlines and their extent. */
export function createTerritoriesRepository(db: Kysely<DB>) {
  return {
    find(level: string, code: string) {
      return db.selectFrom('territory').select(['id', 'level', 'code', 'name', 'population', 'synthetic']).where('level', '=', level).where('code', '=', code).executeTakeFirst();
    },

    /** Extent of all communes in WGS84, or null when there are none. */
    async bbox(): Promise<[number, number, number, number] | null> {
      const { rows } = await sql<{ xmin: number | null; ymin: number; xmax: number; ymax: number }>`
        SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
        FROM (SELECT ST_Extent(geom)::geometry AS e FROM territory WHERE level = 'commune') x`.execute(db);
      const row = rows[0];
      return row && row.xmin !== null ? [row.xmin, row.ymin, row.xmax, row.ymax] : null;
    },

    async isSynthetic(): Promise<boolean> {
      const row = await db.selectFrom('territory').select('id').where('synthetic', '=', true).limit(1).executeTakeFirst();
      return row !== undefined;
    },

    /** One territory with its extent (null without an outline), or undefined when there is none with that code. */
    async profile(level: string, code: string) {
      return db
        .selectFrom('territory as t')
        .innerJoin('level as l', 'l.id', 't.level')
        .select([
          't.id',
          't.level',
          'l.rank',
          'l.label_fr',
          'l.label_en',
          't.code',
          't.name',
          't.population',
          't.population_vintage',
          't.synthetic',
          't.area_m2',
          't.source_id',
          sql<number | null>`ST_XMin(t.geom)`.as('xmin'),
          sql<number | null>`ST_YMin(t.geom)`.as('ymin'),
          sql<number | null>`ST_XMax(t.geom)`.as('xmax'),
          sql<number | null>`ST_YMax(t.geom)`.as('ymax'),
        ])
        .where('t.level', '=', level)
        .where('t.code', '=', code)
        .executeTakeFirst();
    },

    /**
     * Coarser territories holding communes of territory `id` (of level rank `rank`): for a commune, every territory it
     * belongs to; for an EPCI, its département(s) and région(s), with how many of its communes each holds.
     */
    async parents(id: number, rank: number) {
      const { rows } = await sql<{ level: string; code: string; name: string; communes: number }>`
        WITH own AS (
          SELECT ${id}::integer AS commune_id WHERE ${rank}::integer = 0
          UNION ALL SELECT commune_id FROM territory_member WHERE territory_id = ${id}
        )
        SELECT p.level, p.code, p.name, count(*)::int AS communes
        FROM own o
        JOIN territory_member m ON m.commune_id = o.commune_id
        JOIN territory p ON p.id = m.territory_id
        JOIN level l ON l.id = p.level
        WHERE l.rank > ${rank}
        GROUP BY p.id, p.level, p.code, p.name, l.rank
        ORDER BY l.rank, count(*) DESC, p.code`.execute(db);
      return rows;
    },

    /** Member communes of a coarser territory, by code. */
    members(id: number) {
      return db
        .selectFrom('territory_member as m')
        .innerJoin('territory as c', 'c.id', 'm.commune_id')
        .select(['c.code', 'c.name', 'c.population'])
        .where('m.territory_id', '=', id)
        .orderBy('c.code')
        .execute();
    },

    /**
     * Neighbours of the same level: contiguous communes (territory_neighbour), or for coarser levels the territories
     * holding a commune contiguous to one of this territory's communes.
     */
    async neighbours(id: number, level: string, rank: number) {
      if (rank === 0) {
        return db
          .selectFrom('territory_neighbour as n')
          .innerJoin('territory as t', 't.id', 'n.neighbour_id')
          .select(['t.code', 't.name'])
          .where('n.territory_id', '=', id)
          .orderBy('t.code')
          .execute();
      }
      // only the communes across the border (neighbours outside the territory) can lead to another territory
      const { rows } = await sql<{ code: string; name: string }>`
        WITH outside AS (
          SELECT DISTINCT n.neighbour_id AS commune_id
          FROM territory_member mine
          JOIN territory_neighbour n ON n.territory_id = mine.commune_id
          WHERE mine.territory_id = ${id}
            AND NOT EXISTS (SELECT 1 FROM territory_member m WHERE m.territory_id = ${id} AND m.commune_id = n.neighbour_id)
        )
        SELECT DISTINCT o.code, o.name
        FROM outside x
        JOIN territory_member other ON other.commune_id = x.commune_id
        JOIN territory o ON o.id = other.territory_id
        WHERE o.level = ${level} AND o.id <> ${id}
        ORDER BY o.code`.execute(db);
      return rows;
    },

    /** Every stored value of the territory, all indicators and vintages. */
    values(id: number) {
      return db
        .selectFrom('indicator_value as v')
        .select(['v.indicator_id', 'v.vintage', 'v.value', 'v.numerator', 'v.denominator', 'v.communes', 'v.communes_expected', 'v.partial', 'v.source_id'])
        .where('v.territory_id', '=', id)
        .execute();
    },

    /**
     * Sources behind each (indicator, vintage) of a coarser territory: those of its member communes' values
     * (aggregates have no source of their own).
     */
    async memberSources(id: number) {
      const { rows } = await sql<{ indicator_id: string; vintage: string; source_ids: number[] }>`
        SELECT v.indicator_id, v.vintage, array_agg(DISTINCT v.source_id ORDER BY v.source_id) AS source_ids
        FROM territory_member m
        JOIN indicator_value v ON v.territory_id = m.commune_id
        WHERE m.territory_id = ${id} AND v.source_id IS NOT NULL
        GROUP BY v.indicator_id, v.vintage`.execute(db);
      return rows;
    },

    /** Values of one indicator and vintage over every complete territory of a level, ascending (to rank a territory by). */
    async levelValues(level: string, indicatorId: string, vintage: string): Promise<Float64Array> {
      const { rows } = await sql<{ value: number }>`
        SELECT v.value FROM indicator_value v JOIN territory t ON t.id = v.territory_id
        WHERE v.indicator_id = ${indicatorId} AND v.vintage = ${vintage} AND t.level = ${level} AND v.value IS NOT NULL
          -- an aggregate missing member communes is left out of rankings (issue #4), as in /api/multispeed
          AND v.partial IS NOT TRUE`.execute(db);
      return Float64Array.from(rows, (r) => r.value).sort();
    },

    /**
     * Rank of territory `id` among the territories of its level sharing a commune with territory `parentId` (for a
     * commune: the parent's communes), for each (indicator, vintage) given. Rank 1 is the best (highest value, or
     * lowest where lower is better); ties share the better rank.
     */
    async parentRanks(id: number, level: string, vintages: { indicator_id: string; vintage: string }[], parentId: number) {
      if (vintages.length === 0) return [];
      const peers =
        level === 'commune'
          ? sql`SELECT w.commune_id AS id FROM territory_member w WHERE w.territory_id = ${parentId}`
          : sql`SELECT DISTINCT a.territory_id AS id FROM territory_member w
                JOIN territory_member a ON a.commune_id = w.commune_id
                JOIN territory t ON t.id = a.territory_id AND t.level = ${level}
                WHERE w.territory_id = ${parentId}`;
      const { rows } = await sql<{ indicator_id: string; vintage: string; rank: number; of: number }>`
        WITH wanted AS (
          SELECT x.indicator_id, x.vintage, mine.value, i.higher_is_better
          FROM json_to_recordset(${JSON.stringify(vintages)}::json) AS x(indicator_id text, vintage text)
          JOIN indicator i ON i.id = x.indicator_id
          JOIN indicator_value mine ON mine.territory_id = ${id} AND mine.indicator_id = x.indicator_id AND mine.vintage = x.vintage
          WHERE mine.value IS NOT NULL
        ),
        peers AS (${peers})
        SELECT w.indicator_id, w.vintage,
               1 + count(*) FILTER (WHERE CASE WHEN w.higher_is_better THEN v.value > w.value ELSE v.value < w.value END)::int AS rank,
               count(*)::int AS of
        FROM wanted w
        CROSS JOIN peers p
        JOIN indicator_value v ON v.territory_id = p.id AND v.indicator_id = w.indicator_id AND v.vintage = w.vintage
        WHERE v.value IS NOT NULL AND v.partial IS NOT TRUE
        GROUP BY w.indicator_id, w.vintage`.execute(db);
      return rows;
    },

    /** Stored analysis rows of one territory: disparity, LISA and trend for every indicator and vintage, and access. */
    async metrics(id: number) {
      const [disparity, lisa, trend, access] = await Promise.all([
        db
          .selectFrom('metric_disparity')
          .select(['indicator_id', 'vintage', 'value', 'gini', 'theil', 'cv', 'interdecile_ratio', 'share_population_below', 'threshold_points', 'multispeed', 'communes', 'communes_expected', 'partial'])
          .where('territory_id', '=', id)
          .execute(),
        db.selectFrom('metric_lisa').select(['indicator_id', 'vintage', 'lisa_i', 'lisa_p', 'lisa_class', 'neighbours']).where('territory_id', '=', id).execute(),
        db.selectFrom('metric_trend').select(['indicator_id', 'vintage', 'trend_per_quarter', 'quarters_used', 'projected_full']).where('territory_id', '=', id).execute(),
        db
          .selectFrom('metric_access as a')
          .leftJoin('place as p', 'p.id', 'a.nearest_place_id')
          .select(['a.distance_m', 'a.share_population_beyond_10km', 'a.share_population_beyond_20km', 'a.origin', 'p.name as nearest_place', 'p.kind as nearest_place_kind'])
          .where('a.territory_id', '=', id)
          .executeTakeFirst(),
      ]);
      return { disparity, lisa, trend, access: access ?? null };
    },

    /** Sources by id. */
    sources(ids: number[]) {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('source').select(['id', 'kind', 'name', 'publisher', 'licence', 'vintage', 'url', 'synthetic', 'imported_at']).where('id', 'in', ids).orderBy('id').execute();
    },
  };
}

/** The territory filters the lists and exports share: `within=`, `bbox=`, `codes=`. */
export interface TerritoryFilter {
  /** Territory id from `within=LEVEL:CODE`. */
  withinId?: number | null;
  /** minLon, minLat, maxLon, maxLat (WGS84): territories whose outline intersects it. */
  bbox?: readonly [number, number, number, number] | null;
  /** Territory codes of the level. */
  codes?: readonly string[] | null;
}

/** Conditions on territories `t` of `level` for a filter (all values bound as parameters); AND them. */
export function territoryConditions(level: string, filter: TerritoryFilter) {
  const conditions = [];
  if (filter.withinId !== undefined && filter.withinId !== null) conditions.push(sharesCommunesWith(filter.withinId, level));
  if (filter.bbox) {
    const [minX, minY, maxX, maxY] = filter.bbox;
    // && uses the GiST index; ST_Intersects then drops outlines whose box only touches the box
    conditions.push(sql<boolean>`(t.geom && ST_MakeEnvelope(${minX}, ${minY}, ${maxX}, ${maxY}, 4326)
      AND ST_Intersects(t.geom, ST_MakeEnvelope(${minX}, ${minY}, ${maxX}, ${maxY}, 4326)))`);
  }
  if (filter.codes) conditions.push(filter.codes.length ? sql<boolean>`t.code IN (${sql.join(filter.codes)})` : sql<boolean>`false`);
  return conditions;
}

/**
 * Filter on territories `t` of `level` lying in territory `withinId`: communes that are its members,
 * or coarser territories with at least one member commune in it.
 */
export function sharesCommunesWith(withinId: number, level: string) {
  return level === 'commune'
    ? sql<boolean>`EXISTS (SELECT 1 FROM territory_member w WHERE w.territory_id = ${withinId} AND w.commune_id = t.id)`
    : sql<boolean>`EXISTS (SELECT 1 FROM territory_member a JOIN territory_member w ON w.commune_id = a.commune_id
                           WHERE a.territory_id = t.id AND w.territory_id = ${withinId})`;
}

export type TerritoriesRepository = ReturnType<typeof createTerritoriesRepository>;
