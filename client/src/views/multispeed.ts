/**
 * Multi-speed intercommunalities: communes coloured by the indicator (so the spread shows), EPCI flagged by
 * /api/multispeed outlined in magenta, and the ranking (the view's table and the list beside the map).
 */
import type { Indicator, MultispeedRow, StatsRow } from '../api.ts';
import { MULTISPEED_OUTLINE_COLOR, MULTISPEED_OUTLINE_WIDTH_PX } from '../colors.ts';
import { formatDecimal, formatInteger, formatPercent, formatValue, localized, t, vintageLabel, type Lang } from '../i18n.ts';
import { buildChoropleth } from './choropleth.ts';
import type { Method } from './classify.ts';
import { dash, nameColumns, tableRow } from './common.ts';
import type { TableModel, ViewResult } from './types.ts';

export interface MultispeedInput {
  indicator: Indicator;
  vintage: string;
  communes: readonly StatsRow[];
  epcis: readonly MultispeedRow[];
  method: Method;
  lang: Lang;
}

/** Ranking order: rank 1 first, unranked (partial) last, then by code. */
export function ranking(rows: readonly MultispeedRow[]): MultispeedRow[] {
  return [...rows].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.code.localeCompare(b.code));
}

export function rankingTable(input: Pick<MultispeedInput, 'indicator' | 'vintage' | 'epcis' | 'lang'>): TableModel {
  const { lang, indicator } = input;
  const num = (value: number | null, digits: number) => (value === null ? dash : formatDecimal(value, digits, lang));
  return {
    caption: `${t('ranking', lang)} — ${localized(indicator.label, lang)} — ${vintageLabel(input.vintage, lang)}`,
    columns: [
      { key: 'rank', label: '#', numeric: true },
      ...nameColumns(lang),
      { key: 'value', label: t('value', lang), numeric: true },
      { key: 'gini', label: t('gini', lang), numeric: true },
      { key: 'share_below', label: t('shareBelow', lang), numeric: true },
      { key: 'multispeed', label: t('multispeedFlag', lang), numeric: false },
    ],
    rows: ranking(input.epcis).map((row) =>
      tableRow(row.code, row.name, {
        rank: [row.rank, () => row.rank === null ? dash : formatInteger(row.rank, lang)],
        value: [row.value, () => row.value === null ? dash : formatValue(row.value, indicator.unit, lang)],
        gini: [row.gini, () => num(row.gini, 2)],
        share_below: [row.share_population_below, () => row.share_population_below === null ? dash : formatPercent(row.share_population_below, lang)],
        multispeed: [row.multispeed ? 1 : 0, () => row.multispeed ? '✓' : ''],
      }),
    ),
  };
}

export function buildMultispeed(input: MultispeedInput): ViewResult {
  const { lang } = input;
  const base = buildChoropleth({ indicator: input.indicator, level: 'commune', vintage: input.vintage, rows: input.communes, method: input.method, lang });
  const flagged = new Set(input.epcis.filter((row) => row.multispeed).map((row) => row.code));
  return {
    ...base,
    view: 'multispeed',
    legend: {
      ...base.legend,
      outlines: [
        ...base.legend.outlines,
        { key: 'multispeed', color: MULTISPEED_OUTLINE_COLOR, label: `${t('multispeedOutline', lang)} (${formatInteger(flagged.size, lang)})`, widthPx: MULTISPEED_OUTLINE_WIDTH_PX },
      ],
    },
    table: rankingTable(input),
    flagged: { level: 'epci', codes: flagged },
  };
}
