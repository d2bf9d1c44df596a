/**
 * Classes of a numeric variable for a choropleth: fixed breaks, quantiles or natural breaks (Jenks, computed
 * by ckmeans, the optimal 1-D k-means of simple-statistics: same classes as Jenks, exact and O(k·n log n)).
 * Pure (no DOM): the planners' map, the embed and the tests share it.
 */
import { ckmeans } from 'simple-statistics';
import { RATIO_BREAKS, classify, rampColors, type Rgb } from '../colors.ts';
import { formatBound, formatInteger, type Lang, type Unit } from '../i18n.ts';

export type Method = 'fixed' | 'quantile' | 'jenks';
export const METHODS: readonly Method[] = ['fixed', 'quantile', 'jenks'];

export interface Classes {
  method: Method;
  unit: Unit;
  /** Lower bound of each class, ascending; a value belongs to the last class whose bound it reaches. */
  breaks: number[];
  colors: Rgb[];
  /** The first class reads "< b1" instead of "b0 – b1" (diverging scales open at both ends). */
  openLow: boolean;
}

export const DEFAULT_CLASS_COUNT = 5;

/** Fixed breaks per unit: ratios by fifths, distances by 5 km, gaps symmetric around 0; else equal intervals. */
export function fixedBreaks(unit: Unit, values: readonly number[], classes = DEFAULT_CLASS_COUNT): number[] {
  if (unit === 'ratio') return [...RATIO_BREAKS];
  if (unit === 'metres') return [0, 5_000, 10_000, 15_000, 20_000];
  if (unit === 'points') return [-Infinity, -20, -5, 5, 20];
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0];
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  if (min === max) return [min];
  const step = (max - min) / classes;
  return Array.from({ length: classes }, (_, i) => min + i * step);
}

/**
 * Lower bounds of `classes` quantile classes. Duplicated bounds (many equal values) are collapsed, so fewer
 * classes may come back.
 */
export function quantileBreaks(values: readonly number[], classes = DEFAULT_CLASS_COUNT): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [0];
  const breaks: number[] = [sorted[0] as number];
  for (let i = 1; i < classes; i++) {
    const q = sorted[Math.floor((i * sorted.length) / classes)] as number;
    if (q > (breaks[breaks.length - 1] as number)) breaks.push(q);
  }
  return breaks;
}

/** Natural breaks: the lower bound of each ckmeans cluster (as many clusters as distinct values allow). */
export function jenksBreaks(values: readonly number[], classes = DEFAULT_CLASS_COUNT): number[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [0];
  const distinct = new Set(finite).size;
  const k = Math.max(1, Math.min(classes, distinct));
  return ckmeans(finite, k).map((cluster) => cluster[0] as number);
}

export interface ClassifyOptions {
  unit: Unit;
  method: Method;
  ramp: readonly Rgb[];
  classes?: number;
}

export function buildClasses(values: readonly (number | null | undefined)[], options: ClassifyOptions): Classes {
  const finite = values.filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  const count = options.classes ?? DEFAULT_CLASS_COUNT;
  let breaks: number[];
  if (options.method === 'quantile') breaks = quantileBreaks(finite, count);
  else if (options.method === 'jenks') breaks = jenksBreaks(finite, count);
  else breaks = fixedBreaks(options.unit, finite, count);
  // a diverging ramp keeps its centre on the middle class: only fixed symmetric breaks use it in full
  const colors = breaks.length === options.ramp.length ? [...options.ramp] : rampColors(options.ramp, breaks.length);
  return { method: options.method, unit: options.unit, breaks, colors, openLow: breaks[0] === -Infinity };
}

/** Index of the class of a value; -1 when there is no value. */
export function classIndex(classes: Classes, value: number | null | undefined): number {
  return classify(value, classes.breaks);
}

export function colorOfValue(classes: Classes, value: number | null | undefined): Rgb | null {
  const index = classIndex(classes, value);
  return index < 0 ? null : (classes.colors[index] ?? null);
}

/** "0 – 20 %", "20 – 40 %", …, "≥ 80 %" for ratios; "a – b" and "≥ c" in the unit otherwise; "< b1" when open low. */
export function classLabels(classes: Classes, lang: Lang): string[] {
  const { breaks, unit } = classes;
  return breaks.map((lower, i) => {
    const upper = breaks[i + 1];
    if (upper === undefined) return `≥ ${formatBound(lower, unit, lang)}`;
    if (i === 0 && classes.openLow) return `< ${formatBound(upper, unit, lang)}`;
    // the unit once, after the upper bound: "0 – 20 %", "5 – 10 km"
    if (unit === 'ratio') return `${formatInteger(lower * 100, lang)} – ${formatBound(upper, unit, lang)}`;
    if (unit === 'metres') return `${formatInteger(lower / 1000, lang)} – ${formatBound(upper, unit, lang)}`;
    return `${formatBound(lower, unit, lang)} – ${formatBound(upper, unit, lang)}`;
  });
}

export interface ClassCounts {
  /** Number of territories per class, same order as the breaks. */
  counts: number[];
  noData: number;
}

export function countByClass(classes: Classes, values: readonly (number | null | undefined)[]): ClassCounts {
  const counts = classes.breaks.map(() => 0);
  let noData = 0;
  for (const value of values) {
    const index = classIndex(classes, value);
    if (index < 0) noData++;
    else counts[index] = (counts[index] ?? 0) + 1;
  }
  return { counts, noData };
}
