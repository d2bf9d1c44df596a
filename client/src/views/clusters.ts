/**
 * Spatial clusters: the local Moran's I class of each commune (HH, LL, HL, LH; "ns" when not significant at
 * 5 %), from the commune rows of /api/stats (lisa_class, lisa_p, lisa_i).
 */
import type { Indicator, Level, StatsRow } from '../api.ts';
import { LISA, LISA_ORDER, type Rgb } from '../colors.ts';
import { formatDecimal, localized, t, tKey, vintageLabel, type Lang } from '../i18n.ts';
import { formatRowValue } from './choropleth.ts';
import { countKeys, countNoun, dash, nameColumns, noDataEntry, parentOutline, subtitle, tableRow } from './common.ts';
import type { ViewResult } from './types.ts';

export interface ClustersInput {
  indicator: Indicator;
  level: Level;
  vintage: string;
  rows: readonly StatsRow[];
  lang: Lang;
}

export const formatP = (p: number, lang: Lang) => (p < 0.001 ? '< 0,001'.replace(',', lang === 'fr' ? ',' : '.') : formatDecimal(p, 3, lang));

export function buildClusters(input: ClustersInput): ViewResult {
  const { indicator, level, lang } = input;
  const rows = new Map(input.rows.map((row) => [row.code, row]));
  const colors = new Map<string, Rgb>();
  const classOf = new Map<string, string>();
  for (const row of input.rows) {
    const key = row.lisa_class;
    if (!key || !LISA[key]) continue;
    colors.set(row.code, LISA[key]);
    classOf.set(row.code, key);
  }
  const counts = countKeys(classOf);
  const title = `${t('view_clusters', lang)} — ${localized(indicator.label, lang)}`;
  const classLabel = (key: string | null | undefined) => (key ? tKey(`lisa_${key}`, lang) : t('noData', lang));
  return {
    view: 'clusters',
    level,
    colors,
    classOf,
    legend: {
      title,
      subtitle: subtitle([vintageLabel(input.vintage, lang)], input.rows.length, level, lang),
      layout: 'classes',
      entries: LISA_ORDER.map((key) => ({ key, color: LISA[key]!, label: classLabel(key), count: counts.get(key) ?? 0 })),
      noData: noDataEntry(input.rows.length - classOf.size, lang),
      countNoun: countNoun(level, lang),
      outlines: parentOutline(level, lang),
      note: t('significance', lang),
    },
    table: {
      caption: `${title} — ${vintageLabel(input.vintage, lang)}`,
      columns: [
        ...nameColumns(lang),
        { key: 'value', label: t('value', lang), numeric: true },
        { key: 'lisa_i', label: 'I', numeric: true },
        { key: 'lisa_p', label: 'p', numeric: true },
        { key: 'class', label: t('class', lang), numeric: false },
      ],
      rows: input.rows.map((row) =>
        tableRow(row.code, row.name, {
          value: [row.value, () => formatRowValue(row, indicator, lang)],
          lisa_i: [row.lisa_i ?? null, () => row.lisa_i === null || row.lisa_i === undefined ? dash : formatDecimal(row.lisa_i, 3, lang)],
          lisa_p: [row.lisa_p ?? null, () => row.lisa_p === null || row.lisa_p === undefined ? dash : formatP(row.lisa_p, lang)],
          class: [row.lisa_class ?? null, () => classLabel(row.lisa_class)],
        }),
      ),
    },
    tooltip(code, name) {
      const row = rows.get(code);
      if (!row) return name ? { code, name, value: t('noData', lang), lines: [] } : null;
      const lines = [{ className: 'tooltip-indicator', text: `${localized(indicator.label, lang)} : ${formatRowValue(row, indicator, lang)}` }];
      if (row.lisa_p !== null && row.lisa_p !== undefined) lines.push({ className: 'tooltip-p', text: t('pValue', lang, { p: formatP(row.lisa_p, lang) }) });
      return { code, name: row.name, value: classLabel(row.lisa_class), lines };
    },
  };
}
