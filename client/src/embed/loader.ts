/**
 * embed.js, the script a council website includes to show terrinum maps:
 *
 *   <script src="https://HOST/embed.js"></script>
 *   <terrinum-map indicator="fibre_coverage" within="epci:200043495"></terrinum-map>
 *
 * It defines the `<terrinum-map>` element: a shadow root holding an iframe of HOST/embed with the element's
 * attributes as query parameters (the iframe isolates the map's styles and scripts from the host page, and
 * the host page's from the map). Attributes are observed: changing one reloads the frame with the new view.
 * HOST is where this script came from. Built as one classic script (IIFE) by build.ts; loading it twice is
 * harmless.
 */
import { EMBED_PARAMS, cssHeight, embedUrl, type EmbedParams } from './params.ts';

/** This script's own URL: `document.currentScript` is only set while it first runs. */
function scriptUrl(): string {
  const current = document.currentScript as HTMLScriptElement | null;
  if (current?.src) return current.src;
  const found = [...document.querySelectorAll<HTMLScriptElement>('script[src]')].find((s) => /\/embed\.js([?#]|$)/.test(s.src));
  return found?.src ?? window.location.href;
}

const BASE = scriptUrl();

/**
 * Full width; the height from the `height` attribute, else proportional to the element's width within sane
 * bounds (room for title, map, legend and sources on a phone as on a desktop). A constructed style sheet: host
 * pages whose Content-Security-Policy refuses inline styles still style the element.
 */
const CSS = `
:host { display: block; width: 100%; max-width: 100%; container-type: inline-size; }
:host([hidden]) { display: none; }
iframe { display: block; width: 100%; height: clamp(420px, 75vw, 640px); height: clamp(420px, 75cqw, 640px); border: 0; }
`;

const FRAME_TITLE = { fr: 'Carte terrinum', en: 'terrinum map' };

function styleRoot(root: ShadowRoot): void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
}

class TerrinumMapElement extends HTMLElement {
  static observedAttributes = [...EMBED_PARAMS, 'height', 'title'];

  private readonly frame: HTMLIFrameElement;
  private scheduled = false;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    styleRoot(root);
    this.frame = document.createElement('iframe');
    this.frame.setAttribute('part', 'frame');
    this.frame.loading = 'lazy';
    // the map needs its scripts and its own origin (to call its API); it may open the full map in a new tab
    this.frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox');
    root.append(this.frame);
  }

  connectedCallback(): void {
    this.update();
  }

  /** Several attributes set in a row give one new frame URL. */
  attributeChangedCallback(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.update();
    });
  }

  /** The URL of the embedded page. */
  get src(): string {
    return this.frame.src;
  }

  private update(): void {
    if (!this.isConnected) return;
    const params: EmbedParams = {};
    for (const name of EMBED_PARAMS) params[name] = this.getAttribute(name);
    const src = embedUrl(BASE, params);
    if (this.frame.getAttribute('src') !== src) this.frame.setAttribute('src', src);
    const height = cssHeight(this.getAttribute('height'));
    if (height) this.frame.style.height = height;
    else this.frame.style.removeProperty('height');
    const lang = this.getAttribute('lang') === 'en' ? 'en' : 'fr';
    this.frame.title = this.getAttribute('title') || FRAME_TITLE[lang];
  }
}

if (!customElements.get('terrinum-map')) customElements.define('terrinum-map', TerrinumMapElement);
