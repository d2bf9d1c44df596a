/**
 * The embed page's state, shared by its entry (main.ts) and the map's code (page.ts): `window.terrinumEmbed`
 * for tests and the benchmark, body[data-state] (loading, idle, error) and the error box.
 */
import type { Level } from '../api.ts';
import type { TerritoryMap } from '../map/territory-map.ts';
import type { ViewResult } from '../views/types.ts';
import type { EmbedConfig } from './config.ts';
import { embedText } from './strings.ts';
import { t } from '../i18n.ts';

export type EmbedState = 'loading' | 'idle' | 'error';

/** Handle for tests and the benchmark: `window.terrinumEmbed`. */
export interface EmbedHandle {
  state: EmbedState;
  /** Resolves when the map is completely drawn (same moment as body[data-state=idle]). */
  ready: Promise<void>;
  config: EmbedConfig | null;
  view: string | null;
  level: Level | null;
  indicator: string | null;
  vintage: string | null;
  result: ViewResult | null;
  territoryMap: TerritoryMap | null;
  /** Milliseconds from the start of navigation to the first complete render. */
  firstRenderMs: number | null;
  /** Milliseconds from the start of navigation to each step of the first render. */
  steps: Record<string, number>;
}

declare global {
  interface Window {
    terrinumEmbed: EmbedHandle;
  }
}

let resolveReady: () => void = () => {};
let rejectReady: (error: unknown) => void = () => {};
const ready = new Promise<void>((resolve, reject) => {
  resolveReady = resolve;
  rejectReady = reject;
});
ready.catch(() => {}); // reported in the page

window.terrinumEmbed = {
  state: 'loading',
  ready,
  config: null,
  view: null,
  level: null,
  indicator: null,
  vintage: null,
  result: null,
  territoryMap: null,
  firstRenderMs: null,
  steps: {},
};

/** Notes when a step of the first render is done (milliseconds since navigation start, for the benchmark). */
export const mark = (step: string) => (window.terrinumEmbed.steps[step] ??= Math.round(performance.now()));

export function setState(state: EmbedState): void {
  window.terrinumEmbed.state = state;
  document.body.dataset.state = state;
  document.getElementById('map')?.setAttribute('aria-busy', String(state === 'loading'));
  if (state === 'idle') resolveReady();
}

/** The error box over the map: what failed, in the page's language. */
export function showError(error: unknown, config: Pick<EmbedConfig, 'lang'> | null): void {
  console.error(error);
  const lang = config?.lang ?? 'fr';
  const message = error instanceof Error ? error.message : String(error);
  const status = document.getElementById('status')!;
  const title = document.createElement('p');
  title.className = 'embed-status-title';
  title.textContent = embedText('cannotShow', lang);
  const detail = document.createElement('p');
  detail.className = 'embed-status-detail';
  detail.textContent = /webgl/i.test(message) ? embedText('noWebgl', lang) : `${t('loadError', lang)} — ${message}`;
  status.setAttribute('role', 'alert');
  status.replaceChildren(title, detail);
  setState('error');
  rejectReady(error);
}

