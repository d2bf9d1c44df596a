/** Vector tile layers, zoom range and the zoom bands of the generalised outlines. */

/** Tile extent and buffer, in tile units (the MVT defaults every client expects). */
export const EXTENT = 4096;
export const BUFFER = 64;

/** Zoom range served. Past MAX_ZOOM clients over-zoom (TileJSON maxzoom); deeper requests are refused. */
export const MIN_ZOOM = 0;
export const MAX_ZOOM = 14;

/** Web Mercator world width in metres (EPSG:3857). */
const WORLD_METRES = 2 * Math.PI * 6378137;

/**
 * Zoom bands: one generalised outline per territory and band, simplified at the resolution of the band's
 * deepest zoom, so it is never visibly coarse inside the band. Two zooms a band: the tolerance halves at each
 * zoom, so the shallower zoom of a band reads at most twice the vertices it needs.
 */
export const ZOOM_BANDS: readonly { minzoom: number; maxzoom: number }[] = [
  { minzoom: 0, maxzoom: 4 },
  { minzoom: 5, maxzoom: 6 },
  { minzoom: 7, maxzoom: 8 },
  { minzoom: 9, maxzoom: 10 },
  { minzoom: 11, maxzoom: 12 },
  { minzoom: 13, maxzoom: MAX_ZOOM },
];

/** Band index of a zoom level. */
export function bandOf(z: number): number {
  const band = ZOOM_BANDS.findIndex((b) => z >= b.minzoom && z <= b.maxzoom);
  return band === -1 ? ZOOM_BANDS.length - 1 : band;
}

/**
 * Simplification tolerance of a band in metres (EPSG:3857): one pixel of a 512-pixel tile (MapLibre's
 * default vector tile size) at the band's deepest zoom — 1.2 km at z6, 4.8 m at z14.
 */
export function bandTolerance(band: number): number {
  return WORLD_METRES / (512 * 2 ** ZOOM_BANDS[band]!.maxzoom);
}

/** The point layer; every other layer is a level of the territorial hierarchy. */
export const PLACES_LAYER = 'places';
