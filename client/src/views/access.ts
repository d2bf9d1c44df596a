/** Access to digital mediation: distance to the nearest place (/api/access/{level}), farther = darker. */
import type { AccessRow, Level } from '../api.ts';
import { DISTANCE, type Rgb } from '../colors.ts';
import { formatDistance, formatPercent, t, type Lang } from '../i18n.ts';
import { buildClasses, classIndex, classLabels, countByClass, type Method } from './classify.ts';
import { countNoun, dash, nameColumns, noDataEntry, parentOutline, subtitle, tableRow } from './common.ts';
import type { ViewResult } from './types.ts';

export interface AccessInput {
  level: Level;
  rows: readonly AccessRow[];
  method: Method;
  lang: Lang;
}

export function buildAccess(input: AccessInput): ViewResult {
  const { level, lang } = input;
  const rows = new Map(input.rows.map((row) => [row.code, row]));
  const values = input.rows.map((row) => row.distance_m);
  const classes = buildClasses(values, { unit: 'metres', method: input.method, ramp: DISTANCE });
  const labels = classLabels(classes, lang);
  const counts = countByClass(classes, values);
  const colors = new Map<string, Rgb>();
  const classOf = new Map<string, string>();
  for (const row of input.rows) {
    const index = classIndex(classes, row.distance_m);
    if (index < 0) continue;
    colors.set(row.code, classes.colors[index]!);
    classOf.set(row.code, String(index));
  }
  const distance = (row: AccessRow | undefined) => (row && row.distance_m !== null ? formatDistance(row.distance_m, lang) : t('noData', lang));
  const share = (value: number | null) => (value === null ? dash : formatPercent(value, lang));
  return {
    view: 'access',
    level,
    colors,
    classOf,
    legend: {
      title: t('distanceTitle', lang),
      subtitle: subtitle([], input.rows.length, level, lang),
      layout: 'classes',
      entries: classes.breaks.map((_, i) => ({ key: String(i), color: classes.colors[i]!, label: labels[i] ?? '', count: counts.counts[i] ?? 0 })),
      noData: noDataEntry(counts.noData, lang),
      countNoun: countNoun(level, lang),
      outlines: parentOutline(level, lang),
    },
    table: {
      caption: t('distanceTitle', lang),
      columns: [
        ...nameColumns(lang),
        { key: 'distance_m', label: t('distanceTitle', lang), numeric: true },
        { key: 'beyond10', label: t('beyond10km', lang), numeric: true },
        { key: 'nearest', label: t('nearestPlace', lang), numeric: false },
        { key: 'class', label: t('class', lang), numeric: false },
      ],
      rows: input.rows.map((row) => {
        const index = classIndex(classes, row.distance_m);
        return tableRow(row.code, row.name, {
          distance_m: [row.distance_m, () => distance(row)],
          beyond10: [row.share_population_beyond_10km, () => share(row.share_population_beyond_10km)],
          nearest: [row.nearest_place ?? null, () => row.nearest_place ?? dash],
          class: [index, () => index < 0 ? t('noData', lang) : (labels[index] ?? '')],
        });
      }),
    },
    tooltip(code, name) {
      const row = rows.get(code);
      if (!row) return name ? { code, name, value: t('noData', lang), lines: [] } : null;
      const lines = [];
      if (row.nearest_place) lines.push({ className: 'tooltip-place', text: `${t('nearestPlace', lang)} : ${row.nearest_place}` });
      if (row.share_population_beyond_10km !== null) lines.push({ className: 'tooltip-beyond', text: `${t('beyond10km', lang)} : ${share(row.share_population_beyond_10km)}` });
      return { code, name: row.name, value: distance(row), lines };
    },
  };
}
