/**
 * Search box (ARIA 1.2 combobox with a listbox popup): name, INSEE code or postal code through /api/search.
 * Keyboard: ↓/↑ move through the results, Enter picks, Escape closes. When the server has no search route, names
 * and codes of the loaded levels are searched in the browser (accent- and case-insensitive; no postal codes).
 */
import { LEVELS, fetchStats, getJsonOrNull, type Bbox, type Level } from '../api.ts';
import { t, tKey, type Lang } from '../i18n.ts';

export interface SearchResult {
  level: Level;
  code: string;
  name: string;
  departement?: { code: string; name: string } | null;
  postal_codes?: string[];
  bbox?: Bbox | null;
}

export const fold = (text: string) => text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[-'’]/g, ' ').trim();

let fallbackIndex: Promise<SearchResult[]> | null = null;

async function localSearch(q: string, indicator: string): Promise<SearchResult[]> {
  fallbackIndex ??= Promise.all(
    LEVELS.filter((l) => l !== 'region').map((level) => fetchStats({ level, indicator }).then((s) => s.rows.map((r) => ({ level, code: r.code, name: r.name })))),
  ).then((lists) => lists.flat());
  const folded = fold(q);
  const all = await fallbackIndex;
  const score = (r: SearchResult) => (r.code.toLowerCase() === folded ? 0 : fold(r.name) === folded ? 1 : fold(r.name).startsWith(folded) ? 2 : 3);
  return all
    .filter((r) => r.code.toLowerCase() === folded || fold(r.name).includes(folded))
    .sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))
    .slice(0, 8);
}

export async function search(q: string, fallbackIndicator: string): Promise<SearchResult[]> {
  const answer = await getJsonOrNull<{ results: SearchResult[] }>(`/api/search?${new URLSearchParams({ q, limit: '8' })}`);
  if (answer) return answer.results.filter((r) => LEVELS.includes(r.level));
  return localSearch(q, fallbackIndicator);
}

export class SearchBox {
  private results: SearchResult[] = [];
  private active = -1;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  private lang: Lang = 'fr';

  constructor(
    private readonly input: HTMLInputElement,
    private readonly listbox: HTMLUListElement,
    private readonly status: HTMLElement,
    private readonly onPick: (result: SearchResult) => void,
    private readonly fallbackIndicator: () => string,
  ) {
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listbox.id);
    listbox.setAttribute('role', 'listbox');
    listbox.hidden = true;
    input.addEventListener('input', () => this.schedule());
    input.addEventListener('keydown', (event) => this.onKey(event));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    listbox.addEventListener('mousedown', (event) => event.preventDefault()); // keep focus in the input
  }

  setLang(lang: Lang): void {
    this.lang = lang;
    this.input.placeholder = t('searchPlaceholder', lang);
    this.input.setAttribute('aria-label', `${t('search', lang)} : ${t('searchPlaceholder', lang)}`);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const q = this.input.value.trim();
    if (q.length < 2) {
      this.close();
      return;
    }
    this.timer = setTimeout(() => void this.run(q), 150);
  }

  private async run(q: string): Promise<void> {
    const generation = ++this.generation;
    let results: SearchResult[];
    try {
      results = await search(q, this.fallbackIndicator());
    } catch {
      results = [];
    }
    if (generation !== this.generation) return;
    this.results = results;
    this.active = results.length ? 0 : -1;
    this.draw();
  }

  private draw(): void {
    const items = this.results.map((result, i) => {
      const item = document.createElement('li');
      item.id = `${this.listbox.id}-${i}`;
      item.setAttribute('role', 'option');
      item.setAttribute('aria-selected', String(i === this.active));
      item.dataset.level = result.level;
      item.dataset.code = result.code;
      const name = document.createElement('span');
      name.className = 'search-name';
      name.textContent = result.name;
      const detail = document.createElement('span');
      detail.className = 'search-detail';
      const postal = result.postal_codes?.length ? ` · ${result.postal_codes.slice(0, 3).join(', ')}` : '';
      const departement = result.departement ? ` · ${result.departement.name}` : '';
      detail.textContent = `${tKey(`level_${result.level}`, this.lang)} ${result.code}${postal}${departement}`;
      item.append(name, detail);
      item.addEventListener('click', () => this.pick(i));
      return item;
    });
    this.listbox.replaceChildren(...items);
    const open = this.results.length > 0;
    this.listbox.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    if (this.active >= 0) this.input.setAttribute('aria-activedescendant', `${this.listbox.id}-${this.active}`);
    else this.input.removeAttribute('aria-activedescendant');
    this.status.textContent = this.results.length ? `${this.results.length} ${t('results', this.lang)}` : t('noResults', this.lang);
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!this.results.length) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.active = (this.active + step + this.results.length) % this.results.length;
      this.draw();
    } else if (event.key === 'Enter') {
      if (this.active >= 0) {
        event.preventDefault();
        this.pick(this.active);
      }
    } else if (event.key === 'Escape') {
      if (!this.listbox.hidden) event.preventDefault();
      this.close();
    }
  }

  private pick(index: number): void {
    const result = this.results[index];
    if (!result) return;
    this.input.value = result.name;
    this.close();
    this.onPick(result);
  }

  close(): void {
    this.generation++;
    this.results = [];
    this.active = -1;
    this.listbox.hidden = true;
    this.listbox.replaceChildren();
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }
}
