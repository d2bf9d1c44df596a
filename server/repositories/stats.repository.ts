import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { sharesCommunesWith } from './territories.repository.ts';

export interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  communes: number;
  communes_expected: number;
  partial: boolean;
  lisa_i: number | null;
  lisa_p: number | null;
  lisa_class: string | null;
  trend_per_quarter: number | null;
  projected_full: string | null;
}

/** Reads stored indicator values (communes as imported, coarser levels as aggregated) and their stored metrics. */
export function createStatsRepository(db: Kysely<DB>) {
  return {
    /** Every territory of the level, with its value for the indicator and vintage (null when it has none). */
    async rows(level: string, indicatorId: string, vintage: string, withinId: number | null): Promise<StatsRow[]> {
      let query = db
        .selectFrom('territory as t')
        .leftJoin('indicator_value as v', (join) =>
          join.onRef('v.territory_id', '=', 't.id').on('v.indicator_id', '=', indicatorId).on('v.vintage', '=', vintage),
        )
        .leftJoin('metric_lisa as l', (join) =>
          join.onRef('l.territory_id', '=', 't.id').on('l.indicator_id', '=', indicatorId).on('l.vintage', '=', vintage),
        )
        .leftJoin('metric_trend as tr', (join) =>
          join.onRef('tr.territory_id', '=', 't.id').on('tr.indicator_id', '=', indicatorId).on('tr.vintage', '=', vintage),
        )
        .select([
          't.code',
          't.name',
          'v.value',
          'v.numerator',
          'v.denominator',
          sql<number>`coalesce(v.communes, 0)`.as('communes'),
          // a territory without any value still expects all its member communes
          sql<number>`coalesce(v.communes_expected, CASE WHEN t.level = 'commune' THEN 1
                        ELSE (SELECT count(*)::int FROM territory_member m WHERE m.territory_id = t.id) END)`.as('communes_expected'),
          'l.lisa_i',
          'l.lisa_p',
          'l.lisa_class',
          'tr.trend_per_quarter',
          'tr.projected_full',
        ])
        .where('t.level', '=', level);
      if (withinId !== null) query = query.where(sharesCommunesWith(withinId, level));
      const rows = await query.orderBy('t.code').execute();
      return rows.map((row) => ({ ...row, partial: row.communes < row.communes_expected }));
    },
  };
}

export type StatsRepository = ReturnType<typeof createStatsRepository>;
