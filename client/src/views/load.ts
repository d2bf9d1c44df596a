/**
 * Fetches what a view needs from the API and builds it. Fetching is kept apart from building so that a
 * language switch or a new classification rebuilds from the same JSON (no network), and the embed reuses both.
 */
import { getJson, type Indicator, type Level } from '../api.ts';
import type { Lang } from '../i18n.ts';
import { buildAccess } from './access.ts';
import { buildBivariate, buildGap, buildTypology } from './bivariate.ts';
import { buildChoropleth } from './choropleth.ts';
import type { Method } from './classify.ts';
import { buildClusters } from './clusters.ts';
import { buildMultispeed } from './multispeed.ts';
import { STATS_FIELDS, loadViewData, statsUrl, type ViewData, type ViewRequestSpec } from './requests.ts';
import type { ViewId, ViewResult } from './types.ts';

export type { ViewData } from './requests.ts';

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

/** Small cache of API answers by URL: switching back and forth (or replaying the slider) is free. */
const cache = new Map<string, Promise<unknown>>();
/** National rows weigh 4–5 MB of JSON each (fields= trimmed): a dozen answers (a year of quarters and back). */
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

/**
 * Answers asked for before the catalogue was known, without a vintage (the server's latest), by their URL: a
 * request for the same URL with a vintage takes the early answer when it is of that vintage.
 */
const latestPrefetch = new Map<string, Promise<{ vintage?: string }>>();

const withoutVintage = (url: string) => {
  const [path, search = ''] = url.split('?');
  const params = new URLSearchParams(search);
  const vintage = params.get('vintage');
  params.delete('vintage');
  return { key: `${path}?${params}`, vintage };
};

/** GET through the cache (and the early answers). */
function cachedJson<T>(url: string): Promise<T> {
  return cached(url, async () => {
    const { key, vintage } = withoutVintage(url);
    const early = vintage ? latestPrefetch.get(key) : undefined;
    if (early) {
      latestPrefetch.delete(key);
      const answer = await early.catch(() => null);
      if (answer?.vintage === vintage) return answer as T;
    }
    return getJson<T>(url);
  });
}

/** What a view asks the API for, by ids. */
export const requestSpec = (request: ViewRequest): ViewRequestSpec => ({
  view: request.view,
  level: request.level,
  indicator: request.indicator.id,
  usage: request.usage?.id ?? null,
  vintage: request.vintage,
  within: request.within ?? null,
});

/**
 * Starts loading the rows a view will need before the map is ready (the largest download of a first render runs
 * meanwhile). Without a vintage the server answers the latest, which is what the view picks by default.
 */
export function prefetchStats(view: Exclude<ViewId, 'access'>, level: string, indicator: string, vintage: string | null): void {
  const url = statsUrl({ level, indicator, vintage, fields: STATS_FIELDS[view] });
  const { key } = withoutVintage(url);
  if (vintage) void cachedJson(url).catch(() => undefined);
  else if (!latestPrefetch.has(key)) latestPrefetch.set(key, getJson<{ vintage?: string }>(url));
}

export function fetchViewData(request: ViewRequest): Promise<ViewData> {
  return loadViewData(requestSpec(request), cachedJson);
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
