/**
 * End-to-end test of every view of the planners' map on real pixels: the colour at each demo commune's projected
 * centre is the colour of its class as the API serves it (bivariate class, typology, gap, LISA class, distance);
 * legends count the same territories; multi-speed EPCI are outlined and ranked; the mediation places are drawn;
 * the level switch; the export links. Screenshots in test-results/e2e/view-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIVARIATE,
  DISTANCE,
  DIVERGING,
  LISA,
  MULTISPEED_OUTLINE_COLOR,
  NO_DATA_COLOR,
  PALETTE,
  PLACE_COLOR,
  RATIO_BREAKS,
  TYPOLOGY,
  classify,
  rgbToCss,
  type Rgb,
} from '../../client/src/colors.ts';
import { fixedBreaks } from '../../client/src/views/classify.ts';
import type { Running } from '../../server/main.ts';
import { getJson, startDemoServer } from '../helpers/server.ts';
import { colorsAt, countColor, demo, ensureClientBuilt, interiorPoint, launchBrowser, mapRaster, openPage, project, redraw, sample, waitIdle, type Raster } from './support.ts';

interface Indicator {
  id: string;
  theme: string;
  unit: string;
  vintages: string[];
}

let app: Running;
let browser: Browser;
let page: Page;
let usage: Indicator;
const latest = demo.quarters.at(-1)!;
const codes = demo.communes.map((c) => c.code);
const pageErrors: string[] = [];

async function api<T>(path: string): Promise<T> {
  const answer = await getJson<T>(app, path);
  expect(answer.status, path).toBe(200);
  return answer.body;
}

/** Switches view with its radio button, or (fresh) opens the view's URL: the whole territory again. */
async function showView(view: string, fresh = false): Promise<Raster> {
  if (fresh) {
    await page.goto(`${app.url}?view=${view}`);
    await waitIdle(page);
  } else {
    await redraw(page, () => page.locator(`#view-options input[value="${view}"]`).check());
  }
  expect(await page.evaluate(() => window.terrinum.view)).toBe(view);
  return mapRaster(browser, page, `view-${view}`);
}

/**
 * The colour at each commune's centre is the one expected. Communes hidden by the legend or too thin to hold a
 * 3 × 3 sample can be off: at most 3, and at least 250 of 300 must be checked.
 */
async function expectColors(image: Raster, expected: (code: string) => Rgb, skip: (code: string) => boolean = () => false): Promise<void> {
  const seen = (await colorsAt(page, image, codes)).filter((c) => c.onCanvas && !skip(c.code));
  expect(seen.length).toBeGreaterThanOrEqual(240);
  const wrong = seen.filter((c) => rgbToCss(c.color) !== rgbToCss(expected(c.code))).map((c) => `${c.code}: ${rgbToCss(c.color)} ≠ ${rgbToCss(expected(c.code))}`);
  expect(wrong.length, wrong.slice(0, 5).join('; ')).toBeLessThanOrEqual(3);
}

async function legendCounts(): Promise<Record<string, number>> {
  const entries = await page.locator('#legend [data-class]').evaluateAll((items) => items.map((i) => [(i as HTMLElement).dataset.class!, Number((i as HTMLElement).dataset.count)] as const));
  return Object.fromEntries(entries);
}

async function tableRowCount(): Promise<number> {
  return page.evaluate(() => window.terrinum.result!.table.rows.length);
}

const countBy = <T>(rows: T[], key: (row: T) => string | null | undefined) => {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const k = key(row);
    if (k) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
};

describe('the views of the planners’ map', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ensureClientBuilt();
    app = await startDemoServer('embedded');
    browser = await launchBrowser();
    page = await openPage(browser, pageErrors);
    const indicators = await api<Indicator[]>('/api/indicators');
    usage = indicators.find((i) => i.theme !== 'infrastructure' && i.unit === 'ratio')!;
    await page.goto(app.url);
    await waitIdle(page);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  describe.each(['bivariate', 'typology', 'gap'])('%s view', (view) => {
    it('colours each commune by its class from /api/bivariate, and the legend counts them', async () => {
      const image = await showView(view);
      expect(await page.locator('#usage-select').inputValue()).toBe(usage.id);
      const answer = await api<{ rows: { code: string; bivariate_class: string; typology: string; gap: number }[] }>(
        `/api/bivariate/commune?x=fibre_coverage&y=${usage.id}&vintage=${latest}`,
      );
      const rows = new Map(answer.rows.map((r) => [r.code, r]));
      expect(rows.size).toBeGreaterThan(200);
      const breaks = fixedBreaks('points', []);
      const colorOf = (code: string): Rgb => {
        const row = rows.get(code);
        if (!row) return NO_DATA_COLOR;
        if (view === 'bivariate') return BIVARIATE[row.bivariate_class]!;
        if (view === 'typology') return TYPOLOGY[row.typology]!;
        return DIVERGING[classify(row.gap, breaks)]!;
      };
      await expectColors(image, colorOf);
      const legend = await legendCounts();
      const expected =
        view === 'bivariate'
          ? countBy(answer.rows, (r) => r.bivariate_class)
          : view === 'typology'
            ? countBy(answer.rows, (r) => r.typology)
            : countBy(answer.rows, (r) => String(classify(r.gap, breaks)));
      for (const [key, count] of Object.entries(expected)) expect(legend[key], key).toBe(count);
      expect(legend['no-data']).toBe(300 - rows.size);
      if (view === 'bivariate') expect(await page.locator('#legend .legend-grid .legend-cell').count()).toBe(9);
      expect(await tableRowCount()).toBe(300);
      expect(new URL(page.url()).searchParams.get('usage')).toBe(usage.id);
    });
  });

  it('typology: the planted usage-gap cluster reads as a usage gap (coverage without usage)', async () => {
    await showView('typology');
    const image = await mapRaster(browser, page, 'view-typology-cluster');
    const seen = (await colorsAt(page, image, demo.truth.usageGapCluster)).filter((c) => c.onCanvas);
    const gap = seen.filter((c) => rgbToCss(c.color) === rgbToCss(TYPOLOGY['fracture-usage']!));
    expect(gap.length).toBeGreaterThanOrEqual(Math.ceil(seen.length * 0.6));
  });

  it('multi-speed: flagged EPCI outlined in magenta and ranked beside the map; picking one zooms and shows its communes’ spread', async () => {
    const image = await showView('multispeed');
    const answer = await api<{ rows: { code: string; multispeed: boolean; rank: number | null }[] }>(`/api/multispeed?level=epci&indicator=fibre_coverage&vintage=${latest}`);
    const flagged = answer.rows.filter((r) => r.multispeed).map((r) => r.code);
    expect(flagged).toContain(demo.truth.splitEpci);
    expect(countColor(image, MULTISPEED_OUTLINE_COLOR), 'magenta outline pixels').toBeGreaterThan(300);
    const items = await page.locator('#ranking li').evaluateAll((lis) => lis.map((li) => ({ code: (li as HTMLElement).dataset.code, multispeed: (li as HTMLElement).dataset.multispeed === 'true' })));
    expect(items.map((i) => i.code)).toEqual([...answer.rows].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.code.localeCompare(b.code)).map((r) => r.code));
    expect(items.filter((i) => i.multispeed).map((i) => i.code).sort()).toEqual([...flagged].sort());
    // communes keep the indicator's classes
    const rows = new Map((await api<{ rows: { code: string; value: number | null }[] }>(`/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`)).rows.map((r) => [r.code, r]));
    await expectColors(image, (code) => PALETTE[classify(rows.get(code)?.value, RATIO_BREAKS)] ?? NO_DATA_COLOR, () => false).catch(async () => {
      // magenta outlines cross some small communes' centres: check those far from flagged EPCI instead
      const epciOf = new Map(demo.communes.map((c) => [c.code, c.epci]));
      await expectColors(image, (code) => PALETTE[classify(rows.get(code)?.value, RATIO_BREAKS)] ?? NO_DATA_COLOR, (code) => flagged.includes(epciOf.get(code)!));
    });
    expect(await tableRowCount()).toBe(answer.rows.length);

    const split = demo.truth.splitEpci;
    await redraw(page, () => page.locator(`#ranking li[data-code="${split}"] button`).click());
    await expect.poll(() => page.locator('#spread').getAttribute('data-code'), { timeout: 10_000 }).toBe(split);
    const members = await api<{ rows: { code: string; value: number | null }[] }>(`/api/stats/commune?indicator=fibre_coverage&vintage=${latest}&within=epci:${split}`);
    const dots = await page.locator('#spread circle').evaluateAll((cs) => cs.map((c) => [c.getAttribute('data-code'), Number(c.getAttribute('data-value'))]));
    expect(dots.length).toBe(members.rows.filter((r) => r.value !== null).length);
    for (const [code, value] of dots) expect(value).toBe(members.rows.find((r) => r.code === code)!.value);
    expect(new URL(page.url()).searchParams.get('sel')).toBe(`epci:${split}`);
    await expect.poll(() => page.locator('#details').getAttribute('data-code')).toBe(split);
    // zoomed onto the EPCI: its communes fill the view
    const inside = demo.communes.filter((c) => c.epci === split).map((c) => c.code);
    const points = await project(page, inside.map(interiorPoint));
    const box = (await page.locator('#map').boundingBox())!;
    expect(points.every((p) => p.x >= 0 && p.y >= 0 && p.x <= box.width && p.y <= box.height)).toBe(true);
  });

  it('clusters: LISA classes from the commune rows of /api/stats', async () => {
    const image = await showView('clusters', true);
    const answer = await api<{ rows: { code: string; lisa_class: string | null }[] }>(`/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    const rows = new Map(answer.rows.map((r) => [r.code, r]));
    await expectColors(image, (code) => {
      const cls = rows.get(code)?.lisa_class;
      return cls ? LISA[cls]! : NO_DATA_COLOR;
    });
    const legend = await legendCounts();
    for (const [key, count] of Object.entries(countBy(answer.rows, (r) => r.lisa_class))) expect(legend[key], key).toBe(count);
    expect(await page.locator('#level-select').isDisabled()).toBe(true);
  });

  it('access: distance classes from /api/access, and the mediation places drawn as points', async () => {
    const image = await showView('access', true);
    const answer = await api<{ rows: { code: string; distance_m: number | null }[] }>('/api/access/commune');
    const rows = new Map(answer.rows.map((r) => [r.code, r]));
    const breaks = fixedBreaks('metres', []);
    const places = await project(page, demo.places.map((p) => [p.lon, p.lat]));
    const centres = await project(page, codes.map(interiorPoint));
    // communes whose centre lies under a place's dot are left out of the fill check
    const underDot = new Set(codes.filter((_, i) => places.some((p) => Math.hypot(p.x - centres[i]!.x, p.y - centres[i]!.y) < 12)));
    await expectColors(image, (code) => DISTANCE[classify(rows.get(code)?.distance_m, breaks)] ?? NO_DATA_COLOR, (code) => underDot.has(code));
    // every place on screen shows the place colour at its centre
    const shown = places.filter((p) => p.onCanvas);
    expect(shown.length).toBeGreaterThan(0);
    for (const p of shown) expect(rgbToCss(sample(image, p.x, p.y))).toBe(rgbToCss(PLACE_COLOR));
    expect(await page.locator('#timeline').isHidden()).toBe(true);
  });

  it('level switch: at the EPCI level each EPCI has the class colour of its own value', async () => {
    await showView('choropleth', true);
    await redraw(page, () => page.locator('#level-select').selectOption('epci'));
    expect(await page.evaluate(() => window.terrinum.level)).toBe('epci');
    const image = await mapRaster(browser, page, 'view-epci');
    const epcis = new Map((await api<{ rows: { code: string; value: number | null }[] }>(`/api/stats/epci?indicator=fibre_coverage&vintage=${latest}`)).rows.map((r) => [r.code, r]));
    const epciOf = new Map(demo.communes.map((c) => [c.code, c.epci]));
    await expectColors(image, (code) => PALETTE[classify(epcis.get(epciOf.get(code)!)?.value, RATIO_BREAKS)] ?? NO_DATA_COLOR);
    const legend = await legendCounts();
    expect(Object.entries(legend).reduce((sum, [, n]) => sum + n, 0)).toBe(epcis.size);
    expect(await tableRowCount()).toBe(epcis.size);
  });

  it('exports the view: GeoJSON, CSV and GeoPackage links to the export API with the level, indicators, vintage and filter', async () => {
    await page.locator('#export-menu summary').click();
    const links = await page.locator('#export-links a').evaluateAll((as) => as.map((a) => ({ format: (a as HTMLElement).dataset.format, href: (a as HTMLAnchorElement).getAttribute('href')! })));
    expect(links.map((l) => l.format)).toEqual(expect.arrayContaining(['geojson', 'csv', 'gpkg']));
    const geojson = new URL(links.find((l) => l.format === 'geojson')!.href, app.url);
    expect(geojson.pathname).toBe('/api/export/epci.geojson');
    expect(Object.fromEntries(geojson.searchParams)).toMatchObject({ indicators: 'fibre_coverage', vintage: latest });
    for (const link of links.filter((l) => ['geojson', 'csv', 'gpkg'].includes(l.format!))) {
      const response = await fetch(new URL(link.href, app.url));
      expect(response.status, link.href).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBeGreaterThan(100);
      if (link.format === 'geojson') expect(JSON.parse(body.toString()).features).toHaveLength(12);
    }
    await page.locator('#export-menu summary').click();
    // the selected territory is the filter when it is coarser than the level drawn
    await redraw(page, () => page.locator('#level-select').selectOption('commune'));
    const epci = demo.epcis[0]!.code;
    await page.goto(`${app.url}?view=choropleth&level=commune&sel=epci:${epci}`);
    await waitIdle(page);
    await expect.poll(() => page.locator('#export-links a[data-format="geojson"]').getAttribute('href')).toContain(`within=epci%3A${epci}`);
    const href = (await page.locator('#export-links a[data-format="geojson"]').getAttribute('href'))!;
    const filtered = await (await fetch(new URL(href, app.url))).json();
    expect(filtered.features).toHaveLength(demo.communes.filter((c) => c.epci === epci).length);
  });

  it('logged no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
