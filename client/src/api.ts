/**
 * The server's HTTP API, as the map and the embed use it. Shapes mirror the server's responses (issue 5's
 * stable field names). No DOM: fetch only.
 */
import type { FeatureCollection, MultiPolygon, Point, Polygon } from 'geojson';
import type { Localized, Unit } from './i18n.ts';
import { accessUrl, bivariateUrl, geometriesUrl, multispeedUrl, query, statsUrl, type StatsQuery } from './views/requests.ts';
import type { BivariateRow } from '../../server/analysis/bivariate.ts';

export type Bbox = [minLon: number, minLat: number, maxLon: number, maxLat: number];
export type Level = 'commune' | 'epci' | 'departement' | 'region';
export const LEVELS: readonly Level[] = ['commune', 'epci', 'departement', 'region'];

export interface Meta {
  name: string;
  synthetic: boolean;
  attribution: string[];
  bbox: Bbox | null;
  basemapStyle: string | null;
  levels: { id: string; label: Localized }[];
}

export interface Indicator {
  id: string;
  label: Localized;
  theme: string;
  theme_label: Localized;
  unit: Unit;
  higher_is_better: boolean;
  description?: Localized;
  publisher?: string | null;
  licence?: string | null;
  synthetic?: boolean;
  /** Oldest first. */
  vintages: string[];
}

export interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  display_value?: number | null;
  numerator: number | null;
  denominator: number | null;
  communes: number;
  communes_expected: number;
  partial: boolean;
  vintage?: string;
  trend_per_quarter?: number | null;
  projected_full?: string | null;
  lisa_i?: number | null;
  lisa_p?: number | null;
  lisa_class?: string | null;
}

export interface Stats {
  level: string;
  indicator: string;
  vintage: string;
  synthetic: boolean;
  total?: number;
  rows: StatsRow[];
}

// the row shape the server writes (type only: erased from the bundle)
export type { BivariateRow };

export interface Bivariate {
  level: string;
  x: string;
  y: string;
  vintage: string;
  rows: BivariateRow[];
}

export interface MultispeedRow {
  code: string;
  name: string;
  value: number | null;
  gini: number | null;
  theil: number | null;
  cv: number | null;
  interdecile_ratio: number | null;
  share_population_below: number | null;
  threshold_points?: number | null;
  multispeed: boolean;
  rank: number | null;
  partial: boolean;
  communes?: number;
  communes_expected?: number;
}

export interface Multispeed {
  level: string;
  indicator: string;
  vintage: string;
  rule?: { minSharePopulationBelow: number; minGini: number };
  rows: MultispeedRow[];
}

export interface AccessRow {
  code: string;
  name: string;
  distance_m: number | null;
  share_population_beyond_10km: number | null;
  share_population_beyond_20km: number | null;
  nearest_place?: string | null;
}

export interface Access {
  level: string;
  rows: AccessRow[];
}

export interface TerritoryProperties {
  code: string;
  name: string;
}

export type Territories = FeatureCollection<Polygon | MultiPolygon, TerritoryProperties>;

export interface PlaceProperties {
  name: string;
  kind?: string;
}
export type Places = FeatureCollection<Point, PlaceProperties>;

export interface SearchHit {
  level: Level;
  code: string;
  name: string;
  /** Parent shown beside the name (département of a commune…), when the server gives one. */
  context?: string | null;
  postal_codes?: string[];
  bbox?: Bbox | null;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = (await response.json()) as { detail?: string; error?: { message?: string }; message?: string };
      detail = body.detail ?? body.error?.message ?? body.message ?? detail;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, url, `${url}: ${response.status} ${detail}`);
  }
  return (await response.json()) as T;
}

/** The JSON, or null when the server answers 404 (a route not deployed yet: the caller falls back). */
export async function getJsonOrNull<T>(url: string, signal?: AbortSignal): Promise<T | null> {
  try {
    return await getJson<T>(url, signal);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 501)) return null;
    throw error;
  }
}

export function fetchMeta(): Promise<Meta> {
  return getJson<Meta>('/api/meta');
}

export function fetchIndicators(): Promise<Indicator[]> {
  return getJson<Indicator[]>('/api/indicators');
}

export function fetchGeometries(level: string, within?: string | null, signal?: AbortSignal): Promise<Territories> {
  return getJson<Territories>(geometriesUrl(level, within), signal);
}

export type { StatsQuery } from './views/requests.ts';

export function fetchStats(q: StatsQuery, signal?: AbortSignal): Promise<Stats> {
  return getJson<Stats>(statsUrl(q), signal);
}

export function fetchBivariate(level: string, x: string, y: string, vintage: string | null, within?: string | null, signal?: AbortSignal): Promise<Bivariate> {
  return getJson<Bivariate>(bivariateUrl(level, x, y, vintage, within), signal);
}

export function fetchMultispeed(level: string, indicator: string, vintage: string | null, signal?: AbortSignal): Promise<Multispeed> {
  return getJson<Multispeed>(multispeedUrl(level, indicator, vintage), signal);
}

export function fetchAccess(level: string, within?: string | null, signal?: AbortSignal): Promise<Access> {
  return getJson<Access>(accessUrl(level, within), signal);
}

/** TileJSON of a layer, or null when the server has no vector tiles (the map falls back to GeoJSON). */
export async function fetchTileJson(layer: string): Promise<TileJson | null> {
  try {
    return await getJsonOrNull<TileJson>(`/tiles/${encodeURIComponent(layer)}.json`);
  } catch {
    return null;
  }
}

/**
 * TileJSON of every level, or null when the server has no vector tiles (asked once, for the communes, before
 * the other levels).
 */
export async function fetchTileJsons(): Promise<Map<Level, TileJson> | null> {
  const first = await fetchTileJson(LEVELS[0]!);
  if (!first?.tiles?.length) return null;
  const answers = [first, ...(await Promise.all(LEVELS.slice(1).map((level) => fetchTileJson(level))))];
  if (answers.some((answer) => !answer || !answer.tiles?.length)) return null;
  return new Map(LEVELS.map((level, i) => [level, answers[i]!]));
}

export interface TileJson {
  tilejson: string;
  tiles: string[];
  minzoom?: number;
  maxzoom?: number;
  bounds?: Bbox;
  vector_layers?: { id: string; fields?: Record<string, string> }[];
}

export function exportUrl(level: string, format: string, params: Record<string, string | null | undefined>): string {
  return `/api/export/${encodeURIComponent(level)}.${format}${query(params)}`;
}
