/**
 * Renders a view's legend model: a list of classes (colour, label, count) or the 3 × 3 bivariate square, then
 * the no-data row, the outlines drawn, and a note. Every row carries data-class / data-count / data-color.
 */
import { rgbToCss, type Rgb } from '../colors.ts';
import { formatInteger, t, type Lang } from '../i18n.ts';
import type { LegendEntry, LegendModel } from '../views/types.ts';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function swatch(color: Rgb): HTMLSpanElement {
  const node = element('span', 'legend-swatch');
  node.style.backgroundColor = rgbToCss(color);
  return node;
}

function row(entry: LegendEntry, lang: Lang): HTMLLIElement {
  const item = element('li', 'legend-row');
  item.dataset.class = entry.key;
  item.dataset.count = String(entry.count);
  item.dataset.color = rgbToCss(entry.color);
  item.append(swatch(entry.color), element('span', 'legend-label', entry.label), element('span', 'legend-count', formatInteger(entry.count, lang)));
  return item;
}

function grid(model: LegendModel, lang: Lang): HTMLElement {
  const wrapper = element('div', 'legend-bivariate');
  const square = element('ul', 'legend-grid');
  square.setAttribute('aria-label', `${model.axes?.x ?? ''} × ${model.axes?.y ?? ''}`);
  for (const entry of model.entries) {
    const cell = element('li', 'legend-cell');
    cell.dataset.class = entry.key;
    cell.dataset.count = String(entry.count);
    cell.dataset.color = rgbToCss(entry.color);
    cell.style.backgroundColor = rgbToCss(entry.color);
    cell.title = `${entry.label} : ${formatInteger(entry.count, lang)}`;
    const count = element('span', 'legend-cell-count', formatInteger(entry.count, lang));
    const label = element('span', 'visually-hidden', `${entry.label} : `);
    cell.append(label, count);
    square.append(cell);
  }
  const yAxis = element('span', 'legend-axis legend-axis-y', `${model.axes?.y ?? ''} →`);
  const xAxis = element('span', 'legend-axis legend-axis-x', `${model.axes?.x ?? ''} →`);
  wrapper.append(yAxis, square, xAxis);
  return wrapper;
}

export function renderLegend(container: HTMLElement, model: LegendModel, lang: Lang): void {
  const children: HTMLElement[] = [element('h2', 'legend-title', model.title), element('p', 'legend-subtitle', model.subtitle)];
  if (model.layout === 'grid') {
    children.push(grid(model, lang));
    const list = element('ul', 'legend-classes');
    list.append(row(model.noData, lang));
    children.push(list);
  } else {
    const header = element('div', 'legend-columns');
    header.setAttribute('aria-hidden', 'true');
    header.append(element('span', '', `${t('legendCountTitle', lang)} (${model.countNoun})`));
    const list = element('ul', 'legend-classes');
    for (const entry of model.entries) list.append(row(entry, lang));
    list.append(row(model.noData, lang));
    children.push(header, list);
  }
  for (const outline of model.outlines) {
    const item = element('div', 'legend-outline');
    item.dataset.outline = outline.key;
    const line = element('span', 'legend-outline-line');
    line.style.borderTopColor = rgbToCss(outline.color);
    line.style.borderTopWidth = `${Math.max(2, Math.round(outline.widthPx))}px`;
    item.append(line, element('span', '', outline.label));
    children.push(item);
  }
  if (model.note) children.push(element('p', 'legend-note', model.note));
  container.replaceChildren(...children);
  container.hidden = false;
}
