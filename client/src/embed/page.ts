/**
 * The map's code of the embed page (GET /embed), loaded by main.ts: one view of one territory, drawn as the
 * planners' map draws it (views/* compute colours and legend, map/* draws with MapLibre GL, deck.gl for the
 * mediation places), with a title, the legend, the sources and a link to the full map in the same state. No
 * panel, search or table: the bundle stays small. The server has validated the parameters and written them,
 * resolved, into the page (config.ts).
 */
import type { Bbox, Indicator, Level, Meta } from '../api.ts';
import { setLang, t, tKey, type Lang } from '../i18n.ts';
import type { PointsOverlay } from '../map/points.ts';
import { TerritoryMap } from '../map/territory-map.ts';
import { DEFAULT_STATE, levelForZoom, roundCamera, serializeState, type MapState } from '../state.ts';
import { renderLegend } from '../ui/legend.ts';
import { Tooltip } from '../ui/tooltip.ts';
import { drawnLayers } from '../views/common.ts';
import { buildView, defaultUsage, fetchViewData, isCoverage, resolveVintage, type ViewRequest } from '../views/load.ts';
import { hasMethod, isTimeless, levelsOf, usesUsageAxis, type ViewResult } from '../views/types.ts';
import type { EmbedConfig, EmbedTerritory } from './config.ts';
import { mark, setState } from './handle.ts';
import type { Prefetched } from './prefetch.ts';
import { embedText } from './strings.ts';

const DEFAULT_INDICATOR = 'fibre_coverage';
/** Legend over the map (see embed.css); below it otherwise. */
const WIDE = '(min-width: 560px) and (min-height: 360px)';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  title: byId<HTMLHeadingElement>('embed-title'),
  subtitle: byId<HTMLParagraphElement>('embed-subtitle'),
  map: byId<HTMLElement>('map'),
  status: byId<HTMLDivElement>('status'),
  legend: byId<HTMLElement>('legend'),
  notice: byId<HTMLParagraphElement>('synthetic-notice'),
  sources: byId<HTMLParagraphElement>('sources'),
  link: byId<HTMLAnchorElement>('full-map-link'),
};

// ---------- Choices (the server checked the ids; defaults as in the planners' map) ----------

function chooseIndicator(config: EmbedConfig, indicators: readonly Indicator[]): Indicator {
  const find = (id: string | null) => indicators.find((i) => i.id === id);
  const wanted = find(config.indicator);
  if (usesUsageAxis(config.view)) return (wanted && isCoverage(wanted) ? wanted : null) ?? find(DEFAULT_INDICATOR) ?? indicators.find(isCoverage) ?? indicators[0]!;
  return wanted ?? find(DEFAULT_INDICATOR) ?? indicators[0]!;
}

function chooseUsage(config: EmbedConfig, indicators: readonly Indicator[]): Indicator | null {
  if (!usesUsageAxis(config.view)) return null;
  const wanted = indicators.find((i) => i.id === config.usage);
  return wanted && !isCoverage(wanted) ? wanted : defaultUsage(indicators);
}

/** Without a level asked for nor a territory (the server then resolves `fill`): by the zoom, as the full map. */
function levelByZoom(config: EmbedConfig, zoom: number): Level {
  const allowed = levelsOf(config.view);
  const wanted = levelForZoom(zoom);
  return allowed.includes(wanted) ? wanted : allowed[0]!;
}

const withinParam = (within: EmbedTerritory | null) => (within ? `${within.level}:${within.code}` : null);

// ---------- Page ----------

/** Room around the territory: the legend when it floats over the map, the zoom buttons. */
function fitPadding(config: EmbedConfig): { top: number; right: number; bottom: number; left: number } {
  const overlay = config.legend && window.matchMedia(WIDE).matches;
  const legendWidth = overlay ? ui.legend.getBoundingClientRect().width || 220 : 0;
  const small = ui.map.clientWidth < 400;
  return { top: small ? 8 : 14, right: config.controls ? 48 : small ? 8 : 14, bottom: small ? 8 : 14, left: overlay ? Math.round(legendWidth) + 20 : small ? 8 : 14 };
}

/** Title, subtitle and legend of the view drawn. */
function renderView(config: EmbedConfig, result: ViewResult): void {
  const lang = config.lang;
  // the multi-speed legend is titled by its indicator: the title says which view it is
  const title = config.view === 'multispeed' ? `${tKey('view_multispeed', lang)} — ${result.legend.title}` : result.legend.title;
  ui.title.textContent = title;
  const place = config.within?.name ?? embedText('wholeTerritory', lang);
  ui.subtitle.textContent = `${place} · ${result.legend.subtitle}`;
  document.title = `${title} — ${place} · terrinum`;
  ui.map.setAttribute('aria-label', embedText('mapOf', lang, { title: `${title}, ${place}` }));
  if (config.legend) renderLegend(ui.legend, result.legend, lang);
}

/** Footer: the synthetic-data notice, the sources (/api/meta), the link to the full map. */
function renderFooter(config: EmbedConfig, meta: Meta): void {
  const lang = config.lang;
  // The server's bilingual synthetic notice is replaced by ours, in the page's language, on its own line.
  const notices = [t('syntheticBanner', 'fr'), t('syntheticBanner', 'en')];
  const sources = meta.attribution.filter((line) => !notices.some((notice) => line.includes(notice)));
  ui.notice.hidden = !meta.synthetic;
  ui.notice.textContent = meta.synthetic ? t('syntheticBanner', lang) : '';
  ui.sources.textContent = sources.length ? `${t('sources', lang)}${lang === 'fr' ? '\u00a0: ' : ': '}${sources.join(' · ')}` : '';
  ui.sources.title = sources.join('\n');
  ui.link.textContent = embedText('fullMap', lang);
  ui.link.title = embedText('fullMapTitle', lang);
}

/** The planners' map in the same state: view, indicator, vintage, level, classes, territory, camera, language. */
function fullMapHref(config: EmbedConfig, request: ViewRequest, map: TerritoryMap): string {
  const state: MapState = {
    ...DEFAULT_STATE,
    view: request.view,
    indicator: request.indicator.id,
    usage: request.usage?.id ?? null,
    vintage: isTimeless(request.view) ? null : request.vintage,
    level: config.level,
    method: config.method,
    selection: config.within ? { level: config.within.level, code: config.within.code } : null,
    camera: roundCamera(map.camera()),
    lang: config.lang,
  };
  return new URL(`/?${serializeState(state)}`, window.location.href).href;
}

/** Fits the territory in the map's current box (MapLibre notices a new size of its container only later). */
function fitTo(map: TerritoryMap, bbox: Bbox, config: EmbedConfig): void {
  map.map.resize();
  map.fit(bbox, fitPadding(config));
}

/** A static figure unless controls=1: no zoom buttons, no gesture (the page around it keeps scrolling). */
function freeze(map: TerritoryMap): void {
  const m = map.map;
  for (const handler of [m.scrollZoom, m.dragPan, m.boxZoom, m.doubleClickZoom, m.touchZoomRotate, m.keyboard]) handler.disable();
}

async function showPlaces(map: TerritoryMap, bbox: Bbox, lang: Lang, tooltip: Tooltip): Promise<void> {
  const { createPointsOverlay, loadPlaces } = await import('../map/points.ts');
  const [overlay, places]: [PointsOverlay, Awaited<ReturnType<typeof loadPlaces>>] = await Promise.all([
    createPointsOverlay(map.map, { places: (count) => `${count} · ${t('places', lang)}` }),
    loadPlaces(bbox),
  ]);
  overlay.onHover((hover) => {
    if (!hover) return tooltip.hide();
    tooltip.show(hover.x, hover.y, { code: '', name: t('places', lang), value: hover.text, lines: [] });
  });
  const drawn = overlay.drawn();
  overlay.setPlaces(places);
  await drawn;
}

/** Draws the embed of `config`, with the API answers main.ts asked for already on their way. */
export async function start(config: EmbedConfig, early: Prefetched): Promise<void> {
  const lang = config.lang;
  setLang(lang);
  window.terrinumEmbed.config = config;
  mark('page');
  ui.status.textContent = t('loading', lang);

  // The footer first (the catalogue was asked for before this code loaded): the map's box is then final, and
  // the map is fitted once, not again when the footer grows.
  const meta = await early.meta;
  mark('meta');
  renderFooter(config, meta);
  const bbox = config.within?.bbox ?? meta.bbox;
  const mapCreated = TerritoryMap.create({
    container: ui.map,
    basemapStyle: config.basemapStyle,
    bbox,
    // a territory's own outlines are few: one GeoJSON request, no tiles of the neighbours
    geometry: config.within ? 'geojson' : 'auto',
    within: withinParam(config.within),
    geometries: early.geometries,
    navigation: config.controls,
  }).then((map) => {
    mark('map');
    window.terrinumEmbed.territoryMap = map;
    if (!config.controls) freeze(map);
    if (bbox) fitTo(map, bbox, config);
    return map;
  });
  const showLevel = (map: TerritoryMap, level: Level) => map.show(drawnLayers(config.view, level));
  // When the level drawn is known (the server resolved it), the outlines download and MapLibre's worker tiles
  // them while the view's data loads.
  const earlyShown = config.fill ? mapCreated.then((map) => showLevel(map, config.fill!)) : null;
  earlyShown?.catch(() => {}); // awaited below

  const indicators = await early.indicators;
  mark('catalogue');
  if (!indicators.length) throw new Error('the server lists no indicator');
  const indicator = chooseIndicator(config, indicators);
  const usage = chooseUsage(config, indicators);
  const vintage = resolveVintage(indicator, config.vintage);
  const method = hasMethod(config.view) ? (config.method ?? 'fixed') : 'fixed';

  const map = await mapCreated;
  const level = config.fill ?? levelByZoom(config, map.map.getZoom());
  const request: ViewRequest = { view: config.view, level, indicator, usage, vintage, method, within: withinParam(config.within) };
  const shown = earlyShown ?? showLevel(map, level);
  shown.catch(() => {}); // awaited below
  const data = await (early.data ?? fetchViewData(request));
  mark('data');
  const result = buildView(data, request, lang);
  Object.assign(window.terrinumEmbed, { view: request.view, level, indicator: indicator.id, vintage: isTimeless(request.view) ? null : vintage, result });
  const box = `${ui.map.clientWidth}x${ui.map.clientHeight}`;
  renderView(config, result);
  // a legend under the map (narrow frames) takes room from it: fit again in the smaller box
  if (bbox && `${ui.map.clientWidth}x${ui.map.clientHeight}` !== box) fitTo(map, bbox, config);

  const tooltip = new Tooltip(ui.map);
  const showTooltip = (event: { code: string; name: string; x: number; y: number } | null) => {
    const model = event ? result.tooltip(event.code, event.name) : null;
    if (event && model) tooltip.show(event.x, event.y, model);
    else tooltip.hide();
  };
  map.onHover(showTooltip);
  // touch screens have no hover: a tap shows the tooltip
  map.onClick(showTooltip);

  await shown;
  map.setColors(level, result.colors);
  map.setFlags('epci', result.flagged?.codes ?? new Set());
  mark('outlines');
  await Promise.all([map.rendered(), request.view === 'access' && bbox ? showPlaces(map, bbox, lang, tooltip) : null]);
  mark('drawn');

  const updateLink = () => {
    ui.link.href = fullMapHref(config, request, map);
  };
  updateLink();
  map.map.on('moveend', updateLink);
  if (!config.controls && bbox) keepFitted(map, bbox, config);

  window.terrinumEmbed.firstRenderMs = Math.round(performance.now());
  setState('idle');
}

/** A static map follows its frame's size (a phone turned, a host page's responsive layout). */
function keepFitted(map: TerritoryMap, bbox: Bbox, config: EmbedConfig): void {
  let timer: number | undefined;
  let last = `${ui.map.clientWidth}x${ui.map.clientHeight}`;
  new ResizeObserver(() => {
    const size = `${ui.map.clientWidth}x${ui.map.clientHeight}`;
    if (size === last) return;
    last = size;
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fitTo(map, bbox, config), 120);
  }).observe(ui.map);
}
