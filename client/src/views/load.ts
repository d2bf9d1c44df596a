/**
 * Fetches what a view needs from the API and builds it. Fetching is kept apart from building so that a
 * language switch or a new classification rebuilds from the same JSON (no network), and the embed reuses both.
 */
import {
  fetchAccess,
  fetchBivariate,
  fetchMultispeed,
  fetchStats,
  type Access,
  type Bivariate,
  type Indicator,
  type Level,
  type Multispeed,
  type Stats,
} from '../api.ts';
import type { Lang } from '../i18n.ts';
import { buildAccess } from './access.ts';
import { buildBivariate, buildGap, buildTypology } from './bivariate.ts';
import { buildChoropleth } from './choropleth.ts';
import type { Method } from './classify.ts';
import { buildClusters } from './clusters.ts';
import { buildMultispeed } from './multispeed.ts';
import type { ViewId, ViewResult } from './types.ts';

export interface ViewRequest {
  view: ViewId;
  level: Level;
  indicator: Indicator;
  /** The usage axis of the bivariate, typology and gap views. */
  usage: Indicator | null;
  /** A vintage of `indicator` (resolved by resolveVintage). */
  vintage: string;
  method: Method;
  /** Restrict to the territories sharing communes with this one (`epci:XE01`), as the embed does. */
  within?: string | null;
}

export type ViewData =
  | { view: 'choropleth' | 'clusters'; stats: Stats }
  | { view: 'bivariate' | 'typology' | 'gap'; stats: Stats; bivariate: Bivariate }
  | { view: 'multispeed'; stats: Stats; multispeed: Multispeed }
  | { view: 'access'; access: Access };

/** The latest vintage when the one asked for is not one of the indicator's. */
export function resolveVintage(indicator: Indicator, vintage: string | null | undefined): string {
  if (vintage && indicator.vintages.includes(vintage)) return vintage;
  const latest = indicator.vintages.at(-1);
  if (!latest) throw new Error(`indicator ${indicator.id} has no vintage`);
  return latest;
}

/** Coverage indicators (x of the bivariate views) and usage indicators (y): by theme. */
export const isCoverage = (indicator: Indicator) => indicator.theme === 'infrastructure';

export function defaultUsage(indicators: readonly Indicator[]): Indicator | null {
  return indicators.find((i) => !isCoverage(i) && i.unit === 'ratio') ?? indicators.find((i) => !isCoverage(i)) ?? null;
}

/** Small cache of API answers by URL-like key: switching back and forth (or replaying the slider) is free. */
const cache = new Map<string, Promise<unknown>>();
/** National rows weigh ~12 MB of JSON each: a dozen answers (a year of quarters and back) is the budget. */
const CACHE_SIZE = 12;

function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit as Promise<T>;
  }
  const promise = load();
  cache.set(key, promise);
  promise.catch(() => cache.delete(key));
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return promise;
}

export function clearViewCache(): void {
  cache.clear();
}

/** Rows asked for before the catalogue was known (prefetchStats without a vintage: the latest), by level/indicator. */
const latestPrefetch = new Map<string, Promise<Stats>>();

const statsOf = (level: string, indicator: string, vintage: string, within?: string | null) =>
  cached(`stats/${level}/${indicator}/${vintage}/${within ?? ''}`, async () => {
    const early = within ? undefined : latestPrefetch.get(`${level}/${indicator}`);
    if (early) {
      latestPrefetch.delete(`${level}/${indicator}`);
      const stats = await early.catch(() => null);
      if (stats?.vintage === vintage) return stats;
    }
    return fetchStats({ level, indicator, vintage, within });
  });

/**
 * Starts loading the rows a view will need before the map is ready (the largest download of a first render runs
 * meanwhile). Without a vintage the server answers the latest, which is what the view picks by default.
 */
export function prefetchStats(level: string, indicator: string, vintage: string | null): void {
  if (vintage) void statsOf(level, indicator, vintage).catch(() => undefined);
  else if (!latestPrefetch.has(`${level}/${indicator}`)) latestPrefetch.set(`${level}/${indicator}`, fetchStats({ level, indicator }));
}

export async function fetchViewData(request: ViewRequest): Promise<ViewData> {
  const { view, level, indicator, vintage, within } = request;
  switch (view) {
    case 'choropleth':
    case 'clusters':
      return { view, stats: await statsOf(level, indicator.id, vintage, within) };
    case 'bivariate':
    case 'typology':
    case 'gap': {
      const usage = request.usage;
      if (!usage) throw new Error('no usage indicator to compare coverage with');
      const [stats, bivariate] = await Promise.all([
        statsOf(level, indicator.id, vintage, within),
        cached(`bivariate/${level}/${indicator.id}/${usage.id}/${vintage}/${within ?? ''}`, () => fetchBivariate(level, indicator.id, usage.id, vintage, within)),
      ]);
      return { view, stats, bivariate };
    }
    case 'multispeed': {
      const [stats, multispeed] = await Promise.all([
        statsOf('commune', indicator.id, vintage, within),
        cached(`multispeed/epci/${indicator.id}/${vintage}`, () => fetchMultispeed('epci', indicator.id, vintage)),
      ]);
      return { view, stats, multispeed };
    }
    case 'access':
      return { view, access: await cached(`access/${level}/${within ?? ''}`, () => fetchAccess(level, within)) };
  }
}

export function buildView(data: ViewData, request: ViewRequest, lang: Lang): ViewResult {
  const { level, indicator, vintage, method } = request;
  switch (data.view) {
    case 'choropleth':
      return buildChoropleth({ indicator, level, vintage: data.stats.vintage, rows: data.stats.rows, method, lang });
    case 'clusters':
      return buildClusters({ indicator, level, vintage: data.stats.vintage, rows: data.stats.rows, lang });
    case 'multispeed':
      return buildMultispeed({ indicator, vintage: data.stats.vintage, communes: data.stats.rows, epcis: data.multispeed.rows, method, lang });
    case 'access':
      return buildAccess({ level, rows: data.access.rows, method, lang });
    case 'bivariate':
    case 'typology':
    case 'gap': {
      const input = {
        x: indicator,
        y: request.usage!,
        level,
        vintage,
        rows: data.bivariate.rows,
        territories: new Map(data.stats.rows.map((row) => [row.code, row.name])),
        lang,
      };
      if (data.view === 'bivariate') return buildBivariate(input);
      if (data.view === 'typology') return buildTypology(input);
      return buildGap({ ...input, method });
    }
  }
}

export async function loadView(request: ViewRequest, lang: Lang): Promise<{ data: ViewData; result: ViewResult }> {
  const data = await fetchViewData(request);
  return { data, result: buildView(data, request, lang) };
}
