/**
 * The accessible alternative of every map view: the same numbers as a table, sortable by any column (header
 * buttons, aria-sort), paged so that 35,000 communes stay light, each name a button that selects the territory.
 */
import { formatInteger, t, type Lang } from '../i18n.ts';
import type { TableModel, TableRow } from '../views/types.ts';

const PAGE_SIZE = 100;

export interface TableSort {
  key: string;
  descending: boolean;
}

export function compareRows(key: string, descending: boolean) {
  return (a: TableRow, b: TableRow): number => {
    const x = a.values[key] ?? null;
    const y = b.values[key] ?? null;
    // no value always last, whichever the direction
    if (x === null || y === null) return x === y ? a.code.localeCompare(b.code) : x === null ? 1 : -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'fr', { numeric: true });
    return (descending ? -order : order) || a.code.localeCompare(b.code);
  };
}

export class DataTable {
  private model: TableModel | null = null;
  private sorted: TableRow[] = [];
  private sort: TableSort = { key: 'name', descending: false };
  private page = 0;
  private lang: Lang = 'fr';
  private stale = false;
  private readonly table = document.createElement('table');
  private readonly pager = document.createElement('div');

  constructor(
    private readonly container: HTMLElement,
    private readonly onSelect: (code: string) => void,
  ) {
    this.table.id = 'data-table';
    this.table.className = 'data-table';
    this.pager.className = 'data-table-pager';
    container.append(this.table, this.pager);
  }

  /** Takes a view's table; sorted and drawn now if the table is on screen, else when it is shown (refresh). */
  render(model: TableModel, lang: Lang, keepPage = false): void {
    const sameColumns = this.model?.columns.map((c) => c.key).join() === model.columns.map((c) => c.key).join();
    this.model = model;
    this.lang = lang;
    if (!sameColumns || !model.columns.some((c) => c.key === this.sort.key)) this.sort = { key: 'name', descending: false };
    if (!keepPage) this.page = 0;
    this.stale = true;
    if (this.container.closest('[hidden]') === null) this.refresh();
  }

  /** Sorts and draws the last table given, if it changed since it was last drawn. */
  refresh(): void {
    if (!this.stale || !this.model) return;
    this.stale = false;
    this.sorted = [...this.model.rows].sort(compareRows(this.sort.key, this.sort.descending));
    this.draw();
  }

  /** Sorts by a column (a second click reverses); exposed for tests and keyboard users alike. */
  sortBy(key: string): void {
    if (!this.model) return;
    const column = this.model.columns.find((c) => c.key === key);
    this.sort = this.sort.key === key ? { key, descending: !this.sort.descending } : { key, descending: Boolean(column?.numeric) };
    this.page = 0;
    this.sorted = [...this.model.rows].sort(compareRows(this.sort.key, this.sort.descending));
    this.draw();
    this.table.querySelector<HTMLButtonElement>(`th[data-key="${key}"] button`)?.focus();
  }

  /** Shows the page holding a territory and returns its row, if any. */
  reveal(code: string): HTMLTableRowElement | null {
    this.refresh();
    const index = this.sorted.findIndex((row) => row.code === code);
    if (index < 0) return null;
    const page = Math.floor(index / PAGE_SIZE);
    if (page !== this.page) {
      this.page = page;
      this.draw();
    }
    return this.table.querySelector<HTMLTableRowElement>(`tr[data-code="${CSS.escape(code)}"]`);
  }

  private draw(): void {
    const model = this.model;
    if (!model) return;
    const lang = this.lang;
    const caption = document.createElement('caption');
    const title = document.createElement('strong');
    title.textContent = model.caption;
    const hint = document.createElement('span');
    hint.className = 'data-table-hint';
    hint.textContent = ` ${t('tableCaption', lang)}`;
    caption.append(title, hint);

    const head = document.createElement('thead');
    const headRow = document.createElement('tr');
    for (const column of model.columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.dataset.key = column.key;
      if (column.numeric) th.className = 'numeric';
      th.setAttribute('aria-sort', this.sort.key === column.key ? (this.sort.descending ? 'descending' : 'ascending') : 'none');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = column.label;
      button.addEventListener('click', () => this.sortBy(column.key));
      th.append(button);
      headRow.append(th);
    }
    head.append(headRow);

    const body = document.createElement('tbody');
    const start = this.page * PAGE_SIZE;
    for (const row of this.sorted.slice(start, start + PAGE_SIZE)) {
      const tr = document.createElement('tr');
      tr.dataset.code = row.code;
      for (const column of model.columns) {
        const cell = document.createElement(column.key === 'name' ? 'th' : 'td');
        cell.dataset.key = column.key;
        if (column.key === 'name') {
          (cell as HTMLTableCellElement).scope = 'row';
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'link-button';
          button.textContent = row.text.name ?? row.code;
          button.addEventListener('click', () => this.onSelect(row.code));
          cell.append(button);
        } else {
          cell.textContent = row.text[column.key] ?? '';
          if (column.numeric) cell.className = 'numeric';
          const value = row.values[column.key];
          if (value !== null && value !== undefined) cell.dataset.value = String(value);
        }
        tr.append(cell);
      }
      body.append(tr);
    }
    this.table.replaceChildren(caption, head, body);
    this.drawPager(start);
  }

  private drawPager(start: number): void {
    const total = this.sorted.length;
    if (total <= PAGE_SIZE) {
      this.pager.replaceChildren();
      return;
    }
    const lang = this.lang;
    const status = document.createElement('span');
    status.textContent = t('pageOf', lang, { from: formatInteger(start + 1, lang), to: formatInteger(Math.min(total, start + PAGE_SIZE), lang), total: formatInteger(total, lang) });
    const previous = document.createElement('button');
    previous.type = 'button';
    previous.textContent = `← ${t('previousPage', lang)}`;
    previous.disabled = this.page === 0;
    previous.addEventListener('click', () => {
      this.page--;
      this.draw();
    });
    const next = document.createElement('button');
    next.type = 'button';
    next.textContent = `${t('nextPage', lang)} →`;
    next.disabled = start + PAGE_SIZE >= total;
    next.addEventListener('click', () => {
      this.page++;
      this.draw();
    });
    this.pager.replaceChildren(previous, status, next);
  }
}
