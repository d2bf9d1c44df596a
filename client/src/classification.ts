/** Turns an indicator's values into choropleth classes: breaks, colours, labels and counts. Pure (no DOM). */
import { RATIO_BREAKS, classify, paletteFor, quantileBreaks, type Rgb } from './colors.ts';
import { formatBound, formatInteger, type Lang, type Unit } from './i18n.ts';

export interface Classification {
  unit: Unit;
  /** Lower bounds of each class, ascending. */
  breaks: number[];
  /** One colour per class. */
  colors: Rgb[];
}

/** Fixed breaks for ratios (comparable across indicators and vintages); quantiles otherwise. */
export function buildClassification(unit: Unit, values: readonly (number | null)[]): Classification {
  const breaks = unit === 'ratio' ? [...RATIO_BREAKS] : quantileBreaks(values.filter((v): v is number => v !== null));
  return { unit, breaks, colors: paletteFor(breaks.length) };
}

export function classOf(classification: Classification, value: number | null | undefined): number {
  return classify(value, classification.breaks);
}

/** "0 – 20 %", "20 – 40 %", …, "≥ 80 %" for ratios; "a – b" and "≥ c" in the unit otherwise. */
export function classLabels(classification: Classification, lang: Lang): string[] {
  const { breaks, unit } = classification;
  return breaks.map((lower, i) => {
    const upper = breaks[i + 1];
    if (upper === undefined) return `≥ ${formatBound(lower, unit, lang)}`;
    if (unit === 'ratio') return `${formatInteger(lower * 100, lang)} – ${formatBound(upper, unit, lang)}`;
    return `${formatBound(lower, unit, lang)} – ${formatBound(upper, unit, lang)}`;
  });
}

export interface ClassCounts {
  /** Number of territories per class, same order as the breaks. */
  counts: number[];
  noData: number;
}

export function countByClass(classification: Classification, values: readonly (number | null | undefined)[]): ClassCounts {
  const counts = classification.breaks.map(() => 0);
  let noData = 0;
  for (const value of values) {
    const index = classOf(classification, value);
    if (index < 0) noData++;
    else counts[index] = (counts[index] ?? 0) + 1;
  }
  return { counts, noData };
}
