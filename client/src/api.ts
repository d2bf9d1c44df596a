/** The server's HTTP API, as the map uses it. Shapes mirror the server's responses. */
import type { FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import type { Localized, Unit } from './i18n.ts';

export type Bbox = [minLon: number, minLat: number, maxLon: number, maxLat: number];

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
  /** Oldest first. */
  vintages: string[];
}

export interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  communes: number;
  communes_expected: number;
  partial: boolean;
}

export interface Stats {
  level: string;
  indicator: string;
  vintage: string;
  synthetic: boolean;
  rows: StatsRow[];
}

export interface TerritoryProperties {
  code: string;
  name: string;
}

export type Territories = FeatureCollection<Polygon | MultiPolygon, TerritoryProperties>;

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

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = (await response.json()) as { error?: { message?: string }; message?: string };
      detail = body.error?.message ?? body.message ?? detail;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, url, `${url}: ${response.status} ${detail}`);
  }
  return (await response.json()) as T;
}

export function fetchMeta(): Promise<Meta> {
  return getJson<Meta>('/api/meta');
}

export function fetchIndicators(): Promise<Indicator[]> {
  return getJson<Indicator[]>('/api/indicators');
}

export function fetchGeometries(level: string, within?: string): Promise<Territories> {
  const query = within ? `?${new URLSearchParams({ within })}` : '';
  return getJson<Territories>(`/api/geometries/${encodeURIComponent(level)}${query}`);
}

export function fetchStats(level: string, indicator: string, vintage: string, signal?: AbortSignal): Promise<Stats> {
  const query = new URLSearchParams({ indicator, vintage });
  return getJson<Stats>(`/api/stats/${encodeURIComponent(level)}?${query}`, signal);
}
