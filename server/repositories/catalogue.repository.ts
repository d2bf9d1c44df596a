import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Levels, themes, indicators and sources: the catalogue every request is validated against. */
export function createCatalogueRepository(db: Kysely<DB>) {
  return {
    levels() {
      return db.selectFrom('level').selectAll().orderBy('rank').execute();
    },

    /** Indicators with their themes and the vintages that have commune values, oldest first. */
    async indicators() {
      const rows = await db
        .selectFrom('indicator as i')
        .innerJoin('theme as th', 'th.id', 'i.theme')
        .select([
          'i.id',
          'i.label_fr',
          'i.label_en',
          'i.theme',
          'th.label_fr as theme_label_fr',
          'th.label_en as theme_label_en',
          'th.position as theme_position',
          'i.unit',
          'i.higher_is_better',
          'i.aggregation',
          'i.description_fr',
          'i.description_en',
          'i.publisher',
          'i.licence',
          'i.synthetic',
          sql<string[]>`coalesce((
            SELECT array_agg(DISTINCT v.vintage ORDER BY v.vintage)
            FROM indicator_value v WHERE v.indicator_id = i.id
          ), '{}')`.as('vintages'),
        ])
        .orderBy('th.position')
        .orderBy('i.id')
        .execute();
      // Mixed grains (2024, 2024-Q1) sort by the end of the period they cover.
      return rows.map((row) => ({ ...row, vintages: [...row.vintages].sort(compareVintages) }));
    },

    sources() {
      return db.selectFrom('source').selectAll().orderBy('id').execute();
    },
  };
}

/** Orders vintages written YYYY, YYYY-Qn or YYYY-MM by the end date of the period. */
export function compareVintages(a: string, b: string): number {
  return vintageEnd(a).localeCompare(vintageEnd(b)) || a.localeCompare(b);
}

function vintageEnd(vintage: string): string {
  const year = vintage.slice(0, 4);
  const quarter = /^\d{4}-Q([1-4])$/.exec(vintage);
  if (quarter) return `${year}-${String(Number(quarter[1]) * 3).padStart(2, '0')}`;
  if (/^\d{4}-\d{2}$/.test(vintage)) return vintage;
  return `${year}-12`;
}

export type CatalogueRepository = ReturnType<typeof createCatalogueRepository>;
