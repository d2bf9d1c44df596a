/** The legend box (bottom-left of the map): one row per class with its colour, bounds and commune count. */
import { classLabels, type ClassCounts, type Classification } from './classification.ts';
import { EPCI_OUTLINE_COLOR, NO_DATA_COLOR, rgbToCss, type Rgb } from './colors.ts';
import { formatInteger, t, type Lang } from './i18n.ts';

export interface LegendContent {
  title: string;
  vintage: string;
  classification: Classification;
  counts: ClassCounts;
  lang: Lang;
}

function row(classKey: string, color: Rgb, label: string, count: number, lang: Lang): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'legend-row';
  item.dataset.class = classKey;
  item.dataset.count = String(count);
  item.dataset.color = rgbToCss(color);
  const swatch = document.createElement('span');
  swatch.className = 'legend-swatch';
  swatch.style.backgroundColor = rgbToCss(color);
  const text = document.createElement('span');
  text.className = 'legend-label';
  text.textContent = label;
  const number = document.createElement('span');
  number.className = 'legend-count';
  number.textContent = formatInteger(count, lang);
  item.append(swatch, text, number);
  return item;
}

export function renderLegend(container: HTMLElement, content: LegendContent): void {
  const { classification, counts, lang } = content;
  const labels = classLabels(classification, lang);
  const title = document.createElement('h2');
  title.className = 'legend-title';
  title.textContent = content.title;
  const subtitle = document.createElement('p');
  subtitle.className = 'legend-subtitle';
  const total = counts.counts.reduce((sum, n) => sum + n, counts.noData);
  subtitle.textContent = `${content.vintage} · ${formatInteger(total, lang)} ${t('communes', lang)}`;

  const header = document.createElement('div');
  header.className = 'legend-columns';
  header.setAttribute('aria-hidden', 'true');
  const countHeader = document.createElement('span');
  countHeader.textContent = t('legendCountTitle', lang);
  header.append(countHeader);

  const list = document.createElement('ul');
  list.className = 'legend-classes';
  classification.breaks.forEach((_, i) => {
    list.append(row(String(i), classification.colors[i] as Rgb, labels[i] ?? '', counts.counts[i] ?? 0, lang));
  });
  list.append(row('no-data', NO_DATA_COLOR, t('noData', lang), counts.noData, lang));

  const outline = document.createElement('div');
  outline.className = 'legend-outline';
  const line = document.createElement('span');
  line.className = 'legend-outline-line';
  line.style.borderTopColor = rgbToCss(EPCI_OUTLINE_COLOR);
  const outlineLabel = document.createElement('span');
  outlineLabel.textContent = t('epciOutline', lang);
  outline.append(line, outlineLabel);

  container.replaceChildren(title, subtitle, header, list, outline);
  container.hidden = false;
}
