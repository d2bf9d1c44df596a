/**
 * The API requests of a view, in one place: the planners' map (views/load.ts, cached) and the embed's early
 * requests (embed/prefetch.ts, sent before the map's code has loaded) both build them here, so that they ask
 * for the same URLs and assemble the same ViewData. Pure: URLs and a loader given the fetch to use; no import
 * at run time, so that the embed's small entry can take it without pulling in the map's code.
 */
import type { Access, Bivariate, Level, Multispeed, Stats } from '../api.ts';
import type { ViewId } from './types.ts';

export type ViewData =
  | { view: 'choropleth' | 'clusters'; stats: Stats }
  | { view: 'bivariate' | 'typology' | 'gap'; stats: Stats; bivariate: Bivariate }
  | { view: 'multispeed'; stats: Stats; multispeed: Multispeed }
  | { view: 'access'; access: Access };

/** What a view's requests depend on (ids, not catalogue entries: the embed knows only ids at first). */
export interface ViewRequestSpec {
  view: ViewId;
  level: string;
  indicator: string;
  /** The usage axis of the bivariate, typology and gap views. */
  usage: string | null;
  /** null: the server's latest. */
  vintage: string | null;
  /** `epci:XE01`: the territories sharing communes with it. */
  within?: string | null;
}

/**
 * The stats row fields each view reads (`fields=`): a national answer with every field weighs ~12 MB of JSON,
 * three times what a map needs. Names for the bivariate views (the values are in /api/bivariate).
 */
const VALUE_FIELDS = ['name', 'value', 'numerator', 'denominator', 'communes', 'communes_expected', 'partial'];
export const STATS_FIELDS: Record<Exclude<ViewId, 'access'>, readonly string[]> = {
  choropleth: VALUE_FIELDS,
  multispeed: VALUE_FIELDS,
  clusters: [...VALUE_FIELDS, 'lisa_i', 'lisa_p', 'lisa_class'],
  bivariate: ['name'],
  typology: ['name'],
  gap: ['name'],
};
/** The member communes' spread beside the multi-speed ranking. */
export const SPREAD_FIELDS = ['name', 'value'] as const;

export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface StatsQuery {
  level: string;
  indicator: string;
  vintage?: string | null;
  within?: string | null;
  /** Row fields to ask for (code always comes); every field when absent. */
  fields?: readonly string[] | null;
}

export const statsUrl = (q: StatsQuery) =>
  `/api/stats/${encodeURIComponent(q.level)}${query({ indicator: q.indicator, vintage: q.vintage, within: q.within, fields: q.fields?.join(',') })}`;
export const bivariateUrl = (level: string, x: string, y: string, vintage: string | null, within?: string | null) =>
  `/api/bivariate/${encodeURIComponent(level)}${query({ x, y, vintage, within })}`;
export const multispeedUrl = (level: string, indicator: string, vintage: string | null, within?: string | null) =>
  `/api/multispeed${query({ level, indicator, vintage, within })}`;
export const accessUrl = (level: string, within?: string | null) => `/api/access/${encodeURIComponent(level)}${query({ within })}`;

export const geometriesUrl = (level: string, within?: string | null) => `/api/geometries/${encodeURIComponent(level)}${query({ within })}`;

/** The level whose outlines are drawn over a level's fills (null above the région). */
export function parentLevel(level: Level): Level | null {
  if (level === 'commune') return 'epci';
  if (level === 'epci') return 'departement';
  if (level === 'departement') return 'region';
  return null;
}

/**
 * What the map draws for a view at a level: the level's fills, the outlines of the level above (the legend's
 * outline rows, views/common.ts parentOutline, name the same level), and the multi-speed flags. The planners'
 * map and the embed both draw this (and the embed fetches the outlines of these levels early), so that a legend
 * never lists an outline that is not drawn.
 */
export function drawnLayers(view: ViewId, level: Level): { level: Level; outline: Level | null; flags: Level | null } {
  return { level, outline: parentLevel(level), flags: view === 'multispeed' ? 'epci' : null };
}

/** GETs a JSON answer (with or without a cache, as the caller chooses). */
export type GetJson = <T>(url: string) => Promise<T>;

/** Sends the requests of a view (in parallel) and assembles their answers. */
export async function loadViewData(spec: ViewRequestSpec, get: GetJson): Promise<ViewData> {
  const { view, level, indicator, vintage } = spec;
  const within = spec.within ?? null;
  switch (view) {
    case 'choropleth':
    case 'clusters':
      return { view, stats: await get<Stats>(statsUrl({ level, indicator, vintage, within, fields: STATS_FIELDS[view] })) };
    case 'bivariate':
    case 'typology':
    case 'gap': {
      if (!spec.usage) throw new Error('no usage indicator to compare coverage with');
      const [stats, bivariate] = await Promise.all([
        get<Stats>(statsUrl({ level, indicator, vintage, within, fields: STATS_FIELDS[view] })),
        get<Bivariate>(bivariateUrl(level, indicator, spec.usage, vintage, within)),
      ]);
      return { view, stats, bivariate };
    }
    case 'multispeed': {
      // communes coloured, EPCI ranked: the ranking is national (the list beside the map), whatever `within`
      const [stats, multispeed] = await Promise.all([
        get<Stats>(statsUrl({ level: 'commune', indicator, vintage, within, fields: STATS_FIELDS[view] })),
        get<Multispeed>(multispeedUrl('epci', indicator, vintage)),
      ]);
      return { view, stats, multispeed };
    }
    case 'access':
      return { view, access: await get<Access>(accessUrl(level, within)) };
  }
}
