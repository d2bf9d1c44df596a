/**
 * The embed's API requests, sent as soon as the page's small entry runs, while the map's code (MapLibre, about
 * 1 MB) still downloads: the catalogue and, when the level drawn is already known (the server resolved it),
 * the view's data. Self-contained on purpose (fetch, no import at run time): anything the planners' map shares
 * would be bundled with MapLibre and make the entry wait for it.
 *
 * The view's requests are those of views/load.ts `fetchViewData`, whose answers `buildView` takes as they are.
 */
import type { Indicator, Meta } from '../api.ts';
import type { ViewData } from '../views/load.ts';
import type { EmbedConfig } from './config.ts';

export interface Prefetched {
  meta: Promise<Meta>;
  indicators: Promise<Indicator[]>;
  /** The view's data, or null when the level depends on the map's zoom (no `within` territory, no `level`). */
  data: Promise<ViewData> | null;
}

/** GET a JSON answer of terrinum's API, without credentials; a problem's detail becomes the error's message. */
async function getJson<T>(path: string, params: Record<string, string | null> = {}): Promise<T> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const query = search.toString();
  const url = query ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'omit' });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { detail?: string } | null;
    throw new Error(`${url}: ${response.status} ${problem?.detail ?? response.statusText}`);
  }
  return (await response.json()) as T;
}

function viewData(config: EmbedConfig): Promise<ViewData> | null {
  const { view, fill: level, indicator, usage, vintage } = config;
  if (!level) return null;
  const within = config.within ? `${config.within.level}:${config.within.code}` : null;
  const stats = (statsLevel: string) => getJson<Extract<ViewData, { view: 'choropleth' }>['stats']>(`/api/stats/${statsLevel}`, { indicator, vintage, within });
  switch (view) {
    case 'choropleth':
    case 'clusters':
      return stats(level).then((answer) => ({ view, stats: answer }));
    case 'bivariate':
    case 'typology':
    case 'gap':
      return Promise.all([stats(level), getJson<Extract<ViewData, { view: 'bivariate' }>['bivariate']>(`/api/bivariate/${level}`, { x: indicator, y: usage, vintage, within })]).then(
        ([answer, bivariate]) => ({ view, stats: answer, bivariate }),
      );
    case 'multispeed':
      return Promise.all([stats('commune'), getJson<Extract<ViewData, { view: 'multispeed' }>['multispeed']>('/api/multispeed', { level: 'epci', indicator, vintage })]).then(
        ([answer, multispeed]) => ({ view, stats: answer, multispeed }),
      );
    case 'access':
      return getJson<Extract<ViewData, { view: 'access' }>['access']>(`/api/access/${level}`, { within }).then((access) => ({ view, access }));
  }
}

/** Sends the requests; each promise is awaited by the page (a failure is shown there). */
export function prefetch(config: EmbedConfig): Prefetched {
  const sent: Prefetched = { meta: getJson<Meta>('/api/meta'), indicators: getJson<Indicator[]>('/api/indicators'), data: viewData(config) };
  // handled when the page awaits them; not "unhandled" meanwhile
  for (const promise of [sent.meta, sent.indicators, sent.data]) promise?.catch(() => {});
  return sent;
}
