/**
 * Two small SVG charts, no chart library: a time series (one line per territory, e.g. a commune and its
 * département) and a strip chart of member communes' values (a one-dimensional beeswarm). Both are images with
 * a text alternative; every mark carries its numbers in data-* attributes.
 */
import { rgbToCss, type Rgb } from '../colors.ts';
import { formatBound, formatValue, vintageLabel, type Lang, type Unit } from '../i18n.ts';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, parent?: SVGElement): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  parent?.append(node);
  return node;
}

/** Vintages in time order by end date ('2024' ends with '2024-Q4'), as the server compares them. */
export function compareVintages(a: string, b: string): number {
  const end = (v: string) => {
    const quarter = /^(\d{4})-Q([1-4])$/.exec(v);
    if (quarter) return `${quarter[1]}-${String(Number(quarter[2]) * 3).padStart(2, '0')}`;
    if (/^\d{4}-\d{2}$/.test(v)) return v;
    return `${v.slice(0, 4)}-12`;
  };
  return end(a).localeCompare(end(b)) || a.localeCompare(b);
}

export interface Series {
  label: string;
  color: Rgb;
  points: { vintage: string; value: number | null }[];
  dashed?: boolean;
}

export interface ChartOptions {
  unit: Unit;
  lang: Lang;
  width?: number;
  height?: number;
  title: string;
}

function niceMax(unit: Unit, max: number): number {
  if (unit === 'ratio') return max > 1 ? Math.ceil(max * 10) / 10 : 1;
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / magnitude) * magnitude;
}

export function timeSeriesChart(series: Series[], options: ChartOptions): SVGSVGElement {
  const width = options.width ?? 320;
  const height = options.height ?? 150;
  const margin = { top: 10, right: 22, bottom: 28, left: 44 };
  const vintages = [...new Set(series.flatMap((s) => s.points.map((p) => p.vintage)))].sort(compareVintages);
  const values = series.flatMap((s) => s.points.map((p) => p.value)).filter((v): v is number => v !== null);
  const yMax = niceMax(options.unit, Math.max(0, ...values));
  const x = (vintage: string) => margin.left + (vintages.length <= 1 ? 0.5 : vintages.indexOf(vintage) / (vintages.length - 1)) * (width - margin.left - margin.right);
  const y = (value: number) => margin.top + (1 - value / yMax) * (height - margin.top - margin.bottom);

  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart chart-series' });
  const description = series
    .map((s) => `${s.label} : ${s.points.map((p) => `${vintageLabel(p.vintage, options.lang)} ${p.value === null ? '—' : formatValue(p.value, options.unit, options.lang)}`).join(', ')}`)
    .join(' ; ');
  svg('title', {}, root).textContent = options.title;
  svg('desc', {}, root).textContent = description;
  root.setAttribute('aria-label', `${options.title}. ${description}`);

  for (const tick of [0, yMax / 2, yMax]) {
    svg('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), class: 'chart-grid' }, root);
    const label = svg('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'chart-tick' }, root);
    label.textContent = formatBound(tick, options.unit, options.lang);
  }
  const shown = vintages.length <= 4 ? vintages : [vintages[0]!, vintages[Math.floor((vintages.length - 1) / 2)]!, vintages.at(-1)!];
  for (const [i, vintage] of shown.entries()) {
    // the last label ends at its point: it would overflow the right edge if centred
    const anchor = shown.length > 1 && i === shown.length - 1 ? 'end' : shown.length > 1 && i === 0 ? 'start' : 'middle';
    const label = svg('text', { x: x(vintage), y: height - 8, 'text-anchor': anchor, class: 'chart-tick' }, root);
    label.textContent = vintageLabel(vintage, options.lang);
  }
  for (const s of series) {
    const group = svg('g', { class: 'chart-line', 'data-label': s.label }, root);
    const points = s.points.filter((p): p is { vintage: string; value: number } => p.value !== null).sort((a, b) => compareVintages(a.vintage, b.vintage));
    if (points.length > 1) {
      svg(
        'polyline',
        {
          points: points.map((p) => `${x(p.vintage).toFixed(1)},${y(p.value).toFixed(1)}`).join(' '),
          fill: 'none',
          stroke: rgbToCss(s.color),
          'stroke-width': 2,
          ...(s.dashed ? { 'stroke-dasharray': '4 3' } : {}),
        },
        group,
      );
    }
    for (const p of points) {
      svg('circle', { cx: x(p.vintage), cy: y(p.value), r: 3, fill: rgbToCss(s.color), 'data-vintage': p.vintage, 'data-value': p.value }, group);
    }
  }
  return root;
}

export interface StripValue {
  code: string;
  name: string;
  value: number | null;
}

/** Values along one axis; overlapping dots stack upwards and downwards (a simple beeswarm). */
export function stripChart(values: StripValue[], options: ChartOptions & { reference?: number | null; color: Rgb; referenceColor: Rgb }): SVGSVGElement {
  const width = options.width ?? 320;
  const height = options.height ?? 120;
  const margin = { top: 8, right: 12, bottom: 24, left: 12 };
  const radius = 4;
  const present = values.filter((v): v is StripValue & { value: number } => v.value !== null).sort((a, b) => a.value - b.value);
  const xMax = niceMax(options.unit, Math.max(0, ...present.map((v) => v.value)));
  const x = (value: number) => margin.left + (value / xMax) * (width - margin.left - margin.right);
  const middle = margin.top + (height - margin.top - margin.bottom) / 2;

  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart chart-strip' });
  const description = present.map((v) => `${v.name} ${formatValue(v.value, options.unit, options.lang)}`).join(', ');
  svg('title', {}, root).textContent = options.title;
  svg('desc', {}, root).textContent = description;
  root.setAttribute('aria-label', `${options.title}. ${description}`);

  svg('line', { x1: margin.left, x2: width - margin.right, y1: height - margin.bottom, y2: height - margin.bottom, class: 'chart-axis' }, root);
  for (const tick of [0, xMax / 2, xMax]) {
    const label = svg('text', { x: x(tick), y: height - 6, 'text-anchor': 'middle', class: 'chart-tick' }, root);
    label.textContent = formatBound(tick, options.unit, options.lang);
  }
  if (options.reference !== null && options.reference !== undefined) {
    svg('line', { x1: x(options.reference), x2: x(options.reference), y1: margin.top, y2: height - margin.bottom, stroke: rgbToCss(options.referenceColor), 'stroke-width': 2, 'stroke-dasharray': '3 2', class: 'chart-reference' }, root);
  }
  // stack: each dot takes the lowest free slot (0, +1, −1, +2, …) not overlapping a placed dot
  const placed: { cx: number; cy: number }[] = [];
  for (const v of present) {
    const cx = x(v.value);
    let slot = 0;
    const slotY = (n: number) => middle + (n % 2 === 0 ? -1 : 1) * Math.ceil(n / 2) * (radius * 2 + 1);
    while (placed.some((p) => Math.abs(p.cx - cx) < radius * 2 && Math.abs(p.cy - slotY(slot)) < radius * 2)) slot++;
    const cy = Math.max(margin.top + radius, Math.min(height - margin.bottom - radius, slotY(slot)));
    placed.push({ cx, cy });
    const dot = svg('circle', { cx, cy, r: radius, fill: rgbToCss(options.color), 'fill-opacity': 0.8, 'data-code': v.code, 'data-value': v.value }, root);
    svg('title', {}, dot).textContent = `${v.name} : ${formatValue(v.value, options.unit, options.lang)}`;
  }
  return root;
}
