/**
 * The embed's API requests, sent as soon as the page's small entry runs, while the map's code (MapLibre, about
 * 1 MB) still downloads: the catalogue and, when the level drawn is already known (the server resolved it),
 * the view's data. The view's requests are views/requests.ts's, the planners' map's own (same URLs, same
 * ViewData for `buildView`); like api.ts it imports nothing heavy, so the entry does not wait for MapLibre.
 */
import type { FeatureCollection } from 'geojson';
import { getJson, type Indicator, type Level, type Meta } from '../api.ts';
import { drawnLayers, geometriesUrl, loadViewData, type ViewData } from '../views/requests.ts';
import type { EmbedConfig } from './config.ts';

export interface Prefetched {
  meta: Promise<Meta>;
  indicators: Promise<Indicator[]>;
  /** The view's data, or null when the level depends on the map's zoom (no `within` territory, no `level`). */
  data: Promise<ViewData> | null;
  /**
   * The outlines of the levels drawn, when the page draws them from GeoJSON (a `within` territory: a few dozen
   * outlines), by level; empty otherwise (vector tiles, asked for by the map).
   */
  geometries: Map<Level, Promise<FeatureCollection>>;
}

function viewData(config: EmbedConfig): Promise<ViewData> | null {
  if (!config.fill) return null;
  const within = config.within ? `${config.within.level}:${config.within.code}` : null;
  // the access view has no indicator (its requests name none)
  return loadViewData({ view: config.view, level: config.fill, indicator: config.indicator ?? '', usage: config.usage, vintage: config.vintage, within }, getJson);
}

function geometries(config: EmbedConfig): Map<Level, Promise<FeatureCollection>> {
  const sent = new Map<Level, Promise<FeatureCollection>>();
  if (!config.within || !config.fill) return sent;
  const within = `${config.within.level}:${config.within.code}`;
  const { level, outline, flags } = drawnLayers(config.view, config.fill);
  for (const drawn of [level, outline, flags]) if (drawn && !sent.has(drawn)) sent.set(drawn, getJson<FeatureCollection>(geometriesUrl(drawn, within)));
  return sent;
}

/** Sends the requests; each promise is awaited by the page (a failure is shown there). */
export function prefetch(config: EmbedConfig): Prefetched {
  // in the order the page needs them (the embedded database answers one query at a time): the catalogue (the
  // map waits for /api/meta), the outlines (MapLibre's worker tiles them), then the view's rows
  const meta = getJson<Meta>('/api/meta');
  const indicators = getJson<Indicator[]>('/api/indicators');
  const outlines = geometries(config);
  const sent: Prefetched = { meta, indicators, geometries: outlines, data: viewData(config) };
  // handled when the page awaits them; not "unhandled" meanwhile
  for (const promise of [sent.meta, sent.indicators, sent.data, ...sent.geometries.values()]) promise?.catch(() => {});
  return sent;
}
