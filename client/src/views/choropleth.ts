/** Choropleth of one indicator at one vintage: classes (fixed, quantiles, Jenks) on a sequential palette. */
import type { Indicator, Level, StatsRow } from '../api.ts';
import { SEQUENTIAL } from '../colors.ts';
import { denominatorUnit, formatInteger, formatValue, localized, t, vintageLabel, type Lang } from '../i18n.ts';
import { buildClasses, classIndex, classLabels, countByClass, type Classes, type Method } from './classify.ts';
import { countNoun, dash, nameColumns, noDataEntry, parentOutline, subtitle, tableRow } from './common.ts';
import type { LegendEntry, TooltipLine, ViewResult } from './types.ts';

export interface ChoroplethInput {
  indicator: Indicator;
  level: Level;
  vintage: string;
  rows: readonly StatsRow[];
  method: Method;
  lang: Lang;
}

/** The tooltip lines of a stats row: numerator / denominator, and "partial" when communes are missing. */
export function statsLines(row: StatsRow | undefined, indicatorId: string, lang: Lang): TooltipLine[] {
  const lines: TooltipLine[] = [];
  if (row && row.numerator !== null && row.denominator !== null) {
    const unit = denominatorUnit(indicatorId, lang);
    lines.push({
      className: 'tooltip-fraction',
      text: `${formatInteger(row.numerator, lang)} / ${formatInteger(row.denominator, lang)}${unit ? ` ${unit}` : ''}`,
      data: { numerator: String(row.numerator), denominator: String(row.denominator) },
    });
  }
  if (row?.partial) lines.push({ className: 'tooltip-partial', text: t('partial', lang, { communes: row.communes, expected: row.communes_expected }) });
  return lines;
}

export function formatRowValue(row: StatsRow | undefined, indicator: Indicator, lang: Lang): string {
  return row && row.value !== null ? formatValue(row.value, indicator.unit, lang) : t('noData', lang);
}

export function buildChoropleth(input: ChoroplethInput): ViewResult & { classes: Classes } {
  const { indicator, level, lang } = input;
  const rows = new Map(input.rows.map((row) => [row.code, row]));
  const values = input.rows.map((row) => row.value);
  const classes = buildClasses(values, { unit: indicator.unit, method: input.method, ramp: SEQUENTIAL });
  const labels = classLabels(classes, lang);
  const counts = countByClass(classes, values);

  const colors = new Map<string, (typeof classes.colors)[number]>();
  const classOf = new Map<string, string>();
  for (const row of input.rows) {
    const index = classIndex(classes, row.value);
    if (index < 0) continue;
    colors.set(row.code, classes.colors[index]!);
    classOf.set(row.code, String(index));
  }

  const entries: LegendEntry[] = classes.breaks.map((_, i) => ({ key: String(i), color: classes.colors[i]!, label: labels[i] ?? '', count: counts.counts[i] ?? 0 }));
  const title = localized(indicator.label, lang);
  return {
    view: 'choropleth',
    level,
    classes,
    colors,
    classOf,
    legend: {
      title,
      subtitle: subtitle([vintageLabel(input.vintage, lang)], input.rows.length, level, lang),
      layout: 'classes',
      entries,
      noData: noDataEntry(counts.noData, lang),
      countNoun: countNoun(level, lang),
      outlines: parentOutline(level, lang),
    },
    table: {
      caption: `${title} — ${vintageLabel(input.vintage, lang)}`,
      columns: [
        ...nameColumns(lang),
        { key: 'value', label: t('value', lang), numeric: true },
        { key: 'numerator', label: t('numerator', lang), numeric: true },
        { key: 'denominator', label: t('denominator', lang), numeric: true },
        { key: 'class', label: t('class', lang), numeric: false },
      ],
      rows: input.rows.map((row) => {
        const index = classIndex(classes, row.value);
        return tableRow(row.code, row.name, {
          value: [row.value, () => formatRowValue(row, indicator, lang)],
          numerator: [row.numerator, () => row.numerator === null ? dash : formatInteger(row.numerator, lang)],
          denominator: [row.denominator, () => row.denominator === null ? dash : formatInteger(row.denominator, lang)],
          class: [index, () => index < 0 ? t('noData', lang) : (labels[index] ?? '')],
        });
      }),
    },
    tooltip(code, name) {
      const row = rows.get(code);
      if (!row && !name) return null;
      return { code, name: row?.name ?? name ?? code, value: formatRowValue(row, indicator, lang), lines: statsLines(row, indicator.id, lang) };
    },
  };
}
