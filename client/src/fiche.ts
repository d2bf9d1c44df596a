/**
 * The printable fact sheet of a commune or an EPCI (fiche.html?level=&code=&indicator=&vintage=&lang=): what a
 * mayor or an EPCI president reads. Key figures with ranks, a map extract, the indicator over time beside its
 * département, the comparison with the département, sources and vintages. The map is drawn by the same module as
 * the planners' map, then copied into an image so that printing (or page.pdf) never meets a blank WebGL canvas.
 */
import './style.css';
import './fiche.css';
import { fetchIndicators, fetchMeta, type Bbox, type Indicator, type Level } from './api.ts';
import { PALETTE, EPCI_OUTLINE_COLOR } from './colors.ts';
import { formatInteger, formatPoints, formatRank, formatValue, localized, parseLang, setLang, t, tKey, vintageLabel, type Lang } from './i18n.ts';
import { TerritoryMap } from './map/territory-map.ts';
import { fetchTerritory, valueAt, type TerritoryIndicator, type TerritoryProfile } from './territory.ts';
import { timeSeriesChart } from './ui/charts.ts';
import { renderLegend } from './ui/legend.ts';
import { sourcesSection } from './ui/panel.ts';
import { loadView, resolveVintage } from './views/load.ts';

declare global {
  interface Window {
    terrinumFiche: { ready: Promise<void>; profile: TerritoryProfile | null; departement: TerritoryProfile | null };
  }
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let resolveReady: () => void = () => {};
const ready = new Promise<void>((resolve) => (resolveReady = resolve));
window.terrinumFiche = { ready, profile: null, departement: null };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The value shown for an indicator: the sheet's indicator at the sheet's vintage, the others at their latest. */
function shownVintage(indicator: TerritoryIndicator, main: Indicator, vintage: string): string | null {
  return indicator.id === main.id ? vintage : indicator.latest_vintage;
}

function figures(profile: TerritoryProfile, main: Indicator, vintage: string, lang: Lang): HTMLElement[] {
  return profile.indicators.map((indicator) => {
    const when = shownVintage(indicator, main, vintage);
    const value = valueAt(indicator, when);
    const card = el('div', `figure${indicator.id === main.id ? ' figure-main' : ''}`);
    card.dataset.indicator = indicator.id;
    const number = el('p', 'figure-value', value && value.value !== null ? formatValue(value.value, indicator.unit, lang) : t('noData', lang));
    if (value?.value !== null && value?.value !== undefined) number.dataset.value = String(value.value);
    const label = el('p', 'figure-label', localized(indicator.label, lang));
    const detail: string[] = [];
    if (value && value.numerator !== null && value.denominator !== null) detail.push(`${formatInteger(value.numerator, lang)} / ${formatInteger(value.denominator, lang)}`);
    if (when) detail.push(vintageLabel(when, lang));
    const rank = indicator.rank?.parent ?? indicator.rank?.national;
    if (rank) detail.push(formatRank(rank.rank, rank.of, lang));
    card.append(number, label, el('p', 'figure-detail', detail.join(' · ')));
    return card;
  });
}

function comparison(profile: TerritoryProfile, departement: TerritoryProfile | null, main: Indicator, vintage: string, lang: Lang): HTMLTableSectionElement[] {
  const head = el('thead');
  const row = el('tr');
  for (const label of [t('indicator', lang), profile.name, departement?.name ?? tKey('level_departement', lang), t('difference', lang)]) {
    const th = el('th', '', label);
    th.scope = 'col';
    row.append(th);
  }
  head.append(row);
  const body = el('tbody');
  for (const indicator of profile.indicators) {
    const when = shownVintage(indicator, main, vintage);
    const own = valueAt(indicator, when)?.value ?? null;
    const theirs = valueAt(departement?.indicators.find((i) => i.id === indicator.id), when)?.value ?? null;
    const tr = el('tr');
    tr.dataset.indicator = indicator.id;
    const name = el('th', '', `${localized(indicator.label, lang)}${when ? ` (${vintageLabel(when, lang)})` : ''}`);
    name.scope = 'row';
    const cell = (value: number | null) => {
      const td = el('td', 'numeric', value === null ? '—' : formatValue(value, indicator.unit, lang));
      if (value !== null) td.dataset.value = String(value);
      return td;
    };
    const difference = own !== null && theirs !== null ? (indicator.unit === 'ratio' ? formatPoints((own - theirs) * 100, lang) : formatValue(own - theirs, indicator.unit, lang)) : '—';
    tr.append(name, cell(own), cell(theirs), el('td', 'numeric', difference));
    body.append(tr);
  }
  return [head, body];
}

/** The territory's bbox widened on each side (a commune much more than an EPCI): its neighbours give the context. */
function around(bbox: Bbox, level: Level): Bbox {
  const factor = level === 'commune' ? 1.5 : 0.25;
  const dx = (bbox[2] - bbox[0]) * factor;
  const dy = (bbox[3] - bbox[1]) * factor;
  return [bbox[0] - dx, bbox[1] - dy, bbox[2] + dx, bbox[3] + dy];
}

async function drawMap(profile: TerritoryProfile, main: Indicator, vintage: string, lang: Lang, basemapStyle: string | null, departementCode: string | null): Promise<void> {
  const container = byId<HTMLDivElement>('sheet-map');
  const bbox = profile.bbox ? around(profile.bbox, profile.level) : null;
  const map = await TerritoryMap.create({ container, basemapStyle, bbox, interactive: false, preserveDrawingBuffer: true, navigation: false, pixelRatio: 2 });
  const { result } = await loadView(
    { view: 'choropleth', level: 'commune', indicator: main, usage: null, vintage, method: 'fixed', within: departementCode ? `departement:${departementCode}` : null },
    lang,
  );
  await map.show({ level: 'commune', outline: 'epci' });
  map.setColors('commune', result.colors);
  map.setSelected({ level: profile.level, code: profile.code });
  if (bbox) map.fit(bbox, 8);
  await map.rendered();
  renderLegend(byId('sheet-legend'), { ...result.legend, outlines: [...result.legend.outlines, { key: 'selected', color: [0, 0, 0], label: profile.name, widthPx: 3 }] }, lang);
  // a picture of the map for printing: WebGL canvases do not always survive the print pipeline
  const image = byId<HTMLImageElement>('sheet-map-image');
  image.src = map.map.getCanvas().toDataURL('image/png');
  image.alt = `${t('mapLabel', lang)} — ${localized(main.label, lang)}, ${vintageLabel(vintage, lang)}, ${profile.name}`;
  await image.decode();
  image.hidden = false;
  container.hidden = true;
  map.map.remove();
}

async function start(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const lang = parseLang(params.get('lang')) ?? 'fr';
  setLang(lang);
  const level = (params.get('level') === 'epci' ? 'epci' : 'commune') as Level;
  const code = params.get('code') ?? '';
  const [meta, indicators] = await Promise.all([fetchMeta(), fetchIndicators()]);
  const main = indicators.find((i) => i.id === params.get('indicator')) ?? indicators.find((i) => i.id === 'fibre_coverage') ?? indicators[0]!;
  const vintage = resolveVintage(main, params.get('vintage'));
  const profile = await fetchTerritory(level, code, indicators);
  const departementRef = profile.parents.find((p) => p.level === 'departement') ?? null;
  const departement = departementRef ? await fetchTerritory('departement', departementRef.code, indicators) : null;
  window.terrinumFiche.profile = profile;
  window.terrinumFiche.departement = departement;

  document.title = `${t('factSheet', lang)} — ${profile.name}`;
  byId('back-link').textContent = `← ${t('backToMap', lang)}`;
  byId<HTMLAnchorElement>('back-link').href = `./?${new URLSearchParams({ view: 'choropleth', indicator: main.id, vintage, sel: `${level}:${code}`, lang })}`;
  byId('print-button').textContent = t('print', lang);
  byId('print-button').addEventListener('click', () => window.print());
  byId('sheet-kind').textContent = `${t('factSheet', lang).replace(/ \(.*\)$/, '')} · ${profile.level_label ? localized(profile.level_label, lang) : tKey(`level_${level}`, lang)}`;
  byId('sheet-title').textContent = profile.name;
  const parents = profile.parents.map((p) => p.name).join(' · ');
  byId('sheet-meta').textContent = [profile.code, profile.population !== null ? `${t('population', lang)} ${formatInteger(profile.population, lang)}` : null, parents].filter(Boolean).join(' · ');
  const synthetic = byId('sheet-synthetic');
  synthetic.textContent = t('syntheticBanner', lang);
  synthetic.hidden = !meta.synthetic;
  byId('figures-title').textContent = t('keyFigures', lang);
  byId('figures').replaceChildren(...figures(profile, main, vintage, lang));
  byId('comparison-title').textContent = t('comparison', lang);
  byId('comparison').replaceChildren(...comparison(profile, departement, main, vintage, lang));
  byId('sources-title').textContent = t('sourcesAndVintages', lang);
  const sources = sourcesSection(profile, lang);
  sources.querySelector('h3')?.remove();
  byId('sheet-sources').replaceChildren(sources);
  byId('sheet-footer').textContent = t('generatedOn', lang, { date: new Date().toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long' }) });

  const own = profile.indicators.find((i) => i.id === main.id);
  const theirs = departement?.indicators.find((i) => i.id === main.id);
  byId('chart-title').textContent = `${t('timeSeries', lang)} — ${localized(main.label, lang)}`;
  if (own) {
    const series = [{ label: profile.name, color: PALETTE[4]!, points: own.values.map((v) => ({ vintage: v.vintage, value: v.value })) }];
    if (theirs) series.push({ label: theirs ? departement!.name : '', color: EPCI_OUTLINE_COLOR, points: theirs.values.map((v) => ({ vintage: v.vintage, value: v.value })), dashed: true } as never);
    const chart = timeSeriesChart(series, { unit: main.unit, lang, title: `${localized(main.label, lang)} — ${profile.name}`, width: 360, height: 190 });
    const key = el('ul', 'chart-key');
    for (const s of series) {
      const item = el('li', '', s.label);
      item.style.setProperty('--key-color', `rgb(${s.color.join(',')})`);
      if ((s as { dashed?: boolean }).dashed) item.classList.add('dashed');
      key.append(item);
    }
    byId('sheet-chart').replaceChildren(chart, key);
  }
  byId('map-title').textContent = `${localized(main.label, lang)} — ${vintageLabel(vintage, lang)}`;
  await drawMap(profile, main, vintage, lang, meta.basemapStyle, departementRef?.code ?? null);
  byId('sheet').setAttribute('aria-busy', 'false');
  document.body.dataset.state = 'idle';
  resolveReady();
}

start().catch((error) => {
  console.error(error);
  document.body.dataset.state = 'error';
  const status = byId('status');
  status.hidden = false;
  status.textContent = `${t('loadError')} — ${error instanceof Error ? error.message : String(error)}`;
});
