/**
 * The side panel of a selected territory: its indicators (value, numerator / denominator, rank among its peers),
 * the chosen indicator over time, its parents, members and neighbours, sources and vintages, and a link to its
 * printable fact sheet. Every number comes from /api/territories (or /api/stats) unchanged.
 */
import type { Level } from '../api.ts';
import { PALETTE } from '../colors.ts';
import { formatInteger, formatRank, formatValue, localized, t, tKey, vintageLabel, type Lang } from '../i18n.ts';
import { valueAt, type TerritoryIndicator, type TerritoryProfile } from '../territory.ts';
import { timeSeriesChart } from './charts.ts';

export interface PanelContext {
  lang: Lang;
  /** The indicator the map shows, and its vintage: their value is the one shown, and their series is charted. */
  indicator: string;
  vintage: string | null;
  onSelect: (level: Level, code: string) => void;
  onClose: () => void;
  factSheetHref: string | null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function linkButton(text: string, onClick: () => void): HTMLButtonElement {
  const button = el('button', 'link-button', text);
  button.type = 'button';
  button.addEventListener('click', onClick);
  return button;
}

function section(title: string, id: string): HTMLElement {
  const node = el('section', 'panel-section');
  node.dataset.section = id;
  const heading = el('h3', 'panel-heading', title);
  heading.id = `panel-${id}`;
  node.setAttribute('aria-labelledby', heading.id);
  node.append(heading);
  return node;
}

function rankCell(indicator: TerritoryIndicator, lang: Lang): HTMLTableCellElement {
  const cell = el('td', 'panel-rank');
  if (!indicator.rank) {
    cell.textContent = '—';
    return cell;
  }
  const { parent, national } = indicator.rank;
  const rankOf = (r: { rank: number; of: number }) => formatRank(r.rank, r.of, lang);
  // the parent (département) first: what a mayor compares with; the whole level after, when it differs
  const main = el('span', 'panel-rank-main', rankOf(parent ?? national));
  cell.append(main);
  if (parent) cell.append(el('span', 'panel-small', parent.name));
  if (parent && (parent.of !== national.of || parent.rank !== national.rank)) cell.append(el('span', 'panel-small', `${rankOf(national)} (${t('national', lang)})`));
  cell.dataset.rank = String(national.rank);
  cell.dataset.of = String(national.of);
  return cell;
}

function indicatorRow(indicator: TerritoryIndicator, context: PanelContext): HTMLTableRowElement {
  const { lang } = context;
  // the map's indicator at the map's vintage; the others at their latest
  const vintage = indicator.id === context.indicator && context.vintage ? context.vintage : indicator.latest_vintage;
  const value = valueAt(indicator, vintage);
  const row = el('tr');
  row.dataset.indicator = indicator.id;
  if (indicator.id === context.indicator) row.className = 'current';
  const name = el('th', '', localized(indicator.label, lang));
  name.scope = 'row';
  const cell = el('td', 'numeric');
  const shown = el('span', 'panel-value', value && value.value !== null ? formatValue(value.value, indicator.unit, lang) : t('noData', lang));
  if (value?.value !== null && value?.value !== undefined) shown.dataset.value = String(value.value);
  if (vintage) shown.dataset.vintage = vintage;
  const fraction = el('span', 'panel-fraction panel-small');
  const parts: string[] = [];
  if (value && value.numerator !== null && value.denominator !== null) {
    parts.push(`${formatInteger(value.numerator, lang)} / ${formatInteger(value.denominator, lang)}`);
    fraction.dataset.numerator = String(value.numerator);
    fraction.dataset.denominator = String(value.denominator);
  }
  if (vintage) parts.push(vintageLabel(vintage, lang));
  fraction.textContent = parts.join(' · ');
  cell.append(shown, fraction);
  row.append(name, cell, rankCell(indicator, lang));
  return row;
}

export function renderPanel(container: HTMLElement, profile: TerritoryProfile, context: PanelContext): void {
  const { lang } = context;
  const header = el('div', 'panel-header');
  const title = el('h2', 'panel-title', profile.name);
  title.id = 'panel-title';
  title.tabIndex = -1;
  const close = el('button', 'panel-close', '×');
  close.type = 'button';
  close.setAttribute('aria-label', t('close', lang));
  close.addEventListener('click', context.onClose);
  const meta = el('p', 'panel-meta', `${profile.level_label ? localized(profile.level_label, lang) : tKey(`level_${profile.level}`, lang)} · ${profile.code}`);
  if (profile.population !== null) meta.textContent += ` · ${t('population', lang)} ${formatInteger(profile.population, lang)}`;
  header.append(title, close);
  const children: HTMLElement[] = [header, meta];
  if (context.factSheetHref) {
    const link = el('a', 'panel-factsheet', t('factSheet', lang));
    link.href = context.factSheetHref;
    children.push(link);
  }

  const indicators = section(t('indicators', lang), 'indicators');
  const table = el('table', 'panel-table');
  const head = el('tr');
  for (const label of [t('indicator', lang), t('value', lang), t('rankAmong', lang, { peers: tKey(`plural_${profile.level}`, lang) })]) {
    const th = el('th', '', label);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  for (const indicator of profile.indicators) tbody.append(indicatorRow(indicator, context));
  table.append(thead, tbody);
  indicators.append(table);
  children.push(indicators);

  const current = profile.indicators.find((i) => i.id === context.indicator);
  if (current && current.values.length > 1) {
    const chart = section(`${t('timeSeries', lang)} — ${localized(current.label, lang)}`, 'series');
    chart.append(
      timeSeriesChart([{ label: profile.name, color: PALETTE[4]!, points: current.values.map((v) => ({ vintage: v.vintage, value: v.value })) }], {
        unit: current.unit,
        lang,
        title: `${localized(current.label, lang)} — ${profile.name}`,
      }),
    );
    children.push(chart);
  }

  if (profile.parents.length) {
    const parents = section(t('parents', lang), 'parents');
    const list = el('ul', 'panel-list');
    for (const parent of profile.parents) {
      const item = el('li');
      item.append(`${tKey(`level_${parent.level}`, lang)} : `, linkButton(parent.name, () => context.onSelect(parent.level as Level, parent.code)));
      list.append(item);
    }
    parents.append(list);
    children.push(parents);
  }
  if (profile.members?.communes.length) {
    const members = section(`${t('members', lang)} (${formatInteger(profile.members.count, lang)})`, 'members');
    const list = el('ul', 'panel-list panel-columns');
    for (const member of profile.members.communes.slice(0, 60)) {
      const item = el('li');
      item.append(linkButton(member.name, () => context.onSelect('commune', member.code)));
      list.append(item);
    }
    members.append(list);
    children.push(members);
  }
  if (profile.neighbours.length) {
    const neighbours = section(t('neighbours', lang), 'neighbours');
    const list = el('ul', 'panel-list panel-columns');
    for (const neighbour of profile.neighbours.slice(0, 30)) {
      const item = el('li');
      item.append(linkButton(neighbour.name, () => context.onSelect(profile.level, neighbour.code)));
      list.append(item);
    }
    neighbours.append(list);
    children.push(neighbours);
  }
  children.push(sourcesSection(profile, lang));
  container.replaceChildren(...children);
  container.dataset.level = profile.level;
  container.dataset.code = profile.code;
  container.hidden = false;
}

export function sourcesSection(profile: TerritoryProfile, lang: Lang): HTMLElement {
  const sources = section(t('sourcesAndVintages', lang), 'sources');
  const list = el('ul', 'panel-sources');
  for (const source of profile.sources) {
    const item = el('li');
    item.textContent = [source.publisher ?? source.name, source.name !== source.publisher ? source.name : null, source.vintage, source.licence].filter(Boolean).join(' · ');
    list.append(item);
  }
  const vintages = el('p', 'panel-vintages');
  vintages.textContent = profile.indicators
    .map((i) => `${localized(i.label, lang)} : ${i.values.map((v) => vintageLabel(v.vintage, lang)).join(', ')}`)
    .join(' — ');
  sources.append(list, vintages);
  return sources;
}
