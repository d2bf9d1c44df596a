/**
 * Multi-speed territories: disparity of member communes inside every coarser territory (EPCI, département,
 * région) — population-weighted Gini, Theil T, coefficient of variation, inter-decile ratio, and the share of
 * the population living in communes far below the territory's own rate. Computed in TypeScript from sorted
 * commune values read once per indicator (identical on both backends), stored in metric_disparity.
 * Formulas, units and the flag rule: docs/metrics.md (multi-speed territories).
 */
import type { Kysely, Transaction } from 'kysely';
import { analysisSettings } from '../config.ts';
import { runNamedQuery } from '../db/database.ts';
import { unpackFloat64, unpackInt32 } from '../db/packed.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** Default gap, in points, below which a commune counts as "far below" its territory (TERRINUM_DISPARITY_THRESHOLD). */
export const DEFAULT_THRESHOLD_POINTS = 30;

/** A territory is multi-speed when both hold (tuned on the demo, checked on Aisne / Pas-de-Calais). */
export const MULTISPEED_RULE = Object.freeze({ minSharePopulationBelow: 0.2, minGini: 0.15 });

export interface DisparityMeasures {
  /** Communes with a value and a positive weight. */
  communes: number;
  /** Population-weighted mean of commune values. */
  mean: number;
  gini: number | null;
  theil: number | null;
  cv: number | null;
  p10: number;
  p90: number;
  /** P90 / P10; null when P10 = 0. */
  interdecileRatio: number | null;
}

/**
 * Weighted quantile, inverse of the weighted distribution function: the smallest value x_k (values sorted
 * ascending) whose cumulative weight reaches num/den of the total, i.e. C_k · den ≥ num · W.
 * `num/den` instead of a float p so that, with integer weights, the comparison is exact.
 */
export function weightedQuantile(sortedValues: ArrayLike<number>, weights: ArrayLike<number>, num: number, den: number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  let cumulative = 0;
  for (let i = 0; i < sortedValues.length; i++) {
    cumulative += weights[i]!;
    if (weights[i]! > 0 && cumulative * den >= num * total) return sortedValues[i]!;
  }
  return sortedValues[sortedValues.length - 1]!;
}

/**
 * Population-weighted disparity of commune values. Entries with a non-finite value or a weight ≤ 0 are left
 * out; null when none is left. All values equal (every commune at 0 included) → Gini, Theil, CV = 0.
 * Gini and Theil need non-negative values (null otherwise); CV needs a positive mean.
 */
export function measureDisparity(values: ArrayLike<number>, weights: ArrayLike<number>): DisparityMeasures | null {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!) && weights[i]! > 0) kept.push(i);
  const n = kept.length;
  if (n === 0) return null;
  // ascending by value; ties in input order, so results never depend on the engine's sort
  kept.sort((a, b) => values[a]! - values[b]! || a - b);
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  kept.forEach((k, i) => {
    x[i] = values[k]!;
    w[i] = weights[k]!;
  });
  let total = 0;
  let weightedSum = 0;
  for (let i = 0; i < n; i++) {
    total += w[i]!;
    weightedSum += w[i]! * x[i]!;
  }
  const mean = weightedSum / total;
  const p10 = weightedQuantile(x, w, 1, 10);
  const p90 = weightedQuantile(x, w, 9, 10);
  const interdecileRatio = p10 === 0 ? null : p90 / p10;
  if (x[0] === x[n - 1]) return { communes: n, mean: x[0]!, gini: 0, theil: 0, cv: 0, p10, p90, interdecileRatio };

  let squares = 0;
  for (let i = 0; i < n; i++) squares += w[i]! * (x[i]! - mean) ** 2;
  const cv = mean > 0 ? Math.sqrt(squares / total) / mean : null;
  if (x[0]! < 0) return { communes: n, mean, gini: null, theil: null, cv, p10, p90, interdecileRatio };

  // G = Σ_i Σ_j w_i w_j |x_i − x_j| / (2 W² μ) = Σ_i w_i x_i (2 B_i + w_i − W) / (W · Σ w x), B_i = weight before i
  let before = 0;
  let giniSum = 0;
  let theilSum = 0;
  for (let i = 0; i < n; i++) {
    giniSum += w[i]! * x[i]! * (2 * before + w[i]! - total);
    before += w[i]!;
    if (x[i]! > 0) theilSum += w[i]! * (x[i]! / mean) * Math.log(x[i]! / mean);
  }
  const gini = Math.min(1, Math.max(0, giniSum / (total * weightedSum)));
  return { communes: n, mean, gini, theil: theilSum / total, cv, p10, p90, interdecileRatio };
}

/**
 * Share of the weight in communes more than `thresholdPoints` below `reference`, "below" oriented by
 * higherIsBetter (above, for an indicator where higher is worse). Points: percentage points for a ratio
 * (0.30 = 30 points), index points for an index.
 */
export function sharePopulationBelow(
  values: ArrayLike<number>,
  weights: ArrayLike<number>,
  reference: number,
  options: { unit: string; higherIsBetter: boolean; thresholdPoints: number },
): number | null {
  const scale = options.unit === 'ratio' ? 100 : 1;
  const sign = options.higherIsBetter ? 1 : -1;
  let total = 0;
  let below = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!) || !(weights[i]! > 0)) continue;
    total += weights[i]!;
    if (sign * (reference - values[i]!) * scale > options.thresholdPoints) below += weights[i]!;
  }
  return total > 0 ? below / total : null;
}

/** The documented multi-speed rule. */
export function isMultispeed(gini: number | null, shareBelow: number | null): boolean {
  return gini !== null && shareBelow !== null && gini >= MULTISPEED_RULE.minGini && shareBelow >= MULTISPEED_RULE.minSharePopulationBelow;
}

export interface RankableDisparity {
  code: string;
  gini: number | null;
  share_population_below: number | null;
  multispeed: boolean;
  partial: boolean;
}

/**
 * Ranks territories for the multi-speed list: partial ones get rank null; the others are ordered flagged first,
 * then by Gini descending, share below descending, code ascending; rank 1 = the most multi-speed.
 */
export function rankMultispeed<Row extends RankableDisparity>(rows: readonly Row[]): (Row & { rank: number | null })[] {
  const desc = (a: number | null, b: number | null) => (b ?? -Infinity) - (a ?? -Infinity);
  const ranked = rows
    .filter((r) => !r.partial)
    .sort(
      (a, b) =>
        Number(b.multispeed) - Number(a.multispeed) ||
        desc(a.gini, b.gini) ||
        desc(a.share_population_below, b.share_population_below) ||
        (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
    );
  const ranks = new Map<Row, number>(ranked.map((r, i) => [r, i + 1]));
  return [...ranked, ...rows.filter((r) => r.partial)].map((r) => ({ ...r, rank: ranks.get(r) ?? null }));
}

type Members = Map<number, Int32Array>;

/** Member communes of every coarser territory, in commune id order (the order ties are broken in). */
async function readMembers(db: Db): Promise<Members> {
  const rows = await runNamedQuery<{ territory_id: number; commune_ids: Uint8Array }>(db, namedQuery('disparity_members'));
  return new Map(rows.map((r) => [r.territory_id, unpackInt32(r.commune_ids)]));
}

/** One vintage's commune values and weights (NaN: no weight), and where each commune sits in them. */
interface VintageInputs {
  position: Map<number, number>;
  values: Float64Array;
  weights: Float64Array;
}

/** Computes and stores the disparity rows of one indicator (every coarser territory and vintage with a value). */
async function computeIndicator(db: Db, members: Members, indicator: { id: string; unit: string; higher_is_better: boolean }, thresholdPoints: number): Promise<void> {
  const perVintage = await runNamedQuery<{ vintage: string; commune_ids: Uint8Array; values: Uint8Array; weights: Uint8Array }>(
    db,
    namedQuery('disparity_inputs'),
    [indicator.id],
  );
  const byVintage = new Map<string, VintageInputs>();
  for (const r of perVintage) {
    const ids = unpackInt32(r.commune_ids);
    const position = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) position.set(ids[i]!, i);
    byVintage.set(r.vintage, { position, values: unpackFloat64(r.values), weights: unpackFloat64(r.weights) });
  }
  // the territory's own value (ratio of sums or weighted mean) and completeness, as the aggregation stored them
  const aggregates = await db
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .innerJoin('level as l', 'l.id', 't.level')
    .select(['v.territory_id', 'v.vintage', 'v.value', 'v.communes_expected', 'v.partial'])
    .where('v.indicator_id', '=', indicator.id)
    .where('l.rank', '>', 0)
    .orderBy('v.territory_id')
    .orderBy('v.vintage')
    .execute();
  const rows = [];
  for (const aggregate of aggregates) {
    const communes = byVintage.get(aggregate.vintage);
    const ids = members.get(aggregate.territory_id);
    if (!communes || !ids) continue;
    const values: number[] = [];
    const weights: number[] = [];
    for (const id of ids) {
      const at = communes.position.get(id);
      if (at !== undefined && !Number.isNaN(communes.weights[at]!)) {
        values.push(communes.values[at]!);
        weights.push(communes.weights[at]!);
      }
    }
    const measures = measureDisparity(values, weights);
    const shareBelow =
      measures && aggregate.value !== null
        ? sharePopulationBelow(values, weights, aggregate.value, { unit: indicator.unit, higherIsBetter: indicator.higher_is_better, thresholdPoints })
        : null;
    rows.push({
      territory_id: aggregate.territory_id,
      vintage: aggregate.vintage,
      value: aggregate.value,
      gini: measures?.gini ?? null,
      theil: measures?.theil ?? null,
      cv: measures?.cv ?? null,
      interdecile_ratio: measures?.interdecileRatio ?? null,
      share_population_below: shareBelow,
      multispeed: isMultispeed(measures?.gini ?? null, shareBelow),
      communes: measures?.communes ?? 0,
      communes_expected: aggregate.communes_expected,
      partial: aggregate.partial,
    });
  }
  const chunk = 5000;
  for (let i = 0; i < rows.length; i += chunk) {
    await runNamedQuery(db, namedQuery('store_disparity'), [indicator.id, thresholdPoints, JSON.stringify(rows.slice(i, i + chunk))]);
  }
}

/**
 * The disparity analysis step; `thresholdPoints` is the "far below" gap in points, by default the setting
 * TERRINUM_DISPARITY_THRESHOLD (30), read when the step runs: the environment of the import decides.
 */
export function createDisparityStep(options: { thresholdPoints?: number } = {}): AnalysisStep {
  return {
    name: 'disparity',
    async run(db, indicators) {
      const thresholdPoints = options.thresholdPoints ?? analysisSettings().disparityThreshold;
      let query = db.deleteFrom('metric_disparity');
      if (indicators) query = query.where('indicator_id', 'in', indicators.length > 0 ? indicators : ['']);
      await query.execute();
      // counts (and distances) say nothing about disparity between communes: only rates and indices
      let catalogue = db.selectFrom('indicator').select(['id', 'unit', 'higher_is_better']).where('unit', 'in', ['ratio', 'index']).orderBy('id');
      if (indicators) catalogue = catalogue.where('id', 'in', indicators.length > 0 ? indicators : ['']);
      const selected = await catalogue.execute();
      if (selected.length === 0) return;
      const members = await readMembers(db);
      for (const indicator of selected) await computeIndicator(db, members, indicator, thresholdPoints);
    },
  };
}

/** The disparity step with the configured threshold (TERRINUM_DISPARITY_THRESHOLD, default 30 points). */
export const disparityStep: AnalysisStep = createDisparityStep();

interface DisparityAtThreshold {
  code: string;
  gini: number | null;
  share_population_below: number | null;
  threshold_points: number;
  multispeed: boolean;
}

/**
 * Stored disparity rows of one level, indicator and vintage, at another threshold than the stored one: the share of
 * the population far below and the multi-speed flag are recomputed in SQL from the member communes
 * (sql/queries/disparity_share_below.sql, the formula of sharePopulationBelow); the other measures do not depend on
 * the threshold. Rows already at that threshold are returned as they are.
 */
export async function disparityAtThreshold<Row extends DisparityAtThreshold>(
  db: Db,
  rows: Row[],
  query: { level: string; indicator: string; vintage: string; thresholdPoints: number },
): Promise<Row[]> {
  if (rows.every((r) => r.threshold_points === query.thresholdPoints)) return rows;
  const shares = await runNamedQuery<{ code: string; share_population_below: number }>(db, namedQuery('disparity_share_below'), [
    query.level,
    query.indicator,
    query.vintage,
    query.thresholdPoints,
  ]);
  const byCode = new Map(shares.map((s) => [s.code, s.share_population_below]));
  return rows.map((r) => {
    const share = byCode.get(r.code) ?? null;
    return { ...r, share_population_below: share, threshold_points: query.thresholdPoints, multispeed: isMultispeed(r.gini, share) };
  });
}
