/** Helpers shared by the view builders (pure). */
import type { Level } from '../api.ts';
import { EPCI_OUTLINE_COLOR, EPCI_OUTLINE_WIDTH_PX, NO_DATA_COLOR, type Rgb } from '../colors.ts';
import { formatInteger, t, tKey, type Lang } from '../i18n.ts';
import { parentLevel } from './requests.ts';
import type { LegendEntry, LegendOutline, TableColumn, TableRow } from './types.ts';

export { drawnLayers, parentLevel } from './requests.ts';

export function parentOutline(level: Level, lang: Lang): LegendOutline[] {
  const parent = parentLevel(level);
  if (!parent) return [];
  const label = parent === 'epci' ? t('epciOutline', lang) : `${t('parentOutline', lang)} (${tKey(`level_${parent}`, lang)})`;
  return [{ key: `outline-${parent}`, color: EPCI_OUTLINE_COLOR, label, widthPx: EPCI_OUTLINE_WIDTH_PX }];
}

export function countNoun(level: Level, lang: Lang): string {
  return tKey(`plural_${level}`, lang);
}

/** "T4 2024 · 300 communes" */
export function subtitle(parts: (string | null | undefined)[], total: number, level: Level, lang: Lang): string {
  const noun = total === 1 ? tKey(`one_${level}`, lang) : countNoun(level, lang);
  return [...parts.filter(Boolean), `${formatInteger(total, lang)} ${noun}`].join(' · ');
}

export function noDataEntry(count: number, lang: Lang): LegendEntry {
  return { key: 'no-data', color: NO_DATA_COLOR, label: t('noData', lang), count };
}

/** Counts of territories per legend key. */
export function countKeys(classOf: Map<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of classOf.values()) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

export function nameColumns(lang: Lang): TableColumn[] {
  return [
    { key: 'name', label: t('name', lang), numeric: false },
    { key: 'code', label: t('code', lang), numeric: false },
  ];
}

/**
 * A table row. Display texts are given as functions and formatted on first read: a national table holds 35,000
 * rows, of which a page of 100 is ever shown, and every switch of indicator builds a new table.
 */
export function tableRow(code: string, name: string, cells: Record<string, [value: string | number | null, text: string | (() => string)]>): TableRow {
  const values: TableRow['values'] = { name, code };
  for (const [key, [value]] of Object.entries(cells)) values[key] = value;
  let text: Record<string, string> | null = null;
  return {
    code,
    values,
    get text() {
      if (!text) {
        text = { name, code };
        for (const [key, [, display]] of Object.entries(cells)) text[key] = typeof display === 'function' ? display() : display;
      }
      return text;
    },
  };
}

export const dash = '—';

export function colorMap(entries: Iterable<[string, Rgb | null]>): Map<string, Rgb> {
  const colors = new Map<string, Rgb>();
  for (const [code, color] of entries) if (color) colors.set(code, color);
  return colors;
}
