import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Levels, themes, indicators and sources: the catalogue every request is validated against. */
export function createCatalogueRepository(db: Kysely<DB>) {
  // The indicator list reads every value's vintage (a second at national scale): kept for one data version,
  // which every import bumps.
  let cached: { version: number; indicators: ReturnType<typeof readIndicators> } | null = null;

  async function version(): Promise<number> {
    const row = await db.selectFrom('data_version').select('version').executeTakeFirst();
    return Number(row?.version ?? 0);
  }

  async function readIndicators() {
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
  }

  return {
    levels() {
      return db.selectFrom('level').selectAll().orderBy('rank').execute();
    },

    /** The data version (bumped by every import): what caches of the data are valid for. */
    version,

    /** Indicators with their themes and the vintages that have commune values, oldest first. */
    async indicators() {
      const current = await version();
      if (cached?.version === current) return cached.indicators;
      const indicators = readIndicators();
      cached = { version: current, indicators };
      // a failed read is not kept
      indicators.catch(() => {
        if (cached?.indicators === indicators) cached = null;
      });
      return indicators;
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
