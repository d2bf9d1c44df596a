/** The planners' map: header (indicator, vintage, language), choropleth of communes, EPCI outlines, legend. */
import './style.css';
import type { Map as MapLibreMap } from 'maplibre-gl';
import type { MapLibreOverlay, PickingInfo } from 'deck.gl';
import {
  fetchGeometries,
  fetchIndicators,
  fetchMeta,
  fetchStats,
  type Bbox,
  type Indicator,
  type Meta,
  type Stats,
  type StatsRow,
  type Territories,
} from './api.ts';
import { buildClassification, classOf, countByClass, type Classification } from './classification.ts';
import { NO_DATA_COLOR, type Rgb } from './colors.ts';
import { getLang, localized, parseLang, setLang, t, type Lang } from './i18n.ts';
import { renderLegend } from './legend.ts';
import { Attribution, boundsOf, buildLayers, createBaseMap, createOverlay, type TerritoryFeature } from './map.ts';
import { Tooltip } from './tooltip.ts';

export type AppState = 'loading' | 'idle' | 'error';

/** Handle for tests and debugging: `window.terrinum`. */
export interface TerrinumHandle {
  map: MapLibreMap | null;
  overlay: MapLibreOverlay | null;
  /** Resolves when the first map is fully drawn (same moment as `body[data-state=idle]`). */
  ready: Promise<void>;
  state: AppState;
  indicator: string | null;
  vintage: string | null;
  lang: Lang;
}

declare global {
  interface Window {
    terrinum: TerrinumHandle;
  }
}

const DEFAULT_INDICATOR = 'fibre_coverage';

const element = <T extends HTMLElement>(id: string) => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
};

const ui = {
  title: element<HTMLHeadingElement>('app-title'),
  banner: element<HTMLParagraphElement>('synthetic-banner'),
  indicatorLabel: element<HTMLSpanElement>('indicator-label'),
  indicatorSelect: element<HTMLSelectElement>('indicator-select'),
  vintageLabel: element<HTMLSpanElement>('vintage-label'),
  vintageSelect: element<HTMLSelectElement>('vintage-select'),
  langGroup: element<HTMLDivElement>('lang-toggle'),
  map: element<HTMLDivElement>('map'),
  legend: element<HTMLElement>('legend'),
  status: element<HTMLDivElement>('status'),
};

let resolveReady: () => void = () => {};
let rejectReady: (error: unknown) => void = () => {};
const ready = new Promise<void>((resolve, reject) => {
  resolveReady = resolve;
  rejectReady = reject;
});
ready.catch(() => {}); // reported through data-state and the status box

window.terrinum = { map: null, overlay: null, ready, state: 'loading', indicator: null, vintage: null, lang: 'fr' };

function setState(state: AppState): void {
  window.terrinum.state = state;
  document.body.dataset.state = state;
  ui.map.setAttribute('aria-busy', String(state === 'loading'));
}

interface Data {
  meta: Meta;
  indicators: Indicator[];
  communes: Territories;
  epcis: Territories;
}

interface Selection {
  indicator: Indicator;
  vintage: string;
  stats: Stats;
  rows: Map<string, StatsRow>;
  classification: Classification;
}

let data: Data | null = null;
let selection: Selection | null = null;
let map: MapLibreMap | null = null;
let overlay: MapLibreOverlay | null = null;
let attribution: Attribution | null = null;
let tooltip: Tooltip | null = null;
/** Called after each deck.gl frame; used to wait until new layers are on screen. */
let afterDeckRender: (() => void) | null = null;
let loadGeneration = 0;
/** Bounds to fit once the legend is drawn (first load only). */
let pendingFit: Bbox | null = null;

// ---------- URL state: ?indicator=…&vintage=…&lang=… ----------

function readUrl(): { indicator: string | null; vintage: string | null; lang: Lang | null } {
  const params = new URLSearchParams(window.location.search);
  return { indicator: params.get('indicator'), vintage: params.get('vintage'), lang: parseLang(params.get('lang')) };
}

function writeUrl(): void {
  const params = new URLSearchParams(window.location.search);
  if (selection) {
    params.set('indicator', selection.indicator.id);
    params.set('vintage', selection.vintage);
  }
  params.set('lang', getLang());
  window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
}

// ---------- Header ----------

/** "2024-Q4" → "T4 2024" (fr) / "Q4 2024" (en); other vintages unchanged. */
function vintageLabel(vintage: string, lang: Lang): string {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(vintage);
  if (quarter) return `${lang === 'fr' ? 'T' : 'Q'}${quarter[2]} ${quarter[1]}`;
  return vintage;
}

function renderIndicatorOptions(indicators: Indicator[], selectedId: string, lang: Lang): void {
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const indicator of indicators) {
    let group = groups.get(indicator.theme);
    if (!group) {
      group = document.createElement('optgroup');
      group.label = localized(indicator.theme_label, lang);
      groups.set(indicator.theme, group);
    }
    const option = new Option(localized(indicator.label, lang), indicator.id, false, indicator.id === selectedId);
    group.append(option);
  }
  ui.indicatorSelect.replaceChildren(...groups.values());
  ui.indicatorSelect.value = selectedId;
}

function renderVintageOptions(indicator: Indicator, selected: string, lang: Lang): void {
  const options = [...indicator.vintages].reverse().map((v) => new Option(vintageLabel(v, lang), v, false, v === selected));
  ui.vintageSelect.replaceChildren(...options);
  ui.vintageSelect.value = selected;
  ui.vintageSelect.disabled = options.length <= 1;
}

function renderStaticTexts(): void {
  const lang = getLang();
  document.title = t('title', lang);
  ui.title.textContent = t('title', lang);
  ui.indicatorLabel.textContent = t('indicator', lang);
  ui.vintageLabel.textContent = t('vintage', lang);
  ui.banner.textContent = t('syntheticBanner', lang);
  ui.langGroup.setAttribute('aria-label', t('language', lang));
  ui.map.setAttribute('aria-label', t('mapLabel', lang));
  for (const button of ui.langGroup.querySelectorAll<HTMLButtonElement>('button[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
  if (data) {
    ui.banner.hidden = !data.meta.synthetic;
    // The server's own bilingual synthetic notice is replaced by ours, in the chosen language.
    const notices = [t('syntheticBanner', 'fr'), t('syntheticBanner', 'en')];
    const sources = data.meta.attribution.filter((line) => !notices.some((notice) => line.includes(notice)));
    attribution?.update(sources, data.meta.synthetic ? t('syntheticBanner', lang) : null);
  }
}

// ---------- Rendering ----------

function colorOf(code: string): Rgb {
  if (!selection) return NO_DATA_COLOR;
  const index = classOf(selection.classification, selection.rows.get(code)?.value);
  return index < 0 ? NO_DATA_COLOR : (selection.classification.colors[index] ?? NO_DATA_COLOR);
}

function onHover(info: PickingInfo<TerritoryFeature>): void {
  if (!tooltip || !map) return;
  const feature = info.object;
  if (!feature || !selection) {
    tooltip.hide();
    map.getCanvas().style.cursor = '';
    return;
  }
  map.getCanvas().style.cursor = 'pointer';
  const { code, name } = feature.properties;
  tooltip.show(info.x, info.y, {
    code,
    name,
    row: selection.rows.get(code),
    unit: selection.indicator.unit,
    indicatorId: selection.indicator.id,
    lang: getLang(),
  });
}

function renderLegendBox(): void {
  if (!selection || !data) return;
  const values = data.communes.features.map((f) => selection?.rows.get(f.properties.code)?.value ?? null);
  renderLegend(ui.legend, {
    title: localized(selection.indicator.label, getLang()),
    vintage: vintageLabel(selection.vintage, getLang()),
    classification: selection.classification,
    counts: countByClass(selection.classification, values),
    lang: getLang(),
  });
}

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

/** Resolves after the first deck.gl frame in which every layer has its data loaded. */
function deckFrameDrawn(layers: { isLoaded: boolean }[]): Promise<void> {
  return new Promise((resolve) => {
    afterDeckRender = () => {
      if (layers.every((layer) => layer.isLoaded)) {
        afterDeckRender = null;
        resolve();
      }
    };
  });
}

/** Resolves on the next MapLibre `idle` (nothing left to load, no transition, no camera move). */
async function mapIdle(target: MapLibreMap): Promise<void> {
  const idle = target.once('idle');
  target.triggerRepaint();
  await idle;
}

async function drawSelection(): Promise<void> {
  if (!data || !selection || !overlay || !map) return;
  const layers = buildLayers({
    communes: data.communes,
    epcis: data.epcis,
    colorOf,
    colorKey: `${selection.indicator.id}@${selection.vintage}`,
    onHover,
  });
  const drawn = deckFrameDrawn(layers);
  overlay.setProps({ layers });
  await drawn;
  await mapIdle(map);
  // deck.gl draws on its own canvas in the frame after MapLibre's: one more frame to be safe.
  await nextFrame();
  await nextFrame();
}

async function select(indicatorId: string, vintage: string | null): Promise<void> {
  if (!data) return;
  const generation = ++loadGeneration;
  const indicator = data.indicators.find((i) => i.id === indicatorId) ?? data.indicators[0];
  if (!indicator) throw new Error('The server lists no indicator');
  const chosenVintage = vintage && indicator.vintages.includes(vintage) ? vintage : indicator.vintages.at(-1);
  if (!chosenVintage) throw new Error(`Indicator ${indicator.id} has no vintage`);
  setState('loading');
  renderIndicatorOptions(data.indicators, indicator.id, getLang());
  renderVintageOptions(indicator, chosenVintage, getLang());

  const stats = await fetchStats('commune', indicator.id, chosenVintage);
  if (generation !== loadGeneration) return; // a newer choice superseded this one
  selection = {
    indicator,
    vintage: chosenVintage,
    stats,
    rows: new Map(stats.rows.map((row) => [row.code, row])),
    classification: buildClassification(
      indicator.unit,
      stats.rows.map((row) => row.value),
    ),
  };
  window.terrinum.indicator = indicator.id;
  window.terrinum.vintage = chosenVintage;
  tooltip?.hide();
  writeUrl();
  renderLegendBox();
  if (pendingFit && map) {
    map.fitBounds(pendingFit, { padding: fitPadding(), animate: false });
    pendingFit = null;
  }
  await drawSelection();
  if (generation !== loadGeneration) return;
  setState('idle');
}

function showError(error: unknown): void {
  console.error(error);
  setState('error');
  ui.status.hidden = false;
  ui.status.textContent = `${t('loadError')} — ${error instanceof Error ? error.message : String(error)}`;
  rejectReady(error);
}

function switchLanguage(lang: Lang): void {
  if (lang === getLang()) return;
  setLang(lang);
  window.terrinum.lang = lang;
  renderStaticTexts();
  if (data && selection) {
    renderIndicatorOptions(data.indicators, selection.indicator.id, lang);
    renderVintageOptions(selection.indicator, selection.vintage, lang);
    renderLegendBox();
  }
  tooltip?.hide();
  writeUrl();
}

function fitPadding(): { top: number; right: number; bottom: number; left: number } {
  const wide = ui.map.clientWidth > 720;
  const legendWidth = ui.legend.hidden ? 0 : ui.legend.getBoundingClientRect().width;
  const attributionHeight = ui.map.querySelector('.maplibregl-ctrl-attrib')?.getBoundingClientRect().height ?? 0;
  return { top: 32, right: 56, bottom: Math.max(32, Math.round(attributionHeight) + 16), left: wide ? Math.round(legendWidth) + 40 : 24 };
}

async function start(): Promise<void> {
  const url = readUrl();
  setLang(url.lang ?? 'fr');
  window.terrinum.lang = getLang();
  renderStaticTexts();
  setState('loading');

  ui.langGroup.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-lang]');
    const lang = parseLang(button?.dataset.lang);
    if (lang) switchLanguage(lang);
  });
  ui.indicatorSelect.addEventListener('change', () => {
    select(ui.indicatorSelect.value, null).catch(showError);
  });
  ui.vintageSelect.addEventListener('change', () => {
    if (selection) select(selection.indicator.id, ui.vintageSelect.value).catch(showError);
  });

  const [meta, indicators] = await Promise.all([fetchMeta(), fetchIndicators()]);
  map = createBaseMap(ui.map, meta.basemapStyle, meta.bbox);
  window.terrinum.map = map;
  attribution = new Attribution(map);
  tooltip = new Tooltip(ui.map);
  // deck.gl does not always report the pointer leaving the map: hide the tooltip ourselves.
  map.getCanvasContainer().addEventListener('mouseleave', () => {
    tooltip?.hide();
    if (map) map.getCanvas().style.cursor = '';
  });
  const loaded = map.once('load');

  const [communes, epcis] = await Promise.all([fetchGeometries('commune'), fetchGeometries('epci')]);
  data = { meta, indicators, communes, epcis };
  renderStaticTexts();

  await loaded;
  overlay = createOverlay(() => afterDeckRender?.());
  window.terrinum.overlay = overlay;
  map.addControl(overlay);

  const initial = url.indicator ?? (indicators.some((i) => i.id === DEFAULT_INDICATOR) ? DEFAULT_INDICATOR : indicators[0]?.id);
  if (!initial) throw new Error('The server lists no indicator');
  // The legend is drawn by select(); fit then, so that the legend hides no commune.
  pendingFit = meta.bbox ?? boundsOf(epcis) ?? boundsOf(communes);
  await select(initial, url.vintage);
  resolveReady();
}

start().catch(showError);
