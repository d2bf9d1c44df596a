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

    /** Outlines of one level as GeoJSON text per territory (6 decimals ≈ 0.1 m), optionally within another territory. */
    outlines(level: string, withinId: number | null) {
      let query = db
        .selectFrom('territory as t')
        .select(['t.code', 't.name', sql<string>`ST_AsGeoJSON(t.geom, 6)`.as('geometry')])
        .where('t.level', '=', level)
        .where('t.geom', 'is not', null);
      if (withinId !== null) query = query.where(sharesCommunesWith(withinId, level));
      return query.orderBy('t.code').execute();
    },
  };
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
