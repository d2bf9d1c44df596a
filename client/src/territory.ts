/**
 * Everything about one territory, for the side panel and the fact sheet: GET /api/territories/{level}/{code}
 * (names, parents, members, every indicator over every vintage with its rank, sources). When a server has no
 * such route yet, the same shape is composed from /api/stats (no ranks then). No DOM.
 */
import { ApiError, LEVELS, fetchStats, getJson, getJsonOrNull, type Bbox, type Indicator, type Level } from './api.ts';
import type { Localized } from './i18n.ts';

export interface TerritoryValue {
  vintage: string;
  value: number | null;
  display_value?: number | null;
  numerator: number | null;
  denominator: number | null;
  communes: number;
  communes_expected: number;
  partial: boolean;
  source_ids?: number[];
}

export interface Ranked {
  rank: number;
  of: number;
}

export interface TerritoryIndicator {
  id: string;
  label: Localized;
  theme: string;
  unit: Indicator['unit'];
  higher_is_better: boolean;
  synthetic?: boolean;
  latest_vintage: string | null;
  values: TerritoryValue[];
  rank: { vintage: string; national: Ranked; parent: (Ranked & { level: string; code: string; name: string }) | null } | null;
}

export interface TerritorySource {
  id: number;
  kind?: string;
  name: string;
  publisher: string | null;
  licence: string | null;
  vintage: string | null;
  url?: string | null;
  synthetic?: boolean;
}

export interface TerritoryProfile {
  level: Level;
  level_label?: Localized;
  code: string;
  name: string;
  population: number | null;
  population_vintage?: string | null;
  synthetic?: boolean;
  bbox: Bbox | null;
  parents: { level: string; code: string; name: string }[];
  members: { count: number; communes: { code: string; name: string; population?: number | null }[] } | null;
  neighbours: { code: string; name: string }[];
  indicators: TerritoryIndicator[];
  disparity?: { indicator: string; vintage: string; gini: number | null; share_population_below: number | null; multispeed: boolean }[];
  lisa?: { indicator: string; vintage: string; lisa_i: number | null; lisa_p: number | null; lisa_class: string | null }[];
  access?: { distance_m: number | null; nearest_place: string | null; share_population_beyond_10km?: number | null } | null;
  sources: TerritorySource[];
  /** True when composed from /api/stats (the server has no /api/territories). */
  composed?: boolean;
}

export async function fetchTerritory(level: Level, code: string, indicators: readonly Indicator[]): Promise<TerritoryProfile> {
  const profile = await getJsonOrNull<TerritoryProfile>(`/api/territories/${encodeURIComponent(level)}/${encodeURIComponent(code)}`);
  if (profile) return profile;
  return composeTerritory(level, code, indicators);
}

/** The value of an indicator at a vintage (null when absent). */
export function valueAt(indicator: TerritoryIndicator | undefined, vintage: string | null | undefined): TerritoryValue | null {
  if (!indicator) return null;
  return indicator.values.find((v) => v.vintage === vintage) ?? null;
}

/** Fallback: one /api/stats request per indicator and vintage, `within=` the territory itself (it shares its communes). */
async function composeTerritory(level: Level, code: string, indicators: readonly Indicator[]): Promise<TerritoryProfile> {
  const within = `${level}:${code}`;
  let name: string | null = null;
  const blocks: TerritoryIndicator[] = await Promise.all(
    indicators.map(async (indicator) => {
      const values = await Promise.all(
        indicator.vintages.map(async (vintage) => {
          const stats = await fetchStats({ level, indicator: indicator.id, vintage, within });
          const row = stats.rows.find((r) => r.code === code);
          if (row) name ??= row.name;
          return row ? { vintage, value: row.value, numerator: row.numerator, denominator: row.denominator, communes: row.communes, communes_expected: row.communes_expected, partial: row.partial } : null;
        }),
      );
      return {
        id: indicator.id,
        label: indicator.label,
        theme: indicator.theme,
        unit: indicator.unit,
        higher_is_better: indicator.higher_is_better,
        latest_vintage: indicator.vintages.at(-1) ?? null,
        values: values.filter((v): v is TerritoryValue => v !== null),
        rank: null,
      };
    }),
  );
  if (!name) throw new ApiError(404, `/api/territories/${level}/${code}`, `no ${level} with code "${code}"`);
  const first = indicators[0];
  const coarser = LEVELS.slice(LEVELS.indexOf(level) + 1);
  const parents = first
    ? (await Promise.all(coarser.map((l) => fetchStats({ level: l, indicator: first.id, within }).then((s) => s.rows.map((r) => ({ level: l, code: r.code, name: r.name })))))).flat()
    : [];
  const members = level !== 'commune' && first ? (await fetchStats({ level: 'commune', indicator: first.id, within })).rows.map((r) => ({ code: r.code, name: r.name })) : null;
  const sources = await getJson<TerritorySource[]>('/api/sources').catch(() => []);
  return {
    level,
    code,
    name,
    population: null,
    bbox: null,
    parents,
    members: members ? { count: members.length, communes: members } : null,
    neighbours: [],
    indicators: blocks.filter((b) => b.values.length > 0),
    sources,
    composed: true,
  };
}
