/**
 * The planners' map's first API requests, sent by its small entry (boot.ts) while the map's code (MapLibre and
 * the app, ~1 MB) still downloads and parses: the catalogue and the tiles' descriptions, which the map cannot be
 * created without. The view's rows are asked for later (main.ts, after the first tiles): the embedded database
 * runs in the server's own thread, and a national query made first would hold up the code and the tiles.
 */
import { fetchIndicators, fetchMeta, fetchTileJsons, type Indicator, type Level, type Meta, type TileJson } from './api.ts';

export const DEFAULT_INDICATOR = 'fibre_coverage';

export interface Early {
  meta: Promise<Meta>;
  indicators: Promise<Indicator[]>;
  /** null: the page forces the GeoJSON fallback (`?geometry=geojson`), or the server has no tiles. */
  tiles: Promise<Map<Level, TileJson> | null>;
  geometry: 'auto' | 'tiles' | 'geojson';
}

let early: Early | null = null;

function send(): Early {
  const search = window.location.search;
  // ?geometry=geojson forces the GeoJSON path even when the server has tiles (the benchmark compares both)
  const asked = new URLSearchParams(search).get('geometry');
  const geometry = asked === 'geojson' || asked === 'tiles' ? asked : 'auto';
  const sent: Early = {
    meta: fetchMeta(),
    indicators: fetchIndicators(),
    tiles: geometry === 'geojson' ? Promise.resolve(null) : fetchTileJsons(),
    geometry,
  };
  // awaited by the app; not "unhandled" meanwhile
  for (const promise of [sent.meta, sent.indicators, sent.tiles]) promise.catch(() => undefined);
  return sent;
}

/** The early requests (sent now if the entry did not). */
export function earlyRequests(): Early {
  early ??= send();
  return early;
}
