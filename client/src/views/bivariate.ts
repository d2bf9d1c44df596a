/**
 * Coverage (x) × usage (y) from /api/bivariate: the 3 × 3 bivariate view (square legend), the 4-class typology
 * and the gap on a diverging scale. Classes come from the server (terciles, or thresholds); colours from here.
 */
import type { BivariateRow, Indicator, Level } from '../api.ts';
import { BIVARIATE, DIVERGING, TYPOLOGY, TYPOLOGY_ORDER, type Rgb } from '../colors.ts';
import { formatPoints, formatValue, localized, t, tKey, vintageLabel, type Lang } from '../i18n.ts';
import { buildClasses, classIndex, classLabels, countByClass, type Method } from './classify.ts';
import { countKeys, countNoun, dash, nameColumns, noDataEntry, parentOutline, subtitle, tableRow } from './common.ts';
import type { LegendEntry, TableModel, TooltipModel, ViewResult } from './types.ts';

export interface BivariateInput {
  x: Indicator;
  y: Indicator;
  level: Level;
  vintage: string;
  rows: readonly BivariateRow[];
  /** Every territory of the level (code → name), so that those without both values count as no data. */
  territories: ReadonlyMap<string, string>;
  lang: Lang;
}

/** Keys of the 3 × 3 grid, top row first (high usage), left to right (low → high coverage): reading order. */
export const GRID_KEYS = ['1-3', '2-3', '3-3', '1-2', '2-2', '3-2', '1-1', '2-1', '3-1'];

function axisText(row: BivariateRow, input: BivariateInput, lang: Lang): string {
  return `${localized(input.x.label, lang)} ${formatValue(row.x, input.x.unit, lang)} · ${localized(input.y.label, lang)} ${formatValue(row.y, input.y.unit, lang)}`;
}

function pairTitle(input: BivariateInput, lang: Lang): string {
  return `${localized(input.x.label, lang)} × ${localized(input.y.label, lang)}`;
}

function vintages(input: BivariateInput, lang: Lang): string {
  const first = input.rows[0];
  if (!first) return vintageLabel(input.vintage, lang);
  const x = vintageLabel(first.x_vintage, lang);
  const y = vintageLabel(first.y_vintage, lang);
  return x === y ? x : `${x} / ${y}`;
}

function table(input: BivariateInput, extra: { key: string; label: string; cell: (row: BivariateRow) => [string | number | null, string] }): TableModel {
  const { lang } = input;
  const rows = new Map(input.rows.map((row) => [row.code, row]));
  return {
    caption: `${pairTitle(input, lang)} — ${vintages(input, lang)}`,
    columns: [
      ...nameColumns(lang),
      { key: 'x', label: localized(input.x.label, lang), numeric: true },
      { key: 'y', label: localized(input.y.label, lang), numeric: true },
      { key: 'gap', label: t('difference', lang), numeric: true },
      { key: extra.key, label: extra.label, numeric: false },
    ],
    rows: [...input.territories].map(([code, name]) => {
      const row = rows.get(code);
      return tableRow(code, name, {
        x: [row?.x ?? null, () => row ? formatValue(row.x, input.x.unit, lang) : dash],
        y: [row?.y ?? null, () => row ? formatValue(row.y, input.y.unit, lang) : dash],
        gap: [row?.gap ?? null, () => row ? formatPoints(row.gap, lang) : dash],
        [extra.key]: row ? extra.cell(row) : [null, t('noData', lang)],
      });
    }),
  };
}

function tooltipOf(input: BivariateInput, value: (row: BivariateRow) => string) {
  const rows = new Map(input.rows.map((row) => [row.code, row]));
  return (code: string, name?: string): TooltipModel | null => {
    const row = rows.get(code);
    const territoryName = row?.name ?? input.territories.get(code) ?? name;
    if (!territoryName) return null;
    if (!row) return { code, name: territoryName, value: t('noData', input.lang), lines: [] };
    return {
      code,
      name: territoryName,
      value: value(row),
      lines: [
        { className: 'tooltip-axes', text: axisText(row, input, input.lang) },
        { className: 'tooltip-gap', text: `${t('difference', input.lang)} ${formatPoints(row.gap, input.lang)}` },
      ],
    };
  };
}

function withClasses(input: BivariateInput, keyOf: (row: BivariateRow) => string, palette: Readonly<Record<string, Rgb>>) {
  const colors = new Map<string, Rgb>();
  const classOf = new Map<string, string>();
  for (const row of input.rows) {
    const key = keyOf(row);
    const color = palette[key];
    if (!color) continue;
    colors.set(row.code, color);
    classOf.set(row.code, key);
  }
  const noData = [...input.territories.keys()].filter((code) => !classOf.has(code)).length;
  return { colors, classOf, counts: countKeys(classOf), noData };
}

export function bivariateLabel(key: string, lang: Lang): string {
  const [x, y] = key.split('-');
  const level = (n: string | undefined) => (n === '1' ? t('low', lang) : n === '3' ? t('high', lang) : '·');
  return lang === 'fr' ? `couverture ${level(x)}, usage ${level(y)} (${key})` : `coverage ${level(x)}, usage ${level(y)} (${key})`;
}

export function buildBivariate(input: BivariateInput): ViewResult {
  const { lang, level } = input;
  const { colors, classOf, counts, noData } = withClasses(input, (row) => row.bivariate_class, BIVARIATE);
  const entries: LegendEntry[] = GRID_KEYS.map((key) => ({ key, color: BIVARIATE[key]!, label: bivariateLabel(key, lang), count: counts.get(key) ?? 0 }));
  return {
    view: 'bivariate',
    level,
    colors,
    classOf,
    legend: {
      title: pairTitle(input, lang),
      subtitle: subtitle([vintages(input, lang)], input.territories.size, level, lang),
      layout: 'grid',
      entries,
      noData: noDataEntry(noData, lang),
      countNoun: countNoun(level, lang),
      axes: { x: localized(input.x.label, lang), y: localized(input.y.label, lang), low: t('low', lang), high: t('high', lang) },
      outlines: parentOutline(level, lang),
    },
    table: table(input, { key: 'class', label: t('class', lang), cell: (row) => [row.bivariate_class, bivariateLabel(row.bivariate_class, lang)] }),
    tooltip: tooltipOf(input, (row) => bivariateLabel(row.bivariate_class, lang)),
  };
}

export function buildTypology(input: BivariateInput): ViewResult {
  const { lang, level } = input;
  const { colors, classOf, counts, noData } = withClasses(input, (row) => row.typology, TYPOLOGY);
  const entries: LegendEntry[] = TYPOLOGY_ORDER.map((key) => ({ key, color: TYPOLOGY[key]!, label: tKey(`typo_${key}`, lang), count: counts.get(key) ?? 0 }));
  return {
    view: 'typology',
    level,
    colors,
    classOf,
    legend: {
      title: `${t('view_typology', lang)} — ${pairTitle(input, lang)}`,
      subtitle: subtitle([vintages(input, lang)], input.territories.size, level, lang),
      layout: 'classes',
      entries,
      noData: noDataEntry(noData, lang),
      countNoun: countNoun(level, lang),
      outlines: parentOutline(level, lang),
    },
    table: table(input, { key: 'typology', label: t('view_typology', lang), cell: (row) => [row.typology, tKey(`typo_${row.typology}`, lang)] }),
    tooltip: tooltipOf(input, (row) => tKey(`typo_${row.typology}`, lang)),
  };
}

export function buildGap(input: BivariateInput & { method: Method }): ViewResult {
  const { lang, level } = input;
  const gaps = input.rows.map((row) => row.gap);
  const classes = buildClasses(gaps, { unit: 'points', method: input.method, ramp: DIVERGING });
  const labels = classLabels(classes, lang);
  const counts = countByClass(classes, gaps);
  const colors = new Map<string, Rgb>();
  const classOf = new Map<string, string>();
  for (const row of input.rows) {
    const index = classIndex(classes, row.gap);
    if (index < 0) continue;
    colors.set(row.code, classes.colors[index]!);
    classOf.set(row.code, String(index));
  }
  const noData = [...input.territories.keys()].filter((code) => !classOf.has(code)).length;
  return {
    view: 'gap',
    level,
    colors,
    classOf,
    legend: {
      title: `${t('gapTitle', lang)} — ${pairTitle(input, lang)}`,
      subtitle: subtitle([vintages(input, lang)], input.territories.size, level, lang),
      layout: 'classes',
      entries: classes.breaks.map((_, i) => ({ key: String(i), color: classes.colors[i]!, label: labels[i] ?? '', count: counts.counts[i] ?? 0 })),
      noData: noDataEntry(noData, lang),
      countNoun: countNoun(level, lang),
      outlines: parentOutline(level, lang),
      note: `+ : ${t('gapAhead', lang)} · − : ${t('gapBehind', lang)}`,
    },
    table: table(input, {
      key: 'class',
      label: t('class', lang),
      cell: (row) => {
        const index = classIndex(classes, row.gap);
        return [index, labels[index] ?? ''];
      },
    }),
    tooltip: tooltipOf(input, (row) => formatPoints(row.gap, lang)),
  };
}
