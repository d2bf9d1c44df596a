/**
 * Coverage × usage on request (not stored): a 3 × 3 bivariate class, a 4-class typology and the gap between
 * the two axes for every territory of a level. Values come from sql/queries/bivariate.sql; classes are computed
 * here. Definitions: docs/metrics-disparity.md, section "Gap and bivariate typology".
 */
import type { Kysely, Transaction } from 'kysely';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';

type Db = Kysely<DB> | Transaction<DB>;

export type Typology = 'connecte' | 'fracture-usage' | 'fracture-infrastructure' | 'double-fracture';

export interface BivariateRow {
  code: string;
  name: string;
  x: number;
  y: number;
  x_vintage: string;
  y_vintage: string;
  /** 1 = worst third … 3 = best third, after orienting the axis "higher is better". */
  x_class: 1 | 2 | 3;
  y_class: 1 | 2 | 3;
  /** `${x_class}-${y_class}` */
  bivariate_class: string;
  typology: Typology;
  /** x − y in percentage points when both are ratios (oriented), else the difference of percentile ranks (0–100). */
  gap: number;
}

/** Fixed class limits in each indicator's own units: [x1, x2] and [y1, y2], first < second. */
export interface Thresholds {
  x: [number, number];
  y: [number, number];
}

export interface BivariateRequest {
  level: string;
  x: string;
  y: string;
  vintage: string;
  thresholds?: Thresholds;
  /** Territory id: compare only the territories sharing a member commune with it. */
  withinId?: number;
}

/** A request the data cannot answer (unknown indicator, malformed thresholds), naming the parameter at fault. */
export class BivariateInputError extends Error {
  override name = 'BivariateInputError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses `x1,x2;y1,y2` (numbers in each indicator's own units, x1 < x2, y1 < y2). */
export function parseThresholds(text: string): Thresholds {
  const axes = text.split(';').map((axis) => axis.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))));
  if (axes.length !== 2 || axes.some((a) => a.length !== 2 || !a.every(Number.isFinite) || !(a[0]! < a[1]!))) {
    throw new BivariateInputError('thresholds', `expected "x1,x2;y1,y2" with numbers and x1 < x2, y1 < y2, found "${text}"`);
  }
  return { x: [axes[0]![0]!, axes[0]![1]!], y: [axes[1]![0]!, axes[1]![1]!] };
}

interface Axis {
  unit: string;
  higherIsBetter: boolean;
}

/**
 * Mid-rank percentile of each value among all (ties share one), in (0, 1): (below + equal / 2) / n,
 * after orienting so that higher is better. Returned as the integer 2·below + equal (over 2n) for exact comparisons.
 */
export function midRanks(values: readonly number[], higherIsBetter: boolean): number[] {
  const oriented = values.map((v) => (higherIsBetter ? v : -v));
  const order = oriented.map((_, i) => i).sort((a, b) => oriented[a]! - oriented[b]!);
  const twice = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && oriented[order[end + 1]!] === oriented[order[start]!]) end++;
    for (let k = start; k <= end; k++) twice[order[k]!] = 2 * start + (end - start + 1);
    start = end + 1;
  }
  return twice;
}

/** Tercile class from a mid-rank (2·below + equal over 2n): 1 below 1/3, 2 below 2/3, else 3. */
export function tercileClass(twiceRank: number, n: number): 1 | 2 | 3 {
  // rank / (2n) < 1/3  ⇔  3 · rank < 2n, in integers
  if (3 * twiceRank < 2 * n) return 1;
  if (3 * twiceRank < 4 * n) return 2;
  return 3;
}

/** Class from fixed limits: for higher-is-better, 1 below t1, 2 below t2, 3 from t2; mirrored otherwise (limits belong to the better class). */
export function thresholdClass(value: number, [t1, t2]: [number, number], higherIsBetter: boolean): 1 | 2 | 3 {
  if (higherIsBetter) return value >= t2 ? 3 : value >= t1 ? 2 : 1;
  return value <= t1 ? 3 : value <= t2 ? 2 : 1;
}

/** Typology from the two classes: an axis is "low" in its bottom third (class 1), "high" otherwise. */
export function typology(xClass: number, yClass: number): Typology {
  const xHigh = xClass >= 2;
  const yHigh = yClass >= 2;
  if (xHigh && yHigh) return 'connecte';
  if (xHigh) return 'fracture-usage';
  if (yHigh) return 'fracture-infrastructure';
  return 'double-fracture';
}

/** Classes, typology and gap for rows holding x and y (pure; the database part is `bivariate`). */
export function classify(
  rows: readonly { code: string; name: string; x: number; y: number; x_vintage: string; y_vintage: string }[],
  xAxis: Axis,
  yAxis: Axis,
  thresholds?: Thresholds,
): BivariateRow[] {
  const n = rows.length;
  const xRanks = midRanks(rows.map((r) => r.x), xAxis.higherIsBetter);
  const yRanks = midRanks(rows.map((r) => r.y), yAxis.higherIsBetter);
  const bothRates = xAxis.unit === 'ratio' && yAxis.unit === 'ratio';
  const oriented = (v: number, axis: Axis) => (axis.higherIsBetter ? v : 1 - v);
  return rows.map((r, i) => {
    const xClass = thresholds ? thresholdClass(r.x, thresholds.x, xAxis.higherIsBetter) : tercileClass(xRanks[i]!, n);
    const yClass = thresholds ? thresholdClass(r.y, thresholds.y, yAxis.higherIsBetter) : tercileClass(yRanks[i]!, n);
    const gap = bothRates ? 100 * (oriented(r.x, xAxis) - oriented(r.y, yAxis)) : (100 * (xRanks[i]! - yRanks[i]!)) / (2 * n);
    return { ...r, x_class: xClass, y_class: yClass, bivariate_class: `${xClass}-${yClass}`, typology: typology(xClass, yClass), gap };
  });
}

/**
 * Coverage (x) × usage (y) for every territory of `level` with both values, each indicator at its latest vintage
 * at or before `vintage`. Empty when an axis has no vintage at or before it.
 */
export async function bivariate(db: Db, request: BivariateRequest): Promise<BivariateRow[]> {
  const catalogue = await db.selectFrom('indicator').select(['id', 'unit', 'higher_is_better']).where('id', 'in', [request.x, request.y]).execute();
  const axis = (parameter: 'x' | 'y'): Axis => {
    const found = catalogue.find((i) => i.id === request[parameter]);
    if (!found) throw new BivariateInputError(parameter, `unknown indicator "${request[parameter]}"`);
    return { unit: found.unit, higherIsBetter: found.higher_is_better };
  };
  const [xAxis, yAxis] = [axis('x'), axis('y')];
  const rows = await runNamedQuery<{ code: string; name: string; x: number; y: number; x_vintage: string; y_vintage: string }>(
    db,
    namedQuery('bivariate'),
    [request.level, request.x, request.y, request.vintage, request.withinId ?? null],
  );
  return classify(rows, xAxis, yAxis, request.thresholds);
}
