/**
 * Trends of quarterly indicators (ARCEP deployments): change per quarter over the latest (up to 4) quarters at
 * or before each quarterly vintage, least-squares slope in value units per quarter, and the projected quarter of
 * full coverage. Computed set-based in sql/queries/compute_trends.sql, stored in metric_trend.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** Points of the regression: the vintage's own quarter and up to 3 earlier available ones. */
export const TREND_QUARTERS = 4;

/** Least-squares slope of values against quarter numbers (reference implementation, used by tests). */
export function leastSquaresSlope(quarters: readonly number[], values: readonly number[]): number | null {
  const n = quarters.length;
  if (n < 2) return null;
  const mx = quarters.reduce((s, q) => s + q, 0) / n;
  const my = values.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (quarters[i]! - mx) * (values[i]! - my);
    sxx += (quarters[i]! - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/** Continuous quarter number of a `YYYY-Qn` vintage (year × 4 + n − 1), and back. */
export const quarterNumber = (vintage: string) => Number(vintage.slice(0, 4)) * 4 + Number(vintage.slice(6)) - 1;
export const quarterVintage = (quarter: number) => `${Math.floor(quarter / 4)}-Q${(quarter % 4) + 1}`;

export const trendStep: AnalysisStep = {
  name: 'trend',
  async run(db: Db, indicators) {
    let query = db.deleteFrom('metric_trend');
    if (indicators) query = query.where('indicator_id', 'in', indicators.length > 0 ? indicators : ['']);
    await query.execute();
    // metric_trend has no foreign keys (migration 004): rows of deleted indicators or territories go here
    if (indicators) {
      await sql`
        DELETE FROM metric_trend m
        WHERE NOT EXISTS (SELECT 1 FROM indicator i WHERE i.id = m.indicator_id)
           OR NOT EXISTS (SELECT 1 FROM territory t WHERE t.id = m.territory_id)`.execute(db);
    }
    await runNamedQuery(db, namedQuery('compute_trends'), [indicators]);
  },
};
