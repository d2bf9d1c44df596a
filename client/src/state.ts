/**
 * The whole state of the planners' map in its URL, so that a reload or a shared link restores it exactly:
 * `?view=&indicator=&usage=&vintage=&level=&classes=&sel=LEVEL:CODE&at=LON,LAT,ZOOM&lang=&table=1`.
 * Pure: parse and serialise only.
 */
import { LEVELS, type Level } from './api.ts';
import { parseLang, type Lang } from './i18n.ts';
import { METHODS, type Method } from './views/classify.ts';
import { parseView, type ViewId } from './views/types.ts';

export interface Camera {
  lon: number;
  lat: number;
  zoom: number;
}

export interface Selection {
  level: Level;
  code: string;
}

export interface MapState {
  view: ViewId;
  indicator: string | null;
  usage: string | null;
  vintage: string | null;
  /** null: chosen from the zoom. */
  level: Level | null;
  /** null: the view's default (fixed breaks). */
  method: Method | null;
  selection: Selection | null;
  camera: Camera | null;
  lang: Lang;
  table: boolean;
}

export const DEFAULT_STATE: MapState = {
  view: 'choropleth',
  indicator: null,
  usage: null,
  vintage: null,
  level: null,
  method: null,
  selection: null,
  camera: null,
  lang: 'fr',
  table: false,
};

export const parseLevel = (value: string | null | undefined): Level | null => (LEVELS.includes(value as Level) ? (value as Level) : null);
const parseMethod = (value: string | null): Method | null => (METHODS.includes(value as Method) ? (value as Method) : null);
/** Identifiers: letters, digits, _ and - (what the catalogue uses); anything else is ignored. */
const parseId = (value: string | null): string | null => (value && /^[\w-]{1,80}$/.test(value) ? value : null);

export function parseSelection(value: string | null | undefined): Selection | null {
  const match = /^(commune|epci|departement|region):([\w-]{1,20})$/.exec(value ?? '');
  return match ? { level: match[1] as Level, code: match[2]! } : null;
}

export function parseCamera(value: string | null | undefined): Camera | null {
  const parts = (value ?? '').split(',').map(Number);
  if (parts.length !== 3 || !parts.every(Number.isFinite)) return null;
  const [lon, lat, zoom] = parts as [number, number, number];
  if (Math.abs(lon) > 180 || Math.abs(lat) > 85.1 || zoom < 0 || zoom > 24) return null;
  return { lon, lat, zoom };
}

export function formatCamera(camera: Camera): string {
  return `${camera.lon.toFixed(6)},${camera.lat.toFixed(6)},${camera.zoom.toFixed(4)}`;
}

/** The camera as the URL keeps it (rounded), so that a restored map compares equal to the one saved. */
export function roundCamera(camera: Camera): Camera {
  return parseCamera(formatCamera(camera))!;
}

export function parseState(search: string): MapState {
  const params = new URLSearchParams(search);
  return {
    view: parseView(params.get('view')) ?? DEFAULT_STATE.view,
    indicator: parseId(params.get('indicator')),
    usage: parseId(params.get('usage')),
    vintage: params.get('vintage') && /^\d{4}(-Q[1-4]|-\d{2})?$/.test(params.get('vintage')!) ? params.get('vintage') : null,
    level: parseLevel(params.get('level')),
    method: parseMethod(params.get('classes')),
    selection: parseSelection(params.get('sel')),
    camera: parseCamera(params.get('at')),
    lang: parseLang(params.get('lang')) ?? DEFAULT_STATE.lang,
    table: params.get('table') === '1',
  };
}

export function serializeState(state: MapState): string {
  const params = new URLSearchParams();
  params.set('view', state.view);
  if (state.indicator) params.set('indicator', state.indicator);
  if (state.usage) params.set('usage', state.usage);
  if (state.vintage) params.set('vintage', state.vintage);
  if (state.level) params.set('level', state.level);
  if (state.method) params.set('classes', state.method);
  if (state.selection) params.set('sel', `${state.selection.level}:${state.selection.code}`);
  if (state.camera) params.set('at', formatCamera(state.camera));
  params.set('lang', state.lang);
  if (state.table) params.set('table', '1');
  return params.toString();
}

/** The level drawn: the one chosen, else by zoom (coarser when zoomed out), among those the view allows. */
export function levelForZoom(zoom: number): Level {
  if (zoom >= 8) return 'commune';
  if (zoom >= 6.5) return 'epci';
  if (zoom >= 5) return 'departement';
  return 'region';
}
