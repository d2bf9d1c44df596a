/**
 * The planners' map: views (indicator, coverage × usage, typology, gap, multi-speed, clusters, access), levels
 * (by zoom or chosen), classes, time slider, search, side panel, data table, exports; the whole state in the URL.
 * This module wires the DOM; what a view shows is computed by views/*, drawn by map/*.
 */
import type { Map as MapLibreMap } from 'maplibre-gl';
import { LEVELS, exportUrl, fetchStats, type Bbox, type Indicator, type Level, type Meta, type MultispeedRow } from './api.ts';
import { PALETTE, MULTISPEED_OUTLINE_COLOR } from './colors.ts';
import { DEFAULT_INDICATOR, earlyRequests } from './early.ts';
import { getLang, localized, parseLang, setLang, t, tKey, type Lang } from './i18n.ts';
import { TerritoryMap } from './map/territory-map.ts';
import type { PointsOverlay } from './map/points.ts';
import { DEFAULT_STATE, levelForZoom, parseState, roundCamera, serializeState, type MapState } from './state.ts';
import { fetchTerritory, type TerritoryProfile } from './territory.ts';
import { stripChart } from './ui/charts.ts';
import { renderLegend } from './ui/legend.ts';
import { renderPanel } from './ui/panel.ts';
import { SearchBox, type SearchResult } from './ui/search.ts';
import { DataTable } from './ui/table.ts';
import { Timeline } from './ui/timeline.ts';
import { Tooltip } from './ui/tooltip.ts';
import { METHODS, type Method } from './views/classify.ts';
import { drawnLayers } from './views/common.ts';
import { SPREAD_FIELDS } from './views/requests.ts';
import { buildView, defaultUsage, fetchViewData, isCoverage, prefetchStats, resolveVintage, type ViewData, type ViewRequest } from './views/load.ts';
import { ranking } from './views/multispeed.ts';
import { VIEWS, hasMethod, isTimeless, levelsOf, usesUsageAxis, type ViewId, type ViewResult } from './views/types.ts';

export type AppState = 'loading' | 'idle' | 'error';

/** Handle for tests, benchmarks and debugging: `window.terrinum`. */
export interface TerrinumHandle {
  map: MapLibreMap | null;
  territoryMap: TerritoryMap | null;
  /** Resolves when the first map is fully drawn (same moment as `body[data-state=idle]`). */
  ready: Promise<void>;
  state: AppState;
  view: ViewId;
  level: Level | null;
  indicator: string | null;
  vintage: string | null;
  lang: Lang;
  /** The view on screen: colours, legend, table. */
  result: ViewResult | null;
  /** How many times a view was completely drawn (tests wait for it to change). */
  renders: number;
  /** Milliseconds of the last complete update (fetch, build, draw), for the benchmark. */
  lastUpdateMs: number;
  /** Its parts: rows fetched (with the geometry shown), view built, colours set, legend and table, map drawn. */
  timings: Record<string, number>;
  geometry: 'tiles' | 'geojson' | null;
  /** performance.now() when the first map was completely drawn (the benchmark's first render). */
  readyAt: number | null;
  /** performance.now() at the steps of the start: script run, catalogue loaded, map created. */
  marks: Record<string, number>;
}

declare global {
  interface Window {
    terrinum: TerrinumHandle;
  }
}

/** The legend's width (style.css .legend), to fit the map before the legend is drawn. */
const LEGEND_WIDTH_PX = 266;
/** The longest the first update waits for the tiles to be asked for before asking for its rows (update). */
const FIRST_TILE_WAIT_MS = 500;
/** The time slider's height, likewise. */
const TIMELINE_HEIGHT_PX = 46;

const element = <T extends HTMLElement>(id: string) => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
};

const ui = {
  skipLink: element<HTMLAnchorElement>('skip-link'),
  title: element<HTMLHeadingElement>('app-title'),
  banner: element<HTMLParagraphElement>('synthetic-banner'),
  searchInput: element<HTMLInputElement>('search-input'),
  searchResults: element<HTMLUListElement>('search-results'),
  searchStatus: element<HTMLSpanElement>('search-status'),
  langGroup: element<HTMLDivElement>('lang-toggle'),
  viewLabel: element<HTMLLegendElement>('view-label'),
  viewOptions: element<HTMLDivElement>('view-options'),
  indicatorLabel: element<HTMLSpanElement>('indicator-label'),
  indicatorSelect: element<HTMLSelectElement>('indicator-select'),
  usageField: element<HTMLLabelElement>('usage-field'),
  usageLabel: element<HTMLSpanElement>('usage-label'),
  usageSelect: element<HTMLSelectElement>('usage-select'),
  levelLabel: element<HTMLSpanElement>('level-label'),
  levelSelect: element<HTMLSelectElement>('level-select'),
  methodField: element<HTMLLabelElement>('method-field'),
  methodLabel: element<HTMLSpanElement>('method-label'),
  methodSelect: element<HTMLSelectElement>('method-select'),
  exportMenu: element<HTMLDetailsElement>('export-menu'),
  exportSummary: element<HTMLElement>('export-summary'),
  exportLinks: element<HTMLUListElement>('export-links'),
  tableToggle: element<HTMLButtonElement>('table-toggle'),
  map: element<HTMLDivElement>('map'),
  legend: element<HTMLElement>('legend'),
  timeline: element<HTMLDivElement>('timeline'),
  playButton: element<HTMLButtonElement>('play-button'),
  vintageLabel: element<HTMLSpanElement>('vintage-label'),
  vintageRange: element<HTMLInputElement>('vintage-range'),
  vintageOutput: element<HTMLOutputElement>('vintage-output'),
  status: element<HTMLDivElement>('status'),
  side: element<HTMLElement>('side'),
  ranking: element<HTMLElement>('ranking'),
  details: element<HTMLElement>('details'),
  tableSection: element<HTMLElement>('table-section'),
  tableTitle: element<HTMLHeadingElement>('table-title'),
  tableContainer: element<HTMLDivElement>('table-container'),
};

let resolveReady: () => void = () => {};
let rejectReady: (error: unknown) => void = () => {};
const ready = new Promise<void>((resolve, reject) => {
  resolveReady = resolve;
  rejectReady = reject;
});
ready.catch(() => {}); // reported through data-state and the status box

window.terrinum = {
  map: null,
  territoryMap: null,
  ready,
  state: 'loading',
  view: DEFAULT_STATE.view,
  level: null,
  indicator: null,
  vintage: null,
  lang: 'fr',
  result: null,
  renders: 0,
  lastUpdateMs: 0,
  timings: {},
  geometry: null,
  readyAt: null,
  marks: { script: performance.now() },
};

let state: MapState = { ...DEFAULT_STATE };
let meta: Meta | null = null;
let indicators: Indicator[] = [];
let territoryMap: TerritoryMap | null = null;
let tooltip: Tooltip | null = null;
let table: DataTable | null = null;
let timeline: Timeline | null = null;
let search: SearchBox | null = null;
let points: PointsOverlay | null = null;
let pointsLoading: Promise<void> | null = null;
/** What is on screen: the request, its JSON and the view built from it. */
let current: { request: ViewRequest; data: ViewData; result: ViewResult } | null = null;
let profile: TerritoryProfile | null = null;
let generation = 0;
let fitPending = false;
/** Set while the app moves the camera itself (the move's own update follows). */
let moving = false;

function setAppState(next: AppState): void {
  window.terrinum.state = next;
  document.body.dataset.state = next;
  ui.map.setAttribute('aria-busy', String(next === 'loading'));
}

// ---------- URL ----------

function writeUrl(): void {
  const camera = territoryMap ? roundCamera(territoryMap.camera()) : state.camera;
  state = { ...state, camera };
  window.history.replaceState(null, '', `${window.location.pathname}?${serializeState(state)}`);
}

// ---------- Choices ----------

const indicatorById = (id: string | null | undefined) => indicators.find((i) => i.id === id);

function chosenIndicator(view: ViewId): Indicator {
  const wanted = indicatorById(state.indicator);
  if (usesUsageAxis(view)) {
    if (wanted && isCoverage(wanted)) return wanted;
    return indicatorById(DEFAULT_INDICATOR) ?? indicators.find(isCoverage) ?? indicators[0]!;
  }
  return wanted ?? indicatorById(DEFAULT_INDICATOR) ?? indicators[0]!;
}

function chosenUsage(): Indicator | null {
  const wanted = indicatorById(state.usage);
  return wanted && !isCoverage(wanted) ? wanted : defaultUsage(indicators);
}

function chosenLevel(view: ViewId): Level {
  const allowed = levelsOf(view);
  if (state.level && allowed.includes(state.level)) return state.level;
  const byZoom = territoryMap ? levelForZoom(territoryMap.map.getZoom()) : 'commune';
  return allowed.includes(byZoom) ? byZoom : allowed[0]!;
}

function request(): ViewRequest {
  const view = state.view;
  const indicator = chosenIndicator(view);
  return {
    view,
    level: chosenLevel(view),
    indicator,
    usage: usesUsageAxis(view) ? chosenUsage() : null,
    vintage: resolveVintage(indicator, state.vintage),
    method: hasMethod(view) ? (state.method ?? 'fixed') : 'fixed',
  };
}

// ---------- Controls ----------

function renderViewOptions(lang: Lang): void {
  const options = VIEWS.map((view) => {
    const label = document.createElement('label');
    label.className = 'view-option';
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'view';
    radio.value = view;
    radio.checked = view === state.view;
    radio.addEventListener('change', () => {
      if (radio.checked) changeState({ view });
    });
    label.append(radio, ` ${tKey(`view_${view}`, lang)}`);
    return label;
  });
  ui.viewOptions.replaceChildren(...options);
}

function indicatorOptions(list: readonly Indicator[], selectedId: string, lang: Lang): HTMLOptGroupElement[] {
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const indicator of list) {
    let group = groups.get(indicator.theme);
    if (!group) {
      group = document.createElement('optgroup');
      group.label = localized(indicator.theme_label, lang);
      groups.set(indicator.theme, group);
    }
    group.append(new Option(localized(indicator.label, lang), indicator.id, false, indicator.id === selectedId));
  }
  return [...groups.values()];
}

function renderControls(req: ViewRequest, lang: Lang): void {
  for (const radio of ui.viewOptions.querySelectorAll<HTMLInputElement>('input[name=view]')) radio.checked = radio.value === req.view;
  const bivariateLike = usesUsageAxis(req.view);
  ui.indicatorLabel.textContent = bivariateLike ? t('coverageAxis', lang) : t('indicator', lang);
  ui.indicatorSelect.replaceChildren(...indicatorOptions(bivariateLike ? indicators.filter(isCoverage) : indicators, req.indicator.id, lang));
  ui.indicatorSelect.value = req.indicator.id;
  ui.indicatorSelect.disabled = isTimeless(req.view);
  ui.usageField.hidden = !bivariateLike;
  if (bivariateLike && req.usage) {
    ui.usageLabel.textContent = t('usageAxis', lang);
    ui.usageSelect.replaceChildren(...indicatorOptions(indicators.filter((i) => !isCoverage(i)), req.usage.id, lang));
    ui.usageSelect.value = req.usage.id;
  }
  const allowed = levelsOf(req.view);
  ui.levelSelect.replaceChildren(
    new Option(`${t('levelAuto', lang)} · ${tKey(`level_${req.level}`, lang)}`, 'auto', false, state.level === null),
    ...allowed.map((level) => new Option(tKey(`level_${level}`, lang), level, false, state.level === level)),
  );
  ui.levelSelect.value = state.level && allowed.includes(state.level) ? state.level : 'auto';
  ui.levelSelect.disabled = allowed.length <= 1;
  ui.methodField.hidden = !hasMethod(req.view);
  ui.methodSelect.replaceChildren(...METHODS.map((method) => new Option(t(`method_${method}`, lang), method, false, method === req.method)));
  ui.methodSelect.value = req.method;
  if (isTimeless(req.view)) ui.timeline.hidden = true;
  else timeline?.set(req.indicator.vintages, req.vintage, lang);
  renderExportLinks(req, lang);
}

function renderExportLinks(req: ViewRequest, lang: Lang): void {
  const ids = [req.indicator.id, ...(req.usage ? [req.usage.id] : [])];
  const params: Record<string, string | null> = { indicators: isTimeless(req.view) ? null : ids.join(','), vintage: isTimeless(req.view) ? null : req.vintage };
  // the filter: the selected territory when it is coarser than the level drawn (communes of an EPCI…)
  const selection = state.selection;
  const filtered = selection && LEVELS.indexOf(selection.level) > LEVELS.indexOf(req.level);
  if (filtered) params.within = `${selection.level}:${selection.code}`;
  const formats: [string, string][] = [
    ['geojson', 'GeoJSON'],
    ['csv', 'CSV'],
    ['gpkg', 'GeoPackage'],
    ['fgb', 'FlatGeobuf'],
    ['shp.zip', 'Shapefile (zip)'],
  ];
  const items = formats.map(([format, label]) => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = exportUrl(req.level, format, params);
    link.dataset.format = format;
    link.download = '';
    link.textContent = `${label} — ${tKey(`plural_${req.level}`, lang)}${filtered && profile ? ` (${profile.name})` : ''}`;
    item.append(link);
    return item;
  });
  ui.exportLinks.replaceChildren(...items);
  ui.exportSummary.textContent = t('export', lang);
  ui.exportMenu.title = t('exportTitle', lang);
}

function renderStaticTexts(lang: Lang): void {
  document.title = t('title', lang);
  ui.title.textContent = t('title', lang);
  ui.skipLink.textContent = t('skipToTable', lang);
  ui.banner.textContent = t('syntheticBanner', lang);
  ui.langGroup.setAttribute('aria-label', t('language', lang));
  ui.map.setAttribute('aria-label', t('mapLabel', lang));
  ui.viewLabel.textContent = t('view', lang);
  ui.levelLabel.textContent = t('level', lang);
  ui.methodLabel.textContent = t('method', lang);
  ui.vintageLabel.textContent = t('vintage', lang);
  ui.tableToggle.textContent = t('showTable', lang);
  ui.tableTitle.textContent = t('dataTable', lang);
  search?.setLang(lang);
  for (const button of ui.langGroup.querySelectorAll<HTMLButtonElement>('button[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
  renderViewOptions(lang);
  if (meta) {
    ui.banner.hidden = !meta.synthetic;
    // The server's own bilingual synthetic notice is replaced by ours, in the chosen language.
    const notices = [t('syntheticBanner', 'fr'), t('syntheticBanner', 'en')];
    const sources = meta.attribution.filter((line) => !notices.some((notice) => line.includes(notice)));
    territoryMap?.setAttribution(sources, meta.synthetic ? t('syntheticBanner', lang) : null);
  }
}

// ---------- Drawing ----------

/** Room for the legend (bottom left; its fixed width even before it is first drawn), the slider and the attribution. */
function fitPadding(): { top: number; right: number; bottom: number; left: number } {
  const wide = ui.map.clientWidth > 720;
  const legendWidth = ui.legend.hidden ? LEGEND_WIDTH_PX : ui.legend.getBoundingClientRect().width;
  const timelineHeight = ui.timeline.hidden ? (isTimeless(state.view) ? 0 : TIMELINE_HEIGHT_PX) : ui.timeline.getBoundingClientRect().height;
  const attributionHeight = ui.map.querySelector('.maplibregl-ctrl-attrib')?.getBoundingClientRect().height ?? 0;
  return {
    top: Math.round(timelineHeight) + 40,
    right: 56,
    bottom: Math.max(40, Math.round(attributionHeight) + 24),
    left: wide ? Math.round(legendWidth) + 52 : 24,
  };
}

/** Draws what goes around the map for a built view: legend, table, ranking, panel. */
function present(req: ViewRequest, result: ViewResult, lang: Lang): void {
  renderLegend(ui.legend, result.legend, lang);
  table?.render(result.table, lang, true);
  renderRanking(req, lang);
  if (profile) showProfile(profile);
  window.terrinum.result = result;
}

/** Loads and draws the view of the current state; concurrent calls: the last one wins. */
async function update(): Promise<void> {
  if (!territoryMap || !indicators.length) return;
  const mine = ++generation;
  const started = performance.now();
  setAppState('loading');
  if (fitPending && meta?.bbox) {
    // fitted first, so that the level chosen by zoom and the tiles asked for are the final ones
    fitPending = false;
    moving = true;
    try {
      territoryMap.fit(meta.bbox, fitPadding());
    } finally {
      moving = false;
    }
  }
  const req = request();
  // the URL names what is drawn, not only what was chosen: a shared link shows the same map after new data
  state = { ...state, indicator: req.indicator.id, usage: req.usage?.id ?? state.usage, vintage: isTimeless(req.view) ? state.vintage : req.vintage };
  const lang = getLang();
  renderControls(req, lang);
  // geometry (tiles) loads while the rows do; the first time, the tiles are asked for before the rows
  // (TerritoryMap.tilesRequested): their parsing, the longest step of a first render, then overlaps the rows' query
  const shown = territoryMap.show(drawnLayers(req.view, req.level));
  if (!current) await territoryMap.tilesRequested(req.level, FIRST_TILE_WAIT_MS);
  const [data] = await Promise.all([fetchViewData(req), shown]);
  if (mine !== generation) return;
  const fetched = performance.now();
  const result = buildView(data, req, lang);
  const built = performance.now();
  current = { request: req, data, result };
  Object.assign(window.terrinum, { view: req.view, level: req.level, indicator: req.indicator.id, vintage: isTimeless(req.view) ? null : req.vintage });
  tooltip?.hide();
  territoryMap.setColors(req.level, result.colors);
  territoryMap.setFlags('epci', result.flagged?.codes ?? new Set());
  const colored = performance.now();
  present(req, result, lang);
  writeUrl();
  const presented = performance.now();
  await Promise.all([territoryMap.rendered(), syncPoints(req)]);
  if (mine !== generation) return;
  const done = performance.now();
  window.terrinum.lastUpdateMs = done - started;
  window.terrinum.timings = { fetch: fetched - started, build: built - fetched, colors: colored - built, present: presented - colored, render: done - presented };
  window.terrinum.renders++;
  setAppState('idle');
}

/** Mediation places (deck.gl, loaded on demand) in the access view. */
async function syncPoints(req: ViewRequest): Promise<void> {
  const wanted = req.view === 'access';
  if (!wanted) {
    points?.setPlaces(null);
    return;
  }
  if (!territoryMap || !meta?.bbox) return;
  const map = territoryMap;
  const bbox = meta.bbox;
  pointsLoading ??= (async () => {
    const { createPointsOverlay, loadPlaces } = await import('./map/points.ts');
    const [overlay, places] = await Promise.all([createPointsOverlay(map.map, { places: (count) => `${count} · ${t('places')}` }), loadPlaces(bbox)]);
    overlay.onHover((hover) => {
      if (!hover) return tooltip?.hide();
      tooltip?.show(hover.x, hover.y, { code: '', name: t('places'), value: hover.text, lines: [] });
    });
    points = overlay;
    placesCache = places;
  })();
  await pointsLoading;
  if (window.terrinum.view !== 'access' || !points) return;
  const drawn = points.drawn();
  points.setPlaces(placesCache);
  await drawn;
}
let placesCache: Awaited<ReturnType<typeof import('./map/points.ts').loadPlaces>> = null;

function changeState(patch: Partial<MapState>): void {
  state = { ...state, ...patch };
  update().catch(showError);
}

// ---------- Multi-speed ranking ----------

function renderRanking(req: ViewRequest, lang: Lang): void {
  if (req.view !== 'multispeed' || current?.data.view !== 'multispeed') {
    ui.ranking.hidden = true;
    ui.ranking.replaceChildren();
    syncSide();
    return;
  }
  const rows = ranking(current.data.multispeed.rows);
  const heading = document.createElement('h2');
  heading.className = 'panel-title';
  heading.textContent = t('ranking', lang);
  const hint = document.createElement('p');
  hint.className = 'panel-meta';
  hint.textContent = t('rankingHint', lang);
  const list = document.createElement('ol');
  list.className = 'ranking-list';
  for (const row of rows) list.append(rankingItem(row, req, lang));
  const spread = document.createElement('div');
  spread.id = 'spread';
  spread.className = 'spread';
  ui.ranking.replaceChildren(heading, hint, list, spread);
  ui.ranking.hidden = false;
  syncSide();
  if (state.selection?.level === 'epci') void drawSpread(state.selection.code, req, lang);
}

function rankingItem(row: MultispeedRow, req: ViewRequest, lang: Lang): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.code = row.code;
  item.dataset.multispeed = String(row.multispeed);
  if (row.multispeed) item.className = 'flagged';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link-button';
  button.textContent = row.name;
  button.addEventListener('click', () => {
    select('epci', row.code, { zoom: true }).catch(showError);
    void drawSpread(row.code, req, lang);
  });
  const detail = document.createElement('span');
  detail.className = 'ranking-detail';
  const gini = row.gini === null ? '—' : row.gini.toFixed(2);
  detail.textContent = ` ${t('gini', lang)} ${gini}${row.multispeed ? ` · ${t('multispeedFlag', lang)}` : ''}`;
  item.append(button, detail);
  return item;
}

/** Strip chart of the member communes' values of an EPCI, with the EPCI's own value as reference. */
async function drawSpread(code: string, req: ViewRequest, lang: Lang): Promise<void> {
  const stats = await fetchStats({ level: 'commune', indicator: req.indicator.id, vintage: req.vintage, within: `epci:${code}`, fields: SPREAD_FIELDS });
  const container = document.getElementById('spread');
  if (!container || current?.data.view !== 'multispeed') return;
  const epci = current.data.multispeed.rows.find((r) => r.code === code);
  const title = document.createElement('h3');
  title.className = 'panel-heading';
  title.textContent = `${t('spread', lang)} — ${epci?.name ?? code}`;
  const chart = stripChart(
    stats.rows.map((r) => ({ code: r.code, name: r.name, value: r.value })),
    { unit: req.indicator.unit, lang, title: title.textContent, reference: epci?.value ?? null, color: PALETTE[3]!, referenceColor: MULTISPEED_OUTLINE_COLOR },
  );
  container.dataset.code = code;
  container.replaceChildren(title, chart);
}

// ---------- Selection and panel ----------

function syncSide(): void {
  ui.side.hidden = ui.ranking.hidden && ui.details.hidden;
}

function factSheetHref(p: TerritoryProfile): string | null {
  if (p.level !== 'commune' && p.level !== 'epci') return null;
  const req = current?.request;
  const params = new URLSearchParams({ level: p.level, code: p.code, lang: getLang() });
  if (req && !isTimeless(req.view)) {
    params.set('indicator', req.indicator.id);
    params.set('vintage', req.vintage);
  }
  return `fiche.html?${params}`;
}

function showProfile(p: TerritoryProfile): void {
  const req = current?.request;
  renderPanel(ui.details, p, {
    lang: getLang(),
    indicator: req?.indicator.id ?? DEFAULT_INDICATOR,
    vintage: req && !isTimeless(req.view) ? req.vintage : null,
    onSelect: (level, code) => {
      select(level, code, { zoom: true }).catch(showError);
    },
    onClose: () => clearSelection(),
    factSheetHref: factSheetHref(p),
  });
  syncSide();
}

async function select(level: Level, code: string, options: { zoom?: boolean; bbox?: Bbox | null; focus?: boolean } = {}): Promise<void> {
  state = { ...state, selection: { level, code } };
  territoryMap?.setSelected({ level, code });
  writeUrl();
  const loaded = await fetchTerritory(level, code, indicators);
  if (state.selection?.code !== code || state.selection.level !== level) return;
  profile = loaded;
  showProfile(loaded);
  if (current) renderExportLinks(current.request, getLang());
  if (options.focus !== false) document.getElementById('panel-title')?.focus({ preventScroll: true });
  const bbox = options.bbox ?? loaded.bbox;
  if (options.zoom && bbox && territoryMap) {
    moving = true;
    try {
      territoryMap.fit(bbox, fitPadding());
    } finally {
      moving = false;
    }
    // the camera moved: the level by zoom may change, and the URL keeps the new camera
    await update();
  }
}

function clearSelection(): void {
  state = { ...state, selection: null };
  profile = null;
  territoryMap?.setSelected(null);
  ui.details.hidden = true;
  ui.details.replaceChildren();
  syncSide();
  if (current) renderExportLinks(current.request, getLang());
  writeUrl();
}

// ---------- Errors, language ----------

function showError(error: unknown): void {
  console.error(error);
  setAppState('error');
  ui.status.hidden = false;
  ui.status.textContent = `${t('loadError')} — ${error instanceof Error ? error.message : String(error)}`;
  rejectReady(error);
}

function switchLanguage(lang: Lang): void {
  if (lang === getLang()) return;
  setLang(lang);
  state = { ...state, lang };
  window.terrinum.lang = lang;
  renderStaticTexts(lang);
  if (current) {
    const result = buildView(current.data, current.request, lang);
    current = { ...current, result };
    renderControls(current.request, lang);
    present(current.request, result, lang);
  }
  tooltip?.hide();
  writeUrl();
}

function toggleTable(open: boolean, focus = false): void {
  ui.tableSection.hidden = !open;
  ui.tableToggle.setAttribute('aria-expanded', String(open));
  if (state.table !== open) {
    state = { ...state, table: open };
    writeUrl();
  }
  if (open) table?.refresh();
  // the map area changed size
  territoryMap?.map.resize();
  if (open && focus) ui.tableSection.focus();
}

// ---------- Start ----------

function bindControls(): void {
  ui.langGroup.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-lang]');
    const lang = parseLang(button?.dataset.lang);
    if (lang) switchLanguage(lang);
  });
  ui.indicatorSelect.addEventListener('change', () => changeState({ indicator: ui.indicatorSelect.value }));
  ui.usageSelect.addEventListener('change', () => changeState({ usage: ui.usageSelect.value }));
  ui.levelSelect.addEventListener('change', () => changeState({ level: ui.levelSelect.value === 'auto' ? null : (ui.levelSelect.value as Level) }));
  ui.methodSelect.addEventListener('change', () => changeState({ method: ui.methodSelect.value as Method }));
  ui.tableToggle.addEventListener('click', () => toggleTable(Boolean(ui.tableSection.hidden), true));
  // "Intégrer": embed snippets of the current view (client/src/embed/snippet-dialog.ts, loaded on demand)
  void import('./embed/snippet-dialog.ts').then(({ mountEmbedButton }) => mountEmbedButton(ui.tableToggle.parentElement!, () => ({ ...state, selectionName: profile?.name ?? null })));
  ui.skipLink.addEventListener('click', (event) => {
    event.preventDefault();
    toggleTable(true, true);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !ui.details.hidden && ui.details.contains(document.activeElement)) clearSelection();
  });
}

async function start(): Promise<void> {
  // sent by boot.ts before this code loaded: the catalogue and the tiles' descriptions
  const early = earlyRequests();
  state = parseState(window.location.search);
  setLang(state.lang);
  window.terrinum.lang = state.lang;
  renderStaticTexts(state.lang);
  setAppState('loading');
  bindControls();

  // the map is created as soon as /api/meta answers (extent, basemap), while the indicators still load
  // without tiles (GeoJSON outlines), the rows are not held back for the first tiles (update): when a link names
  // its level (or its camera), ask for them now, while the map is created
  const earlyLevel = levelsOf(state.view).length === 1 ? levelsOf(state.view)[0]! : (state.level ?? (state.camera ? levelForZoom(state.camera.zoom) : null));
  const { view: earlyView, indicator: earlyIndicator, vintage: earlyVintage } = state;
  if (earlyLevel && earlyView !== 'access') {
    void early.tiles.then((tiles) => {
      if (!tiles) prefetchStats(earlyView, earlyLevel, earlyIndicator ?? DEFAULT_INDICATOR, earlyVintage);
    });
  }
  meta = await early.meta;
  const creating = TerritoryMap.create({
    container: ui.map,
    basemapStyle: meta.basemapStyle,
    bbox: meta.bbox,
    camera: state.camera,
    geometry: early.geometry,
    tileJson: early.tiles,
  });
  creating.catch(() => undefined);
  indicators = await early.indicators;
  if (!indicators.length) throw new Error('The server lists no indicator');
  window.terrinum.marks.catalogue = performance.now();
  territoryMap = await creating;
  window.terrinum.map = territoryMap.map;
  window.terrinum.territoryMap = territoryMap;
  window.terrinum.marks.map = performance.now();
  window.terrinum.geometry = territoryMap.mode;
  fitPending = !state.camera;
  renderStaticTexts(state.lang);

  tooltip = new Tooltip(ui.map);
  table = new DataTable(ui.tableContainer, (code) => {
    const level = current?.request.view === 'multispeed' ? 'epci' : (current?.request.level ?? 'commune');
    select(level, code, { zoom: true }).catch(showError);
  });
  timeline = new Timeline(ui.timeline, ui.vintageRange, ui.vintageOutput, ui.playButton, async (vintage) => {
    state = { ...state, vintage };
    await update().catch(showError);
  });
  search = new SearchBox(ui.searchInput, ui.searchResults, ui.searchStatus, (result: SearchResult) => {
    select(result.level, result.code, { zoom: true, bbox: result.bbox ?? null }).catch(showError);
  }, () => current?.request.indicator.id ?? DEFAULT_INDICATOR);
  search.setLang(state.lang);
  territoryMap.onHover((event) => {
    if (!event || !current) return tooltip?.hide();
    const model = current.result.tooltip(event.code, event.name);
    if (model) tooltip?.show(event.x, event.y, model);
    else tooltip?.hide();
  });
  territoryMap.onClick((event) => {
    select(event.level, event.code, { focus: false }).catch(showError);
  });
  territoryMap.map.on('moveend', () => {
    if (!current || moving || window.terrinum.state === 'loading') {
      if (territoryMap) state = { ...state, camera: roundCamera(territoryMap.camera()) };
      return;
    }
    writeUrl();
    // automatic level: zooming across a threshold redraws at the new level
    if (state.level === null && chosenLevel(state.view) !== current.request.level) update().catch(showError);
  });

  if (state.table) toggleTable(true);
  await update();
  window.terrinum.readyAt = performance.now();
  if (state.selection) await select(state.selection.level, state.selection.code, { focus: false });
  resolveReady();
}

start().catch(showError);
