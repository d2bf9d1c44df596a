/**
 * The embed's parameters, as the `/embed` page, the `<terrinum-map>` element and the "Intégrer" dialog share
 * them. Pure (no DOM): the loader script (embed.js) bundles it, so it stays small and dependency-free.
 */

/** Views an embed can show (the planners' map's views). */
export const EMBED_VIEWS = ['choropleth', 'bivariate', 'typology', 'gap', 'multispeed', 'clusters', 'access'] as const;
export type EmbedView = (typeof EMBED_VIEWS)[number];

/** Query parameters of `/embed`, in the order they are written; the element's attributes of the same names. */
export const EMBED_PARAMS = ['indicator', 'usage', 'level', 'within', 'vintage', 'view', 'classes', 'lang', 'legend', 'controls'] as const;
export type EmbedParam = (typeof EMBED_PARAMS)[number];

/** What an embed shows: every field optional (the server fills in defaults: latest vintage, French, legend on). */
export type EmbedParams = Partial<Record<EmbedParam, string | null>>;

/** Default height of an embed, in CSS pixels (the iframe snippet and the element without `height`). */
export const DEFAULT_HEIGHT = 480;

/** `?indicator=…&within=…`: the parameters given, in a stable order; empty ones left out. */
export function embedQuery(params: EmbedParams): string {
  const search = new URLSearchParams();
  for (const name of EMBED_PARAMS) {
    const value = params[name];
    if (value !== null && value !== undefined && String(value).trim() !== '') search.set(name, String(value).trim());
  }
  return search.toString();
}

/** The `/embed` URL of `params` on the terrinum at `base` (its origin, or the URL of its embed.js). */
export function embedUrl(base: string, params: EmbedParams): string {
  // relative: a terrinum served under a path prefix (https://host/terrinum/embed.js) keeps it
  const url = new URL('embed', base);
  url.search = embedQuery(params);
  return url.href;
}

/**
 * A CSS height from the `height` attribute: a bare number is pixels; a CSS length (px, em, rem, vh, svh, dvh,
 * %) is kept; anything else is null (the default applies).
 */
export function cssHeight(value: string | null | undefined): string | null {
  const text = (value ?? '').trim();
  if (/^\d{1,4}(\.\d+)?$/.test(text)) return `${text}px`;
  if (/^\d{1,4}(\.\d+)?(px|em|rem|vh|svh|dvh|lvh|%)$/.test(text)) return text;
  return null;
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SnippetOptions {
  /** Pixels (iframe) or a CSS length (element); default DEFAULT_HEIGHT pixels. */
  height?: string | null;
  /** The iframe's accessible name. */
  title: string;
}

/** `<iframe src="https://HOST/embed?…">`: works everywhere, including where scripts from other hosts are not allowed. */
export function iframeSnippet(origin: string, params: EmbedParams, options: SnippetOptions): string {
  const height = cssHeight(options.height) ?? `${DEFAULT_HEIGHT}px`;
  const src = embedUrl(origin, params);
  return (
    `<iframe src="${escapeAttribute(src)}" title="${escapeAttribute(options.title)}" ` +
    `style="width: 100%; height: ${escapeAttribute(height)}; border: 0;" loading="lazy" ` +
    `sandbox="allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"></iframe>`
  );
}

/** `<script src="https://HOST/embed.js"></script>` then `<terrinum-map …></terrinum-map>`. */
export function elementSnippet(origin: string, params: EmbedParams, options: Omit<SnippetOptions, 'title'> = {}): string {
  const script = new URL('embed.js', origin).href;
  const attributes = EMBED_PARAMS.filter((name) => params[name] !== null && params[name] !== undefined && String(params[name]).trim() !== '').map(
    (name) => ` ${name}="${escapeAttribute(String(params[name]).trim())}"`,
  );
  const height = cssHeight(options.height);
  if (height) attributes.push(` height="${escapeAttribute(options.height!.trim())}"`);
  return `<script src="${escapeAttribute(script)}"></script>\n<terrinum-map${attributes.join('')}></terrinum-map>`;
}
