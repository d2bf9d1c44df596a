/** Hover tooltip: a view's tooltip model (name, headline value, lines such as numerator / denominator). */
import type { TooltipModel } from '../views/types.ts';

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
  show(x: number, y: number, model: TooltipModel): void {
    const name = document.createElement('div');
    name.className = 'tooltip-name';
    name.textContent = model.name;
    const code = document.createElement('span');
    code.className = 'tooltip-code';
    code.textContent = model.code;
    name.append(' ', code);
    const value = document.createElement('div');
    value.className = 'tooltip-value';
    value.textContent = model.value;
    const lines = model.lines.map((line) => {
      const node = document.createElement('div');
      node.className = line.className;
      node.textContent = line.text;
      for (const [key, data] of Object.entries(line.data ?? {})) node.dataset[key] = data;
      return node;
    });
    this.element.replaceChildren(name, value, ...lines);
    this.element.dataset.code = model.code;
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
