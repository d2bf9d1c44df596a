import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { sharesCommunesWith } from './territories.repository.ts';

/** Stored analysis results (see sql/migrations/003_analysis.sql), read as the API serves them. */
export function createMetricsRepository(db: Kysely<DB>) {
  return {
    /** Disparity of member communes for every territory of a level (multi-speed territories). */
    disparity(level: string, indicatorId: string, vintage: string, withinId: number | null) {
      let query = db
        .selectFrom('territory as t')
        .innerJoin('metric_disparity as d', 'd.territory_id', 't.id')
        .select([
          't.code',
          't.name',
          'd.value',
          'd.gini',
          'd.theil',
          'd.cv',
          'd.interdecile_ratio',
          'd.share_population_below',
          'd.threshold_points',
          'd.multispeed',
          'd.partial',
          'd.communes',
          'd.communes_expected',
        ])
        .where('t.level', '=', level)
        .where('d.indicator_id', '=', indicatorId)
        .where('d.vintage', '=', vintage);
      if (withinId !== null) query = query.where(sharesCommunesWith(withinId, level));
      return query.orderBy('t.code').execute();
    },

    /** Distance to the nearest mediation place and population beyond 10/20 km, per territory of a level. */
    access(level: string, withinId: number | null) {
      let query = db
        .selectFrom('territory as t')
        .leftJoin('metric_access as a', 'a.territory_id', 't.id')
        .leftJoin('place as p', 'p.id', 'a.nearest_place_id')
        .select([
          't.code',
          't.name',
          'a.distance_m',
          'a.share_population_beyond_10km',
          'a.share_population_beyond_20km',
          'a.origin',
          'p.name as nearest_place',
        ])
        .where('t.level', '=', level);
      if (withinId !== null) query = query.where(sharesCommunesWith(withinId, level));
      return query.orderBy('t.code').execute();
    },
  };
}

export type MetricsRepository = ReturnType<typeof createMetricsRepository>;
