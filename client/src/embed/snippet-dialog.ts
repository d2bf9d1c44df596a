/**
 * The "Intégrer" dialog of the planners' map: the two snippets that embed the current view in another website,
 * `<script src=…/embed.js>` + `<terrinum-map …>` and a plain `<iframe>`, with a few options (territory, height,
 * legend, controls, language, pinned or latest vintage), copy buttons and a preview link.
 *
 * Wiring (planners' map): `mountEmbedButton(toolbar, () => state)` adds the button, or call
 * `openEmbedDialog(state)` from a button of your own. `state` is the map's MapState (state.ts).
 */
import './snippet-dialog.css';
import type { MapState } from '../state.ts';
import { DEFAULT_HEIGHT, elementSnippet, embedUrl, iframeSnippet, type EmbedParams } from './params.ts';
import { embedText, type EmbedStringKey } from './strings.ts';
import type { Lang } from '../i18n.ts';

/** What the dialog needs of the map's state (MapState fits), and the selected territory's name when known. */
export type EmbedDialogState = Pick<MapState, 'view' | 'indicator' | 'usage' | 'vintage' | 'level' | 'method' | 'selection' | 'lang'> & {
  selectionName?: string | null;
};

export interface EmbedOptions {
  /** Frame the selected territory (`within=`); false: the whole territory of the deployment. */
  territory: boolean;
  /** false: the embed shows the latest vintage whenever it is opened. */
  pinVintage: boolean;
  legend: boolean;
  controls: boolean;
  lang: Lang;
  /** CSS pixels. */
  height: number;
}

/** The embed's parameters for a state and options (defaults left out: short snippets). */
export function embedParams(state: EmbedDialogState, options: EmbedOptions): EmbedParams {
  return {
    indicator: state.view === 'access' ? null : state.indicator,
    usage: state.view === 'bivariate' || state.view === 'typology' || state.view === 'gap' ? state.usage : null,
    level: state.level,
    within: options.territory && state.selection ? `${state.selection.level}:${state.selection.code}` : null,
    vintage: options.pinVintage && state.view !== 'access' ? state.vintage : null,
    view: state.view === 'choropleth' ? null : state.view,
    classes: state.method,
    lang: options.lang === 'fr' ? null : options.lang,
    legend: options.legend ? null : '0',
    controls: options.controls ? '1' : null,
  };
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let counter = 0;
const uid = (name: string) => `embed-dialog-${name}-${++counter}`;

function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): HTMLLabelElement {
  const wrapper = element('label', 'embed-dialog-check');
  const input = element('input');
  input.type = 'checkbox';
  input.checked = checked;
  input.addEventListener('change', () => onChange(input.checked));
  wrapper.append(input, ` ${label}`);
  return wrapper;
}

async function copy(text: string, area: HTMLTextAreaElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard API (plain http, permissions): select the text for Ctrl+C, and try the old command
    area.focus();
    area.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** One snippet: a heading, the code (read-only, selectable) and its copy button. */
function snippetBlock(kind: 'element' | 'iframe', heading: string, lang: Lang): { block: HTMLElement; set(code: string): void } {
  const block = element('section', 'embed-dialog-snippet');
  block.dataset.snippet = kind;
  const id = uid(kind);
  const label = element('label', 'embed-dialog-label', heading);
  label.htmlFor = id;
  const area = element('textarea', 'embed-dialog-code');
  area.id = id;
  area.readOnly = true;
  area.spellcheck = false;
  area.rows = kind === 'element' ? 3 : 4;
  area.addEventListener('focus', () => area.select());
  const button = element('button', 'embed-dialog-copy', embedText('copy', lang));
  button.type = 'button';
  const status = element('span', 'embed-dialog-status');
  status.setAttribute('role', 'status');
  button.addEventListener('click', async () => {
    const done = await copy(area.value, area);
    status.textContent = embedText(done ? 'copied' : 'copyFailed', lang);
    window.setTimeout(() => (status.textContent = ''), 2500);
  });
  const actions = element('div', 'embed-dialog-actions');
  actions.append(button, status);
  block.append(label, area, actions);
  return { block, set: (code) => (area.value = code) };
}

/** Opens the dialog for `state`; it removes itself when closed. */
export function openEmbedDialog(state: EmbedDialogState, origin: string = window.location.origin): HTMLDialogElement {
  const lang = state.lang;
  const text = (key: EmbedStringKey) => embedText(key, lang);
  const options: EmbedOptions = { territory: Boolean(state.selection), pinVintage: Boolean(state.vintage), legend: true, controls: false, lang, height: DEFAULT_HEIGHT };

  const dialog = element('dialog', 'embed-dialog');
  const titleId = uid('title');
  dialog.setAttribute('aria-labelledby', titleId);
  const title = element('h2', 'embed-dialog-title', text('embedTitle'));
  title.id = titleId;
  const intro = element('p', 'embed-dialog-intro', text('embedIntro'));

  const settings = element('div', 'embed-dialog-options');
  if (state.selection) {
    const name = state.selectionName ?? `${state.selection.level} ${state.selection.code}`;
    settings.append(checkbox(`${text('optTerritory')}${lang === 'fr' ? '\u00a0: ' : ': '}${name}`, options.territory, (checked) => update({ territory: checked })));
  }
  if (state.vintage && state.view !== 'access') {
    settings.append(checkbox(embedText('optVintage', lang, { vintage: state.vintage }), options.pinVintage, (checked) => update({ pinVintage: checked })));
  }
  settings.append(
    checkbox(text('optLegend'), options.legend, (checked) => update({ legend: checked })),
    checkbox(text('optControls'), options.controls, (checked) => update({ controls: checked })),
  );
  const heightLabel = element('label', 'embed-dialog-field', `${text('optHeight')} `);
  const heightInput = element('input');
  heightInput.type = 'number';
  heightInput.min = '240';
  heightInput.max = '2000';
  heightInput.step = '20';
  heightInput.value = String(options.height);
  heightInput.addEventListener('input', () => {
    const value = Number(heightInput.value);
    if (Number.isFinite(value) && value >= 240 && value <= 2000) update({ height: Math.round(value) });
  });
  heightLabel.append(heightInput);
  const langLabel = element('label', 'embed-dialog-field', `${text('optLang')} `);
  const langSelect = element('select');
  langSelect.append(new Option('Français', 'fr', false, lang === 'fr'), new Option('English', 'en', false, lang === 'en'));
  langSelect.addEventListener('change', () => update({ lang: langSelect.value === 'en' ? 'en' : 'fr' }));
  langLabel.append(langSelect);
  settings.append(heightLabel, langLabel);

  const elementBlock = snippetBlock('element', text('snippetElement'), lang);
  const iframeBlock = snippetBlock('iframe', text('snippetIframe'), lang);
  const preview = element('a', 'embed-dialog-preview', text('preview'));
  preview.target = '_blank';
  preview.rel = 'noopener';
  const note = element('p', 'embed-dialog-note', text('frameNote'));
  const close = element('button', 'embed-dialog-close', text('close'));
  close.type = 'button';
  close.addEventListener('click', () => dialog.close());

  function update(patch: Partial<EmbedOptions>): void {
    Object.assign(options, patch);
    const params = embedParams(state, options);
    elementBlock.set(elementSnippet(origin, params, { height: options.height === DEFAULT_HEIGHT ? null : String(options.height) }));
    iframeBlock.set(iframeSnippet(origin, params, { height: String(options.height), title: embedText('frameTitle', options.lang) }));
    preview.href = embedUrl(origin, params);
  }
  update({});

  const footer = element('div', 'embed-dialog-footer');
  footer.append(preview, close);
  dialog.append(title, intro, settings, elementBlock.block, iframeBlock.block, note, footer);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * Adds the "Intégrer" button to `container` (the map's toolbar); it opens the dialog for the state of the
 * moment and follows the page's language (`<html lang>`, set by the map's language switch).
 */
export function mountEmbedButton(container: HTMLElement, getState: () => EmbedDialogState): HTMLButtonElement {
  const button = element('button', 'toggle embed-button');
  button.type = 'button';
  button.id = 'embed-button';
  button.setAttribute('aria-haspopup', 'dialog');
  const label = () => {
    const lang: Lang = document.documentElement.lang === 'en' ? 'en' : 'fr';
    button.textContent = embedText('embed', lang);
    button.title = embedText('embedTitle', lang);
  };
  label();
  new MutationObserver(label).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  button.addEventListener('click', () => {
    const dialog = openEmbedDialog(getState());
    // back to the button when the dialog closes (keyboard users)
    dialog.addEventListener('close', () => button.focus());
  });
  container.append(button);
  return button;
}
