import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import type { EmbedConfig } from '../../client/src/embed/config.ts';
import type { Config } from '../config.ts';
import type { ApiDeps } from './api.routes.ts';
import { HttpError } from './errors.ts';
import { cspDirectives, noNulCharacters } from './security.ts';
import { indicatorParam, levelParam, text, vintageParam, withinParam } from './validation.ts';

/**
 * The embeddable widget (issue #6):
 * - `GET /embed?indicator=&usage=&level=&within=LEVEL:CODE&vintage=&view=&classes=&lang=&legend=1&controls=0`:
 *   the page for an `<iframe>` (client/embed.html, built). Its parameters are validated and resolved here (the
 *   `within` territory's name and extent included) and written into the page as JSON, so that the page draws at
 *   once. Bad parameters: the status of the problem (400, 404) with an error box naming the parameter, for a
 *   browser; application/problem+json for any other client.
 * - `GET /embed.js`: the `<terrinum-map>` loader (client/src/embed/loader.ts), a classic script other sites load.
 *
 * Framing: /embed is the page meant to be framed by other sites, so it sets its own CSP with the configured
 * `frame-ancestors` (TERRINUM_FRAME_ANCESTORS), whatever the rest of the application sends, and no
 * X-Frame-Options unless only terrinum itself may frame it. The embed sets and reads no cookie.
 */

const CLIENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'client');
const LEVELS = ['commune', 'epci', 'departement', 'region'] as const;
type Level = (typeof LEVELS)[number];
const VIEWS = ['choropleth', 'bivariate', 'typology', 'gap', 'multispeed', 'clusters', 'access'] as const;
const USAGE_AXIS_VIEWS: readonly string[] = ['bivariate', 'typology', 'gap'];
const COMMUNE_VIEWS: readonly string[] = ['clusters', 'multispeed'];
const DEFAULT_INDICATOR = 'fibre_coverage';
/** The level drawn inside a `within` territory when none is asked for: its communes (a région: its EPCI). */
const FILL_LEVEL: Record<Level, Level> = { commune: 'commune', epci: 'commune', departement: 'commune', region: 'epci' };
/** Indicators of this theme are the coverage axis of the bivariate views (as in the client's views/load.ts). */
const COVERAGE_THEME = 'infrastructure';

const oneOf = <T extends string>(values: readonly [T, ...T[]]) => text().pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }));
const flag = text().regex(/^[01]$/, 'must be 0 or 1').transform((value) => value === '1');

const embedQuery = z.object({
  indicator: indicatorParam.optional(),
  usage: indicatorParam.optional(),
  level: levelParam.optional(),
  within: withinParam.optional(),
  vintage: vintageParam.optional(),
  view: oneOf(VIEWS).optional(),
  classes: oneOf(['fixed', 'quantile', 'jenks']).optional(),
  lang: oneOf(['fr', 'en']).optional(),
  legend: flag.optional(),
  controls: flag.optional(),
});
type EmbedQuery = z.output<typeof embedQuery>;

/** The query, validated: a bad parameter is a 400 that names it (empty values count as absent). */
function parseQuery(req: Request): EmbedQuery {
  let nul: unknown = null;
  noNulCharacters(req, {} as Response, (error?: unknown) => {
    nul = error ?? null;
  });
  if (nul) throw nul;
  const input = Object.fromEntries(Object.entries(req.query).filter(([, value]) => value !== ''));
  const result = embedQuery.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const parameter = issue.path.length ? String(issue.path[0]) : undefined;
  const value = parameter === undefined ? undefined : input[parameter];
  const shown = Array.isArray(value) ? ' (given more than once)' : typeof value === 'string' ? ` (got "${value.slice(0, 80)}")` : '';
  throw new HttpError(400, 'invalid-parameter', `query parameter ${parameter ?? ''}: ${issue.message}${shown}`, parameter);
}

/** The page's configuration: every id checked against the catalogue, the territory found. */
async function resolveConfig({ config, resolve, territories, catalogue }: ApiDeps, query: EmbedQuery): Promise<{ embed: EmbedConfig; title: string }> {
  const view = query.view ?? 'choropleth';
  const lang = query.lang ?? 'fr';
  let level: Level | null = null;
  if (query.level) {
    await resolve.level(query.level);
    if (!LEVELS.includes(query.level as Level)) throw new HttpError(400, 'invalid-parameter', `query parameter level: the embed draws ${LEVELS.join(', ')}`, 'level');
    level = query.level as Level;
    if (COMMUNE_VIEWS.includes(view) && level !== 'commune') {
      throw new HttpError(400, 'invalid-parameter', `query parameter level: the ${view} view is drawn at commune level only (got "${level}")`, 'level');
    }
  }
  const indicator = query.indicator ? await resolve.indicator(query.indicator) : null;
  const usage = query.usage ? await resolve.indicator(query.usage, 'usage') : null;
  const usageAxis = USAGE_AXIS_VIEWS.includes(view);
  if (usageAxis) {
    if (indicator && indicator.theme !== COVERAGE_THEME) {
      throw new HttpError(400, 'invalid-parameter', `query parameter indicator: the ${view} view compares a coverage indicator (theme ${COVERAGE_THEME}) with a usage indicator; "${indicator.id}" is not a coverage indicator`, 'indicator');
    }
    if (usage && usage.theme === COVERAGE_THEME) {
      throw new HttpError(400, 'invalid-parameter', `query parameter usage: "${usage.id}" is a coverage indicator; usage= takes a usage indicator`, 'usage');
    }
  }
  // Defaults as the planners' map chooses them (client/src/views/load.ts), resolved here so that the page can
  // ask for its data at once: fibre coverage, the first usage rate, the latest vintage.
  const indicators = await catalogue.indicators();
  const coverage = (i: { theme: string }) => i.theme === COVERAGE_THEME;
  const drawn =
    view === 'access'
      ? null
      : (indicator ?? indicators.find((i) => i.id === DEFAULT_INDICATOR && (!usageAxis || coverage(i))) ?? (usageAxis ? indicators.find(coverage) : indicators[0]) ?? null);
  const axis = usageAxis ? (usage ?? indicators.find((i) => !coverage(i) && i.unit === 'ratio') ?? indicators.find((i) => !coverage(i)) ?? null) : null;
  if (view !== 'access' && !drawn) throw new HttpError(404, 'no-data', 'no indicator to draw: the catalogue is empty', 'indicator');
  if (usageAxis && !axis) throw new HttpError(404, 'no-data', `no usage indicator to compare coverage with in the ${view} view`, 'usage');
  const vintage = drawn ? resolve.vintage(drawn, query.vintage) : null;
  let within: EmbedConfig['within'] = null;
  if (query.within) {
    await resolve.within(query.within);
    const [withinLevel = '', ...rest] = query.within.split(':');
    if (!LEVELS.includes(withinLevel as Level)) throw new HttpError(400, 'invalid-parameter', `query parameter within: the embed frames a ${LEVELS.join(', ')}`, 'within');
    const territory = await territories.profile(withinLevel, rest.join(':'));
    if (!territory) throw new HttpError(404, 'unknown-territory', `no ${withinLevel} with code "${rest.join(':')}"`, 'within');
    const bbox = territory.xmin === null ? null : ([territory.xmin, territory.ymin!, territory.xmax!, territory.ymax!] as [number, number, number, number]);
    within = { level: withinLevel as Level, code: territory.code, name: territory.name, bbox };
  }
  const fill = COMMUNE_VIEWS.includes(view) ? 'commune' : (level ?? (within ? FILL_LEVEL[within.level] : null));
  const embed: EmbedConfig = {
    view,
    indicator: drawn?.id ?? null,
    usage: axis?.id ?? null,
    level,
    fill,
    within,
    vintage,
    method: query.classes ?? null,
    lang,
    legend: query.legend ?? true,
    controls: query.controls ?? false,
    basemapStyle: config.basemapStyle,
  };
  const label = drawn ? (lang === 'en' ? drawn.label_en : drawn.label_fr) : 'terrinum';
  return { embed, title: [label, within?.name].filter(Boolean).join(' — ') };
}

// ---------- Pages ----------

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside a <script> data block: nothing in it may close the element or start a comment. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/** The built embed.html, re-read when a new build replaces it; null when the client is not built. */
function templateLoader(): () => Promise<string | null> {
  const file = path.join(CLIENT_DIR, 'embed.html');
  let cached: { mtimeMs: number; html: string } | null = null;
  return async () => {
    const stat = await fs.stat(file).catch(() => null);
    if (!stat) return null;
    if (cached?.mtimeMs !== stat.mtimeMs) cached = { mtimeMs: stat.mtimeMs, html: await fs.readFile(file, 'utf8') };
    return cached.html;
  };
}

function embedPage(template: string, embed: EmbedConfig, title: string): string {
  return template
    // replacer functions: a name or label holding `$&` or `$'` must be written as it is, not as a replacement pattern
    .replace(/<html lang="[^"]*">/, () => `<html lang="${embed.lang}">`)
    .replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(title)} · terrinum</title>`)
    .replace('</head>', () => `<script type="application/json" id="terrinum-embed-config">${scriptJson(embed)}</script>\n  </head>`);
}

const ERROR_TEXTS = {
  fr: {
    title: 'Cette carte ne peut pas s’afficher',
    parameter: 'Paramètre en cause',
    hint: 'Vérifiez le code d’intégration : la carte complète le génère (bouton « Intégrer »).',
    docs: 'Paramètres acceptés',
  },
  en: {
    title: 'This map cannot be shown',
    parameter: 'Parameter at fault',
    hint: 'Check the embed code: the full map generates it (“Embed” button).',
    docs: 'Accepted parameters',
  },
};

/** The error box, in a page of its own (no script: it shows even when the client is not built). */
function errorPage(error: HttpError, lang: 'fr' | 'en'): string {
  const texts = ERROR_TEXTS[lang];
  const parameter = error.parameter ? `<p><strong>${texts.parameter}&nbsp;:</strong> <code>${escapeHtml(error.parameter)}</code></p>` : '';
  return `<!doctype html>
<html lang="${lang}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="robots" content="noindex" />
    <title>${escapeHtml(texts.title)} · terrinum</title>
    <style>
      body { margin: 0; padding: 12px; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif; color: #1f2933; }
      .embed-error { max-width: 560px; padding: 10px 14px; background: #fdecea; border: 1px solid #f5b7b1; border-radius: 6px; color: #8a1c13; }
      .embed-error h1 { margin: 0 0 6px; font-size: 16px; }
      .embed-error p { margin: 4px 0; overflow-wrap: anywhere; }
      .embed-error .hint { color: #52606d; font-size: 13px; }
    </style>
  </head>
  <body data-state="error">
    <div id="embed-error" class="embed-error" role="alert" data-status="${error.status}" data-code="${escapeHtml(error.code)}" data-parameter="${escapeHtml(error.parameter ?? '')}">
      <h1>${escapeHtml(texts.title)}</h1>
      ${parameter}
      <p class="detail">${escapeHtml(error.message)}</p>
      <p class="hint">${escapeHtml(texts.hint)} ${texts.docs}&nbsp;: <code>indicator, usage, level, within, vintage, view, classes, lang, legend, controls</code>.</p>
    </div>
  </body>
</html>
`;
}

/** /embed may be framed by the configured ancestors: its own CSP, and X-Frame-Options only for "same origin only". */
function frameable(config: Readonly<Config>) {
  const csp = helmet.contentSecurityPolicy({ useDefaults: false, directives: cspDirectives(config) });
  const sameOriginOnly = config.frameAncestors.length === 1 && config.frameAncestors[0] === "'self'";
  return (req: Request, res: Response, next: NextFunction) => {
    res.removeHeader('X-Frame-Options');
    if (sameOriginOnly) res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    csp(req, res, next);
  };
}

/** GET /embed and GET /embed.js. */
export function embedRouter(deps: ApiDeps): Router {
  const router = Router();
  const template = templateLoader();

  router.get('/embed', frameable(deps.config), async (req, res, next) => {
    res.setHeader('Vary', 'Accept');
    // no cookie is ever set: a shared cache may keep the page a few minutes (the data changes with imports only)
    res.setHeader('Cache-Control', 'public, max-age=300');
    let page: { embed: EmbedConfig; title: string };
    try {
      page = await resolveConfig(deps, parseQuery(req));
    } catch (error) {
      res.setHeader('Cache-Control', 'no-store');
      if (!(error instanceof HttpError) || req.accepts(['json', 'html']) !== 'html') return next(error);
      return res.status(error.status).type('html').send(errorPage(error, req.query.lang === 'en' ? 'en' : 'fr'));
    }
    const html = await template();
    if (!html) {
      res.setHeader('Cache-Control', 'no-store');
      return res.status(503).type('text/plain').send('The embed page is not built: run `npm run build` (npm start does it for you).\n');
    }
    res.type('html').send(embedPage(html, page.embed, page.title));
  });

  router.get('/embed.js', (_req, res, next) => {
    // loaded by <script src> from other sites: cross-origin resource, short cache (its URL never changes)
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('Cache-Control', 'public, max-age=600');
    res.sendFile(path.join(CLIENT_DIR, 'embed.js'), { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } }, (error?: Error) => {
      if (!error) return;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !res.headersSent) {
        res.setHeader('Cache-Control', 'no-store');
        res.status(503).type('text/plain').send('embed.js is not built: run `npm run build` (npm start does it for you).\n');
        return;
      }
      next(error);
    });
  });

  return router;
}
