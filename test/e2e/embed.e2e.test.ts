/**
 * End-to-end test of the embeddable widget (GET /embed, GET /embed.js, <terrinum-map>): the built client, the
 * real server over the demo database, Debian Chromium (WebGL2 on SwiftShader), real pixels.
 *
 * terrinum listens on http://127.0.0.1:P and allows one other site to frame it and call its API
 * (TERRINUM_FRAME_ANCESTORS, TERRINUM_CORS_ORIGINS): a council website, http://localhost:A, served by a small
 * node:http server — another origin, and another site. A second website, http://localhost:B, is not allowed:
 * Chromium must refuse to show the frame (CSP frame-ancestors) and its API calls (CORS).
 * Screenshots are written to test-results/e2e/embed-*.png.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_DATA_COLOR, PALETTE, RATIO_BREAKS, MULTISPEED_OUTLINE_COLOR, PLACE_COLOR, PLACE_AGGREGATE_RAMP, classify, rgbToCss, type Rgb } from '../../client/src/colors.ts';
import { elementSnippet, iframeSnippet, type EmbedParams } from '../../client/src/embed/params.ts';
import { parseState } from '../../client/src/state.ts';
import { loadConfig } from '../../server/config.ts';
import { start, type Running } from '../../server/main.ts';
import { openDemoDatabase } from '../helpers/db.ts';
import { RESULTS_DIR, decodePng, ensureClientBuilt, interiorPoint, launchBrowser, near, normalizeSpaces, sample, type Raster } from './support.ts';

interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const EPCI = 'XE01';
/** The planted multi-speed EPCI of the demo territory. */
const MULTISPEED_EPCI = 'XE06';

let app: Running;
let terrinum: string;
let council: HostSite;
let stranger: HostSite;
let browser: Browser;
const pageErrors: string[] = [];
const timings: Record<string, number> = {};

// ---------- Host websites (other origins) ----------

interface HostSite {
  origin: string;
  server: http.Server;
}

/** A website embedding terrinum: /iframe and /element take the embed's parameters in their own query. */
function hostPage(url: URL): string {
  const params: EmbedParams = Object.fromEntries(url.searchParams);
  const height = url.searchParams.get('height');
  const body =
    url.pathname === '/iframe'
      ? iframeSnippet(terrinum, params, { title: 'Carte de la fibre', height })
      : url.pathname === '/element'
        ? elementSnippet(terrinum, params, { height })
        : '<p id="empty">page vide</p>';
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Site de la commune</title><style>body { margin: 0; font: 14px sans-serif; } .intro { margin: 0; padding: 4px 8px; height: 28px; }</style></head>
<body><p class="intro">Le déploiement de la fibre dans notre intercommunalité</p>${body}</body></html>`;
}

async function startHost(): Promise<HostSite> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(hostPage(url));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // "localhost" and "127.0.0.1" are different sites: the embed runs as a third-party frame, as on a real website
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

// ---------- Browser helpers ----------

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    timings[label] = Math.round(performance.now() - started);
  }
}

async function newPage(viewport = { width: 1000, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1, locale: 'fr-FR' });
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  return page;
}

/** The document of the embed's iframe (plain, or in <terrinum-map>'s shadow root: locators pierce it). */
async function embedFrame(page: Page, selector = 'iframe'): Promise<Frame> {
  const handle = await page.locator(selector).elementHandle({ timeout: 30_000 });
  const frame = await handle!.contentFrame();
  expect(frame, `${selector} has a document`).not.toBeNull();
  return frame!;
}

/** Waits for the embed to be drawn (body[data-state=idle]) or to fail. */
async function waitEmbed(frame: Frame): Promise<void> {
  try {
    await frame.waitForFunction(() => ['idle', 'error'].includes(document.body?.dataset.state ?? ''), null, { timeout: 60_000, polling: 100 });
  } catch (error) {
    // say how far it got
    const progress = await frame.evaluate(() => JSON.stringify({ url: location.href, state: document.body?.dataset.state, steps: window.terrinumEmbed?.steps })).catch(() => 'no document');
    throw new Error(`the embed did not finish drawing: ${progress}`, { cause: error });
  }
  const state = await frame.evaluate(() => document.body.dataset.state);
  expect(state, await frame.evaluate(() => document.getElementById('status')?.textContent ?? document.body.innerText.slice(0, 300))).toBe('idle');
}

/** Screenshot of the element holding the embed (the iframe, or the page itself), decoded. */
async function raster(page: Page, selector: string, name: string): Promise<Raster> {
  await page.mouse.move(1, 1);
  const png = await page.locator(selector).screenshot({ type: 'png' });
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `embed-${name}.png`), png);
  return decodePng(browser, png);
}

/** Pixels of `color` inside `rect` of the image. */
function countIn(image: Raster, rect: Rect, color: Rgb): number {
  let count = 0;
  for (let y = Math.max(0, Math.floor(rect.y)); y < Math.min(image.height, rect.y + rect.height); y++) {
    for (let x = Math.max(0, Math.floor(rect.x)); x < Math.min(image.width, rect.x + rect.width); x++) {
      const i = (y * image.width + x) * 4;
      if (near([image.data[i]!, image.data[i + 1]!, image.data[i + 2]!], color)) count++;
    }
  }
  return count;
}

const mapRect = (frame: Frame) =>
  frame.evaluate(() => {
    const r = document.getElementById('map')!.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });

/** Legend rows and cells as drawn: class key, colour, count. */
const legendOf = (frame: Frame) =>
  frame.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#legend [data-class]')].map((item) => ({
      key: item.dataset.class!,
      color: item.dataset.color!,
      count: Number(item.dataset.count),
      label: item.querySelector('.legend-label')?.textContent ?? item.title,
    })),
  );

const hexToRgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;

/** Projects lon/lat to pixels of the frame's viewport (= of the iframe's screenshot) and tells whether the map canvas is there. */
function project(frame: Frame, points: [number, number][]): Promise<{ x: number; y: number; onCanvas: boolean }[]> {
  return frame.evaluate((lonLats) => {
    const map = window.terrinumEmbed.territoryMap!.map;
    const box = map.getContainer().getBoundingClientRect();
    return lonLats.map(([lon, lat]) => {
      const { x, y } = map.project([lon, lat]);
      const onCanvas = [[0, 0], [6, 0], [-6, 0], [0, 6], [0, -6]].every(([dx, dy]) => document.elementFromPoint(box.left + x + dx!, box.top + y + dy!) === map.getCanvas());
      return { x: box.left + x, y: box.top + y, onCanvas };
    });
  }, points);
}

async function stats(query: string): Promise<StatsRow[]> {
  const response = await fetch(new URL(`/api/stats/commune?${query}`, terrinum));
  expect(response.status).toBe(200);
  return ((await response.json()) as { rows: StatsRow[] }).rows;
}

const ratioColor = (value: number | null | undefined): Rgb => {
  const index = classify(value, RATIO_BREAKS);
  return index < 0 ? NO_DATA_COLOR : PALETTE[index]!;
};

/** The `within` territory is whole on the map: its extent's corners project inside the map's box. */
async function expectFitted(frame: Frame): Promise<void> {
  const { corners, width, height } = await frame.evaluate(() => {
    const map = window.terrinumEmbed.territoryMap!.map;
    const [w, s, e, n] = window.terrinumEmbed.config!.within!.bbox!;
    const container = map.getContainer();
    return { corners: [map.project([w, n]), map.project([e, s])].map((p) => [p.x, p.y]), width: container.clientWidth, height: container.clientHeight };
  });
  for (const [x, y] of corners) {
    expect(x, `corner x in 0…${width}: ${JSON.stringify(corners)}`).toBeGreaterThanOrEqual(0);
    expect(x, `corner x in 0…${width}: ${JSON.stringify(corners)}`).toBeLessThanOrEqual(width);
    expect(y, `corner y in 0…${height}: ${JSON.stringify(corners)}`).toBeGreaterThanOrEqual(0);
    expect(y, `corner y in 0…${height}: ${JSON.stringify(corners)}`).toBeLessThanOrEqual(height);
  }
}

/** Every commune of the EPCI: on the map, in the colour of its API value's class. */
async function expectCommuneColours(frame: Frame, image: Raster, rows: StatsRow[]): Promise<void> {
  await expectFitted(frame);
  const points = await project(frame, rows.map((row) => interiorPoint(row.code)));
  const hidden = rows.filter((_, i) => !points[i]!.onCanvas).map((row) => row.code);
  expect(hidden, 'communes hidden by the legend or off the map').toEqual([]);
  const wrong = rows
    .map((row, i) => ({ code: row.code, value: row.value, color: sample(image, points[i]!.x, points[i]!.y) }))
    .filter(({ value, color }) => rgbToCss(color) !== rgbToCss(ratioColor(value)));
  // a commune thinner than 3 pixels around its centre may show a border: tolerate one or two
  expect(wrong.length, JSON.stringify(wrong.slice(0, 5).map((w) => ({ ...w, color: rgbToCss(w.color) })))).toBeLessThanOrEqual(2);
}

/** Each legend class holding 3 territories or more covers pixels of the map. */
/**
 * Every outline the legend lists is drawn: its layer is visible; and the one drawn on top (the last: the
 * multi-speed flag covers the EPCI outline where both run) has its colour on the map outside the legend (the
 * legend's own line sample and text would count otherwise).
 */
async function expectLegendOutlinesDrawn(frame: Frame, image: Raster, minPixels = 100): Promise<void> {
  const { outlines, legend } = await frame.evaluate(() => {
    const map = window.terrinumEmbed.territoryMap!.map;
    const box = document.getElementById('legend')!.getBoundingClientRect();
    return {
      legend: { x: box.x, y: box.y, width: box.width, height: box.height },
      outlines: [...document.querySelectorAll<HTMLElement>('#legend [data-outline]')].map((item) => {
        const key = item.dataset.outline!;
        // outline-epci → the EPCI outline layer; multispeed → the flag layer
        const layer = key.startsWith('outline-') ? `terrinum-${key.slice('outline-'.length)}-outline` : 'terrinum-epci-flag';
        return { key, layer, visible: map.getLayoutProperty(layer, 'visibility') === 'visible', color: getComputedStyle(item.querySelector('.legend-outline-line')!).borderTopColor };
      }),
    };
  });
  const rect = await mapRect(frame);
  for (const outline of outlines) expect(outline.visible, `legend outline ${outline.key}: layer ${outline.layer} visible`).toBe(true);
  for (const outline of outlines.slice(-1)) {
    const rgb = outline.color.match(/\d+/g)!.slice(0, 3).map(Number) as unknown as Rgb;
    const x = Math.max(rect.x, legend.x);
    const y = Math.max(rect.y, legend.y);
    const overlap = { x, y, width: Math.max(0, Math.min(rect.x + rect.width, legend.x + legend.width) - x), height: Math.max(0, Math.min(rect.y + rect.height, legend.y + legend.height) - y) };
    const drawn = countIn(image, rect, rgb) - countIn(image, overlap, rgb);
    expect(drawn, `legend outline ${outline.key} (${outline.color}) on the map`).toBeGreaterThanOrEqual(minPixels);
  }
}

async function expectLegendColoursOnMap(frame: Frame, image: Raster, minPixels = 40): Promise<void> {
  const rect = await mapRect(frame);
  const legend = await legendOf(frame);
  expect(legend.length).toBeGreaterThan(1);
  for (const entry of legend.filter((e) => e.count >= 3 && e.key !== 'no-data')) {
    expect(countIn(image, rect, hexToRgb(entry.color)), `legend class ${entry.key} (${entry.color}, ${entry.count} territories)`).toBeGreaterThanOrEqual(minPixels);
  }
}

// ---------- Setup ----------

describe('the embeddable widget (GET /embed, embed.js, <terrinum-map>)', { timeout: 180_000 }, () => {
  let epciRows: StatsRow[];

  beforeAll(async () => {
    await timed('build', ensureClientBuilt);
    [council, stranger] = await Promise.all([startHost(), startHost()]);
    app = await timed('server', async () =>
      start(
        loadConfig({
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
          TERRINUM_DATA_DIR: 'memory://',
          TERRINUM_FRAME_ANCESTORS: `'self' ${council.origin}`,
          TERRINUM_CORS_ORIGINS: council.origin,
        }),
        { database: await openDemoDatabase('embedded') },
      ),
    );
    terrinum = app.url.replace(/\/$/, '');
    browser = await timed('browser', launchBrowser);
    epciRows = await stats(`indicator=fibre_coverage&within=epci:${EPCI}`);
    expect(epciRows.length).toBeGreaterThan(10);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    for (const site of [council, stranger]) site?.server.closeAllConnections();
    await Promise.all([council, stranger].map((site) => site && new Promise((resolve) => site.server.close(resolve))));
    console.info(`embed e2e timings (ms): ${JSON.stringify(timings)}`);
  });

  // ---------- Server ----------

  it('serves /embed framable by the configured ancestors only, and /embed.js as a cross-origin script', async () => {
    const page = await fetch(`${terrinum}/embed?within=epci:${EPCI}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(new RegExp(`frame-ancestors 'self' ${council.origin.replace(/[.:/]/g, '\\$&')}(;|$)`));
    expect(csp).not.toContain(stranger.origin);
    expect(page.headers.get('x-frame-options')).toBeNull();
    expect(page.headers.get('set-cookie')).toBeNull();
    const html = await page.text();
    const config = JSON.parse(/<script type="application\/json" id="terrinum-embed-config">([^<]*)<\/script>/.exec(html)![1]!);
    expect(config).toMatchObject({ view: 'choropleth', lang: 'fr', legend: true, controls: false, within: { level: 'epci', code: EPCI } });
    expect(config.within.bbox).toHaveLength(4);

    const script = await fetch(`${terrinum}/embed.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const code = await script.text();
    // one classic script: no module syntax, nothing left on the global object but the element
    expect(code).not.toMatch(/(^|[;\s])(import|export)\s*[{*"'\w]/m);
    expect(code).toContain('terrinum-map');
  });

  it('answers bad parameters with an error box naming the parameter (browsers) or a problem (other clients), never a 5xx', async () => {
    const cases: [string, number, string][] = [
      ['within=epci:NOPE', 404, 'within'],
      ['within=nowhere', 400, 'within'],
      ['indicator=no_such_indicator', 404, 'indicator'],
      ['indicator=Fibre!', 400, 'indicator'],
      ['view=pie', 400, 'view'],
      ['vintage=1999-Q1', 404, 'vintage'],
      ['vintage=2024-Q7', 400, 'vintage'],
      ['level=canton', 404, 'level'],
      ['view=clusters&level=epci', 400, 'level'],
      ['view=bivariate&indicator=ftth_takeup', 400, 'indicator'],
      ['lang=de', 400, 'lang'],
      ['legend=yes', 400, 'legend'],
      ['controls=2', 400, 'controls'],
      ['classes=equal', 400, 'classes'],
      ['within=epci:X%00', 400, 'within'],
      ['indicator=fibre_coverage&indicator=ftth_takeup', 400, 'indicator'],
    ];
    for (const [query, status, parameter] of cases) {
      const html = await fetch(`${terrinum}/embed?${query}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(html.status, query).toBe(status);
      expect(html.headers.get('content-type'), query).toMatch(/^text\/html/);
      const text = await html.text();
      expect(text, query).toContain('role="alert"');
      expect(text, query).toContain(`data-parameter="${parameter}"`);
      expect(text, query).toContain('Cette carte ne peut pas s’afficher');
      const json = await fetch(`${terrinum}/embed?${query}`);
      expect(json.status, query).toBe(status);
      expect(json.headers.get('content-type'), query).toMatch(/^application\/problem\+json/);
      expect(((await json.json()) as { parameter?: string }).parameter, query).toBe(parameter);
    }
    // English error page when asked
    const english = await (await fetch(`${terrinum}/embed?lang=en&view=pie`, { headers: { accept: 'text/html' } })).text();
    expect(english).toContain('<html lang="en">');
    expect(english).toContain('This map cannot be shown');
    // a corpus of malformed values on every parameter: 4xx or 200, never 5xx
    const values = ['', 'a'.repeat(5000), '%FF%FE', '%E0%A4%A', encodeURIComponent("' OR 1=1 --"), encodeURIComponent('<script>alert(1)</script>'), '-1', 'NaN', encodeURIComponent('{"a":1}')];
    const params = ['indicator', 'usage', 'level', 'within', 'vintage', 'view', 'classes', 'lang', 'legend', 'controls', 'height'];
    for (const name of params) {
      for (const value of values) {
        const response = await fetch(`${terrinum}/embed?${name}=${value}`, { headers: { accept: 'text/html' } });
        const body = await response.text();
        expect(response.status, `${name}=${value.slice(0, 20)}`).toBeLessThan(500);
        expect(body, 'the value is never echoed unescaped').not.toContain('<script>alert(1)</script>');
      }
    }
  });

  // ---------- Rendering on another site ----------

  it('renders in an iframe on an allowed website: legend classes, and each commune in its class colour', async () => {
    const page = await newPage();
    await timed('iframe', async () => {
      await page.goto(`${council.origin}/iframe?indicator=fibre_coverage&within=epci:${EPCI}`);
      await waitEmbed(await embedFrame(page));
    });
    const frame = await embedFrame(page);
    expect(new URL(frame.url()).origin).toBe(terrinum);
    const image = await raster(page, 'iframe', 'iframe');
    expect(image.width).toBe(1000);
    expect(image.height).toBe(480);
    // the legend: fixed ratio classes, counts of the EPCI's communes from the API
    const legend = await legendOf(frame);
    expect(legend.map((e) => e.key)).toEqual(['0', '1', '2', '3', '4', 'no-data']);
    expect(legend.map((e) => e.color)).toEqual([...PALETTE, NO_DATA_COLOR].map(rgbToCss));
    const expected = [0, 1, 2, 3, 4].map((i) => epciRows.filter((row) => classify(row.value, RATIO_BREAKS) === i).length);
    expect(legend.map((e) => e.count)).toEqual([...expected, epciRows.filter((row) => classify(row.value, RATIO_BREAKS) < 0).length]);
    await expectLegendColoursOnMap(frame, image);
    await expectCommuneColours(frame, image, epciRows);
    // title, territory, attribution and the synthetic-data notice
    const texts = await frame.evaluate(() => ({
      title: document.getElementById('embed-title')!.textContent,
      subtitle: document.getElementById('embed-subtitle')!.textContent,
      notice: document.getElementById('synthetic-notice')!.hidden ? null : document.getElementById('synthetic-notice')!.textContent,
      link: document.getElementById('full-map-link')!.textContent,
      lang: document.documentElement.lang,
    }));
    const indicators = (await (await fetch(`${terrinum}/api/indicators`)).json()) as { id: string; label: { fr: string } }[];
    expect(texts.title).toBe(indicators.find((i) => i.id === 'fibre_coverage')!.label.fr);
    expect(texts.subtitle).toContain('Communauté d\'agglomération de Boussavon');
    expect(normalizeSpaces(texts.subtitle ?? '')).toContain(`${epciRows.length} communes`);
    expect(texts.notice).toBe('Données synthétiques de démonstration — pas des données réelles');
    expect(texts.link).toBe('Ouvrir la carte complète');
    expect(texts.lang).toBe('fr');
    // controls=0 (the default): a still figure, no zoom buttons, the page around it keeps the wheel
    expect(await frame.locator('.maplibregl-ctrl-zoom-in').count()).toBe(0);
    expect(await frame.evaluate(() => [window.terrinumEmbed.territoryMap!.map.scrollZoom.isEnabled(), window.terrinumEmbed.territoryMap!.map.dragPan.isEnabled()])).toEqual([false, false]);
    // a tap or a hover on a commune tells its value, numerator and denominator
    const commune = epciRows.find((row) => row.value !== null)!;
    const [point] = await project(frame, [interiorPoint(commune.code)]);
    const box = (await page.locator('iframe').boundingBox())!;
    await page.mouse.move(box.x + point!.x, box.y + point!.y);
    const tooltip = frame.locator('#tooltip');
    await expect.poll(() => tooltip.getAttribute('data-code')).toBe(commune.code);
    expect(normalizeSpaces((await tooltip.textContent()) ?? '')).toContain(commune.name);
    const fraction = frame.locator('#tooltip .tooltip-fraction');
    expect([await fraction.getAttribute('data-numerator'), await fraction.getAttribute('data-denominator')]).toEqual([String(commune.numerator), String(commune.denominator)]);
    await page.mouse.move(1, 1);
    await page.close();
  });

  it('links back to the full map in the same state', async () => {
    const page = await newPage();
    await page.goto(`${council.origin}/iframe?indicator=fibre_coverage&within=epci:${EPCI}&vintage=2023-Q4&classes=quantile`);
    const frame = await embedFrame(page);
    await waitEmbed(frame);
    const link = await frame.evaluate(() => {
      const a = document.getElementById('full-map-link') as HTMLAnchorElement;
      return { href: a.href, target: a.target, rel: a.rel };
    });
    expect(link.target).toBe('_blank');
    expect(link.rel).toContain('noopener');
    const url = new URL(link.href);
    expect(url.origin + url.pathname).toBe(`${terrinum}/`);
    const state = parseState(url.search);
    expect(state).toMatchObject({ view: 'choropleth', indicator: 'fibre_coverage', vintage: '2023-Q4', method: 'quantile', selection: { level: 'epci', code: EPCI }, lang: 'fr' });
    expect(state.camera).not.toBeNull();
    await page.close();
  });

  it('renders as <terrinum-map> (embed.js, shadow DOM) and follows attribute changes', async () => {
    const page = await newPage();
    await timed('element', async () => {
      await page.goto(`${council.origin}/element?indicator=fibre_coverage&within=epci:${EPCI}`);
      await waitEmbed(await embedFrame(page, 'terrinum-map iframe'));
    });
    const element = await page.evaluate(() => {
      const host = document.querySelector('terrinum-map')!;
      const frame = host.shadowRoot!.querySelector('iframe')!;
      return { shadow: Boolean(host.shadowRoot), src: frame.src, title: frame.title, width: frame.getBoundingClientRect().width, height: frame.getBoundingClientRect().height };
    });
    expect(element.shadow).toBe(true);
    expect(element.src).toBe(`${terrinum}/embed?indicator=fibre_coverage&within=epci%3A${EPCI}`);
    expect(element.title).toBe('Carte terrinum');
    expect(element.width).toBe(1000);
    // responsive default height: 75 % of the width, between 420 and 640 px
    expect(element.height).toBe(640);
    let frame = await embedFrame(page, 'terrinum-map iframe');
    let image = await raster(page, 'terrinum-map', 'element');
    await expectLegendColoursOnMap(frame, image);
    await expectCommuneColours(frame, image, epciRows);

    // attributes are observed: a new view, language and height reload the frame
    await page.evaluate(() => {
      const host = document.querySelector('terrinum-map')!;
      host.setAttribute('view', 'typology');
      host.setAttribute('lang', 'en');
      host.setAttribute('height', '500');
    });
    await page.waitForFunction(() => document.querySelector('terrinum-map')!.shadowRoot!.querySelector('iframe')!.src.includes('view=typology'));
    frame = await embedFrame(page, 'terrinum-map iframe');
    await frame.waitForURL(/view=typology/);
    await waitEmbed(frame);
    expect(await frame.evaluate(() => [window.terrinumEmbed.view, document.documentElement.lang])).toEqual(['typology', 'en']);
    await expectFitted(frame);
    expect(await page.evaluate(() => document.querySelector('terrinum-map')!.shadowRoot!.querySelector('iframe')!.getBoundingClientRect().height)).toBe(500);
    image = await raster(page, 'terrinum-map', 'element-typology');
    await expectLegendColoursOnMap(frame, image);
    await page.close();
  });

  it('is refused on a website that is not allowed: no frame (frame-ancestors), no API answer (CORS)', async () => {
    const page = await newPage();
    const messages: string[] = [];
    page.on('console', (message) => messages.push(message.text()));
    const embedResponse = page.waitForResponse((response) => response.url().startsWith(`${terrinum}/embed?`));
    await page.goto(`${stranger.origin}/iframe?indicator=fibre_coverage&within=epci:${EPCI}`);
    // the server answered, with a policy that names the council's site only...
    const response = await embedResponse;
    expect(response.status()).toBe(200);
    expect(response.headers()['content-security-policy']).toContain(`frame-ancestors 'self' ${council.origin}`);
    // ... and Chromium did not show it: the frame holds an error page, not the embed
    const frame = await embedFrame(page);
    await expect.poll(() => frame.url(), { timeout: 15_000 }).toMatch(/^chrome-error:/);
    expect(await frame.evaluate(() => typeof (window as { terrinumEmbed?: unknown }).terrinumEmbed).catch(() => 'inaccessible')).not.toBe('object');
    await expect.poll(() => messages.some((text) => text.includes('frame-ancestors')), { timeout: 10_000 }).toBe(true);
    const image = await raster(page, 'iframe', 'refused');
    const full = { x: 0, y: 0, width: image.width, height: image.height };
    expect(PALETTE.map((color) => countIn(image, full, color)).reduce((a, b) => a + b, 0)).toBe(0);

    // CORS: the API answers the council's pages, not this one's
    const api = `${terrinum}/api/stats/commune?indicator=fibre_coverage&within=epci:${EPCI}`;
    const call = (target: Page) =>
      target.evaluate(async (url) => {
        try {
          const answer = await fetch(url, { credentials: 'omit' });
          return `${answer.status} ${((await answer.json()) as { rows: unknown[] }).rows.length}`;
        } catch (error) {
          return `refused: ${(error as Error).name}`;
        }
      }, api);
    expect(await call(page)).toBe('refused: TypeError');
    const allowed = await newPage();
    await allowed.goto(`${council.origin}/empty`);
    expect(await call(allowed)).toBe(`200 ${epciRows.length}`);
    await Promise.all([page.close(), allowed.close()]);
  });

  it('fits a 320 px wide phone: map and legend visible, nothing overflows', async () => {
    const page = await newPage({ width: 320, height: 640 });
    await page.goto(`${council.origin}/element?indicator=fibre_coverage&within=epci:${EPCI}`);
    const frame = await embedFrame(page, 'terrinum-map iframe');
    await waitEmbed(frame);
    const layout = await frame.evaluate(() => {
      const box = (id: string) => {
        const r = document.getElementById(id)!.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
      };
      return {
        viewport: { width: window.innerWidth, height: window.innerHeight },
        scrollWidth: document.documentElement.scrollWidth,
        map: box('map'),
        legend: box('legend'),
        legendHidden: document.getElementById('legend')!.hidden,
        footer: box('full-map-link'),
      };
    });
    expect(layout.viewport.width).toBe(320);
    expect(layout.scrollWidth).toBeLessThanOrEqual(320);
    expect(layout.map.width).toBe(320);
    expect(layout.map.height).toBeGreaterThanOrEqual(150);
    expect(layout.legendHidden).toBe(false);
    // the legend below the map, inside the frame, not over the map
    expect(layout.legend.top).toBeGreaterThanOrEqual(layout.map.bottom - 1);
    expect(layout.legend.bottom).toBeLessThanOrEqual(layout.viewport.height);
    expect(layout.legend.right).toBeLessThanOrEqual(320);
    expect(layout.footer.bottom).toBeLessThanOrEqual(layout.viewport.height);
    const image = await raster(page, 'terrinum-map', 'phone');
    expect(image.width).toBe(320);
    await expectLegendColoursOnMap(frame, image, 10);
    await expectFitted(frame);
    // the swatches of the legend are drawn
    const legendBox = { x: layout.legend.left, y: layout.legend.top, width: layout.legend.width, height: layout.legend.height };
    for (const color of PALETTE.filter((_, i) => epciRows.some((row) => classify(row.value, RATIO_BREAKS) === i))) {
      expect(countIn(image, legendBox, color), rgbToCss(color)).toBeGreaterThan(20);
    }
    await page.close();
  });

  // ---------- Language and views (the page itself) ----------

  it('speaks English with lang=en', async () => {
    const page = await newPage();
    await page.goto(`${terrinum}/embed?indicator=fibre_coverage&within=epci:${EPCI}&lang=en&controls=1&legend=0`);
    await waitEmbed(page.mainFrame());
    // controls=1: zoom buttons (English titles) and gestures; legend=0: no legend
    expect(await page.locator('.maplibregl-ctrl-zoom-in').count()).toBe(1);
    expect(await page.evaluate(() => window.terrinumEmbed.territoryMap!.map.scrollZoom.isEnabled())).toBe(true);
    expect(await page.locator('#legend').isHidden()).toBe(true);
    const texts = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      title: document.getElementById('embed-title')!.textContent,
      subtitle: document.getElementById('embed-subtitle')!.textContent,
      noData: window.terrinumEmbed.result!.legend.noData.label,
      notice: document.getElementById('synthetic-notice')!.textContent,
      link: document.getElementById('full-map-link')!.textContent,
      href: (document.getElementById('full-map-link') as HTMLAnchorElement).href,
    }));
    expect(texts.lang).toBe('en');
    expect(texts.noData).toBe('No data');
    expect(texts.notice).toBe('Synthetic demonstration data — not real data');
    expect(texts.link).toBe('Open the full map');
    expect(normalizeSpaces(texts.subtitle ?? '')).toContain(`${epciRows.length} municipalities`);
    expect(new URL(texts.href).searchParams.get('lang')).toBe('en');
    const indicators = (await (await fetch(`${terrinum}/api/indicators`)).json()) as { id: string; label: { en: string } }[];
    expect(texts.title).toBe(indicators.find((i) => i.id === 'fibre_coverage')!.label.en);
    await page.close();
  });

  it('draws every view: the legend colours are on the map', async () => {
    const cases: { view: string; within: string | null; level?: string; check?: (image: Raster, rect: Rect) => void }[] = [
      // the whole territory: the level by the zoom, geometry from the vector tiles
      { view: 'choropleth', within: null },
      { view: 'choropleth', within: null, level: 'epci' },
      { view: 'bivariate', within: `epci:${EPCI}` },
      { view: 'typology', within: 'departement:XD1' },
      {
        view: 'multispeed',
        within: `epci:${MULTISPEED_EPCI}`,
        check: (image, rect) => expect(countIn(image, rect, MULTISPEED_OUTLINE_COLOR), 'multi-speed outline').toBeGreaterThan(200),
      },
      { view: 'clusters', within: 'departement:XD1' },
      {
        view: 'access',
        within: 'departement:XD1',
        check: (image, rect) => {
          const places = [PLACE_COLOR, ...PLACE_AGGREGATE_RAMP].map((color) => countIn(image, rect, color)).reduce((a, b) => a + b, 0);
          expect(places, 'mediation places (deck.gl)').toBeGreaterThan(30);
        },
      },
    ];
    const page = await newPage();
    // the page's own API requests carry no cookie, even when the browser holds one for terrinum's host
    await page.context().addCookies([{ name: 'probe', value: '1', url: terrinum }]);
    const withCookie: string[] = [];
    page.on('request', async (request) => {
      if (!/\/api\/(meta|indicators|stats|bivariate|multispeed|access)/.test(request.url())) return;
      if ((await request.allHeaders()).cookie) withCookie.push(request.url());
    });
    for (const { view, within, level, check } of cases) {
      const name = [view, within ?? 'all', level].filter(Boolean).join('-').replace(':', '-');
      await timed(`view ${name}`, async () => {
        await page.goto(`${terrinum}/embed?view=${view}${within ? `&within=${within}` : ''}${level ? `&level=${level}` : ''}`);
        await waitEmbed(page.mainFrame());
      });
      expect(await page.evaluate(() => window.terrinumEmbed.view)).toBe(view);
      if (level) expect(await page.evaluate(() => window.terrinumEmbed.level)).toBe(level);
      const image = await raster(page, 'body', `view-${name}`);
      const rect = await mapRect(page.mainFrame());
      await expectLegendColoursOnMap(page.mainFrame(), image);
      await expectLegendOutlinesDrawn(page.mainFrame(), image);
      if (within) await expectFitted(page.mainFrame());
      check?.(image, rect);
    }
    expect(withCookie).toEqual([]);
    await page.close();
  });

  it('the planners’ map’s “Intégrer” dialog gives both snippets for the current view', async () => {
    const page = await newPage();
    await page.goto(`${terrinum}/?view=typology&indicator=fibre_coverage&vintage=2024-Q2&sel=epci:${EPCI}&lang=fr`);
    // the map drawn, its URL says which usage indicator the typology compares coverage with
    await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 60_000 });
    const usage = new URL(page.url()).searchParams.get('usage');
    expect(usage).toMatch(/^[a-z_]+$/);
    await page.locator('#embed-button').click();
    const dialog = page.locator('dialog.embed-dialog');
    await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
    const snippets = async () => ({
      element: await dialog.locator('[data-snippet="element"] textarea').inputValue(),
      iframe: await dialog.locator('[data-snippet="iframe"] textarea').inputValue(),
    });
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS_DIR, 'embed-dialog.png') });
    let code = await snippets();
    expect(code.element).toBe(
      `<script src="${terrinum}/embed.js"></script>\n<terrinum-map indicator="fibre_coverage" usage="${usage}" within="epci:${EPCI}" vintage="2024-Q2" view="typology"></terrinum-map>`,
    );
    const src = /<iframe src="([^"]+)"/.exec(code.iframe)![1]!.replace(/&amp;/g, '&');
    expect(Object.fromEntries(new URL(src).searchParams)).toEqual({ indicator: 'fibre_coverage', usage, within: `epci:${EPCI}`, vintage: '2024-Q2', view: 'typology' });
    expect(code.iframe).toContain('height: 480px');
    // options: the latest vintage, English, no legend, taller
    await dialog.getByLabel(/Millésime 2024-Q2/).uncheck();
    await dialog.getByLabel('Légende').uncheck();
    await dialog.getByLabel('Langue de la carte').selectOption('en');
    await dialog.getByLabel('Hauteur (pixels)').fill('600');
    code = await snippets();
    expect(code.element).toContain(`<terrinum-map indicator="fibre_coverage" usage="${usage}" within="epci:${EPCI}" view="typology" lang="en" legend="0" height="600"></terrinum-map>`);
    expect(code.iframe).toContain('height: 600px');
    // the snippet's page exists and shows that view
    const answer = await fetch(/<iframe src="([^"]+)"/.exec(code.iframe)![1]!.replace(/&amp;/g, '&'), { headers: { accept: 'text/html' } });
    expect(answer.status).toBe(200);
    await dialog.getByRole('button', { name: 'Fermer' }).click();
    await expect.poll(() => page.locator('dialog.embed-dialog').count()).toBe(0);
    await page.close();
  });

  it('shows bad parameters in the page, inside the frame', async () => {
    const page = await newPage();
    await page.goto(`${council.origin}/iframe?within=epci:NOPE`);
    const frame = await embedFrame(page);
    await frame.waitForSelector('#embed-error');
    const error = await frame.evaluate(() => {
      const box = document.getElementById('embed-error')!;
      return { role: box.getAttribute('role'), parameter: box.dataset.parameter, text: box.textContent ?? '' };
    });
    expect(error.role).toBe('alert');
    expect(error.parameter).toBe('within');
    expect(normalizeSpaces(error.text)).toContain('no epci with code "NOPE"');
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
