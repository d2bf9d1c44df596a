import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { territoryConditions, type TerritoryFilter } from './territories.repository.ts';

/** A territory's row; the metric fields are absent when `fields` left their table out. */
export interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  communes: number;
  communes_expected: number;
  partial: boolean;
  lisa_i?: number | null;
  lisa_p?: number | null;
  lisa_class?: string | null;
  trend_per_quarter?: number | null;
  projected_full?: string | null;
  /** Disparity of member communes (metric_disparity; null for communes and territories without a row). */
  gini?: number | null;
  theil?: number | null;
  cv?: number | null;
  interdecile_ratio?: number | null;
  share_population_below?: number | null;
  multispeed?: boolean | null;
  /** Access to mediation (metric_access): distance for communes, population-weighted mean distance above. */
  distance_m?: number | null;
  share_population_beyond_10km?: number | null;
  share_population_beyond_20km?: number | null;
}

/** The metric tables joined to the values, and the row fields each one gives. */
const METRIC_FIELDS = {
  lisa: ['lisa_i', 'lisa_p', 'lisa_class'],
  trend: ['trend_per_quarter', 'projected_full'],
  disparity: ['gini', 'theil', 'cv', 'interdecile_ratio', 'share_population_below', 'multispeed'],
  access: ['distance_m', 'share_population_beyond_10km', 'share_population_beyond_20km'],
} as const;

/** Reads stored indicator values (communes as imported, coarser levels as aggregated) and their stored metrics. */
export function createStatsRepository(db: Kysely<DB>) {
  return {
    /**
     * Every territory of the level, with its value for the indicator and vintage (null when it has none) and the
     * stored metrics of that indicator and vintage; `withinId` (or `filter`) restricts the territories. With
     * `fields`, the metric tables none of whose fields is listed are neither joined nor read (their fields are
     * absent): a national map asks for values only, and 35,000 rows skip four joins and a dozen columns.
     */
    async rows(level: string, indicatorId: string, vintage: string, withinId: number | null, filter: TerritoryFilter = {}, fields: ReadonlySet<string> | null = null): Promise<StatsRow[]> {
      const wanted = (table: keyof typeof METRIC_FIELDS) => !fields || METRIC_FIELDS[table].some((field) => fields.has(field));
      let query = db
        .selectFrom('territory as t')
        .leftJoin('indicator_value as v', (join) =>
          join.onRef('v.territory_id', '=', 't.id').on('v.indicator_id', '=', indicatorId).on('v.vintage', '=', vintage),
        )
        .select([
          't.code',
          't.name',
          'v.value',
          'v.numerator',
          'v.denominator',
          sql<number>`coalesce(v.communes, 0)`.as('communes'),
          // a territory without any value still expects all its member communes. Communes are written apart: the
          // correlated count, costed for each of 35,000 rows, made the server plan cross the JIT threshold (+3 s).
          level === 'commune'
            ? sql<number>`coalesce(v.communes_expected, 1)`.as('communes_expected')
            : sql<number>`coalesce(v.communes_expected, (SELECT count(*)::int FROM territory_member m WHERE m.territory_id = t.id))`.as('communes_expected'),
        ])
        .where('t.level', '=', level);
      for (const condition of territoryConditions(level, { ...filter, withinId })) query = query.where(condition);
      const rows = await query
        .$if(wanted('lisa'), (qb) =>
          qb
            .leftJoin('metric_lisa as l', (join) => join.onRef('l.territory_id', '=', 't.id').on('l.indicator_id', '=', indicatorId).on('l.vintage', '=', vintage))
            .select(['l.lisa_i', 'l.lisa_p', 'l.lisa_class']),
        )
        .$if(wanted('trend'), (qb) =>
          qb
            .leftJoin('metric_trend as tr', (join) => join.onRef('tr.territory_id', '=', 't.id').on('tr.indicator_id', '=', indicatorId).on('tr.vintage', '=', vintage))
            .select(['tr.trend_per_quarter', 'tr.projected_full']),
        )
        .$if(wanted('disparity'), (qb) =>
          qb
            .leftJoin('metric_disparity as d', (join) => join.onRef('d.territory_id', '=', 't.id').on('d.indicator_id', '=', indicatorId).on('d.vintage', '=', vintage))
            .select(['d.gini', 'd.theil', 'd.cv', 'd.interdecile_ratio', 'd.share_population_below', 'd.multispeed']),
        )
        .$if(wanted('access'), (qb) =>
          qb.leftJoin('metric_access as a', 'a.territory_id', 't.id').select(['a.distance_m', 'a.share_population_beyond_10km', 'a.share_population_beyond_20km']),
        )
        .orderBy('t.code')
        .execute();
      return rows.map((row) => ({ ...row, partial: row.communes < row.communes_expected }));
    },
  };
}

export type StatsRepository = ReturnType<typeof createStatsRepository>;
