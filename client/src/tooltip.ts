/** Hover tooltip of a commune: name, value, and the numerator / denominator it comes from. */
import type { StatsRow } from './api.ts';
import { denominatorUnit, formatInteger, formatValue, t, type Lang, type Unit } from './i18n.ts';

export interface TooltipContent {
  code: string;
  name: string;
  row: StatsRow | undefined;
  unit: Unit;
  indicatorId: string;
  lang: Lang;
}

const OFFSET = 14;

export class Tooltip {
  readonly element: HTMLDivElement;

  constructor(parent: HTMLElement) {
    this.element = document.createElement('div');
    this.element.id = 'tooltip';
    this.element.className = 'tooltip';
    this.element.setAttribute('role', 'tooltip');
    this.element.hidden = true;
    parent.append(this.element);
  }

  /** Shows the tooltip near (x, y), in pixels from the top-left corner of the map container. */
  show(x: number, y: number, content: TooltipContent): void {
    const { row, lang } = content;
    const name = document.createElement('div');
    name.className = 'tooltip-name';
    name.textContent = content.name;
    const code = document.createElement('span');
    code.className = 'tooltip-code';
    code.textContent = content.code;
    name.append(' ', code);

    const value = document.createElement('div');
    value.className = 'tooltip-value';
    value.textContent = row && row.value !== null ? formatValue(row.value, content.unit, lang) : t('noData', lang);

    const parts: HTMLElement[] = [name, value];
    if (row && row.numerator !== null && row.denominator !== null) {
      const fraction = document.createElement('div');
      fraction.className = 'tooltip-fraction';
      fraction.dataset.numerator = String(row.numerator);
      fraction.dataset.denominator = String(row.denominator);
      const unit = denominatorUnit(content.indicatorId, lang);
      fraction.textContent = `${formatInteger(row.numerator, lang)} / ${formatInteger(row.denominator, lang)}${unit ? ` ${unit}` : ''}`;
      parts.push(fraction);
    }
    this.element.replaceChildren(...parts);
    this.element.dataset.code = content.code;
    this.element.hidden = false;
    this.place(x, y);
  }

  hide(): void {
    this.element.hidden = true;
    delete this.element.dataset.code;
  }

  private place(x: number, y: number): void {
    const parent = this.element.parentElement;
    if (!parent) return;
    const { width, height } = this.element.getBoundingClientRect();
    const left = x + OFFSET + width > parent.clientWidth ? x - OFFSET - width : x + OFFSET;
    const top = y + OFFSET + height > parent.clientHeight ? y - OFFSET - height : y + OFFSET;
    this.element.style.transform = `translate(${Math.max(0, left)}px, ${Math.max(0, top)}px)`;
  }
}
