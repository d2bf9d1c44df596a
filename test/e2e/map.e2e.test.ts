/**
 * End-to-end test of the planners' map (GET /), choropleth view and interactions: the built client, served by
 * the real server over the demo database, drawn by Debian Chromium (WebGL2 on SwiftShader), checked on real
 * pixels — colours at communes' projected centres against the legend's classes and the API's values; the side
 * panel against the API; the time slider; the URL round trip; search; keyboard-only access to the data table.
 * Screenshots are written to test-results/e2e/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_DATA_COLOR, PALETTE, RATIO_BREAKS, classify, rgbToCss, rgbToComputed, type Rgb } from '../../client/src/colors.ts';
import type { Running } from '../../server/main.ts';
import { getJson, startDemoServer } from '../helpers/server.ts';
import {
  colorsAt,
  communeByCode,
  countColor,
  demo,
  ensureClientBuilt,
  interiorPoint,
  launchBrowser,
  mapRaster,
  normalizeSpaces,
  openPage,
  project,
  redraw,
  waitIdle,
  type Raster,
} from './support.ts';

interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

const latest = demo.quarters.at(-1)!;
const first = demo.quarters[0]!;

let app: Running;
let browser: Browser;
let page: Page;
let rows: Map<string, StatsRow>;
let raster: Raster;
const pageErrors: string[] = [];
const timings: Record<string, number> = {};

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    timings[label] = Math.round(performance.now() - started);
  }
}

async function stats(level: string, indicator: string, vintage?: string): Promise<Map<string, StatsRow>> {
  const query = new URLSearchParams({ indicator, ...(vintage ? { vintage } : {}) });
  const answer = await getJson<{ rows: StatsRow[] }>(app, `/api/stats/${level}?${query}`);
  expect(answer.status).toBe(200);
  return new Map(answer.body.rows.map((row) => [row.code, row]));
}

const ratioColor = (value: number | null | undefined): Rgb => {
  const index = classify(value, RATIO_BREAKS);
  return index < 0 ? NO_DATA_COLOR : PALETTE[index]!;
};

describe('the planners’ map (GET /)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await timed('build', ensureClientBuilt);
    app = await timed('server', () => startDemoServer('embedded'));
    browser = await timed('browser', launchBrowser);
    page = await openPage(browser, pageErrors);
    rows = await stats('commune', 'fibre_coverage', latest);
    await timed('page', async () => {
      await page.goto(app.url);
      await waitIdle(page);
    });
    raster = await timed('screenshot', () => mapRaster(browser, page, 'map'));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    console.info(`map e2e timings (ms): ${JSON.stringify(timings)}`);
  });

  it('opens on fibre coverage, latest vintage, fitted to the territory, and says so in the URL', async () => {
    const state = await page.evaluate(() => ({ indicator: window.terrinum.indicator, vintage: window.terrinum.vintage, view: window.terrinum.view, level: window.terrinum.level }));
    expect(state).toEqual({ indicator: 'fibre_coverage', vintage: latest, view: 'choropleth', level: 'commune' });
    expect(await page.locator('#indicator-select').inputValue()).toBe('fibre_coverage');
    expect(await page.locator('#indicator-select optgroup').count()).toBeGreaterThanOrEqual(2);
    expect(normalizeSpaces((await page.locator('#vintage-output').textContent()) ?? '')).toBe(`T4 ${latest.slice(0, 4)}`);
    expect(await page.locator('#vintage-range').inputValue()).toBe(String(demo.quarters.length - 1));
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ view: 'choropleth', indicator: 'fibre_coverage', vintage: latest, lang: 'fr' });
    expect(url.searchParams.get('at')).toMatch(/^[\d.]+,[\d.]+,[\d.]+$/);
    // Every commune's interior point is on screen and not hidden by the legend, the slider or a control.
    const points = await project(page, demo.communes.map((c) => interiorPoint(c.code)));
    const hidden = demo.communes.filter((_, i) => !points[i]!.onCanvas).map((c) => c.code);
    expect(hidden).toEqual([]);
  });

  it('draws the choropleth: classes cover many pixels, with EPCI outlines on top', () => {
    expect(raster.width).toBeGreaterThan(600);
    const perClass = PALETTE.map((color) => countColor(raster, color));
    const expected = PALETTE.map((_, i) => [...rows.values()].filter((row) => classify(row.value, RATIO_BREAKS) === i).length);
    expected.forEach((communes, i) => {
      if (communes >= 3) expect(perClass[i], `class ${i} (${communes} communes), pixels per class: ${perClass.join(', ')}`).toBeGreaterThanOrEqual(200);
    });
    // Dark, neutral EPCI outline pixels (anti-aliased 1.5 px lines: matched loosely).
    let outline = 0;
    for (let i = 0; i < raster.data.length; i += 4) {
      const [r, g, b] = [raster.data[i]!, raster.data[i + 1]!, raster.data[i + 2]!];
      if (Math.max(r, g, b) < 110 && Math.max(r, g, b) - Math.min(r, g, b) < 30) outline++;
    }
    expect(outline, 'EPCI outline pixels').toBeGreaterThan(1500);
  });

  it('colours every commune with its legend class: the pixel at its projected centre has the class colour of its API value', async () => {
    const colors = await colorsAt(page, raster, demo.communes.map((c) => c.code));
    const wrong = colors.filter(({ code, color }) => rgbToCss(color) !== rgbToCss(ratioColor(rows.get(code)?.value)));
    // a commune thinner than 3 pixels around its centre may show a border: tolerate a handful, not more
    expect(wrong.length, JSON.stringify(wrong.slice(0, 5).map((w) => ({ ...w, color: rgbToCss(w.color), value: rows.get(w.code)?.value })))).toBeLessThanOrEqual(3);
    // the planted multi-speed EPCI: deployed communes in the top class, undeployed in the bottom one
    const { splitDeployed, splitUndeployed } = demo.truth;
    const split = await colorsAt(page, raster, [...splitDeployed.slice(0, 5), ...splitUndeployed.slice(0, 5)]);
    expect(split.map((s) => rgbToCss(s.color))).toEqual([...splitDeployed.slice(0, 5).map(() => rgbToCss(PALETTE[4]!)), ...splitUndeployed.slice(0, 5).map(() => rgbToCss(PALETTE[0]!))]);
  });

  it('lists every class in the legend, with colours, labels and counts that add up to the 300 communes', async () => {
    const legend = await page.locator('#legend .legend-row').evaluateAll((items) =>
      items.map((item) => ({
        key: (item as HTMLElement).dataset.class,
        count: Number((item as HTMLElement).dataset.count),
        swatch: getComputedStyle(item.querySelector('.legend-swatch')!).backgroundColor,
        label: item.querySelector('.legend-label')!.textContent ?? '',
        shownCount: item.querySelector('.legend-count')!.textContent ?? '',
      })),
    );
    expect(legend.map((row) => row.key)).toEqual(['0', '1', '2', '3', '4', 'no-data']);
    expect(legend.map((row) => normalizeSpaces(row.label))).toEqual(['0 – 20 %', '20 – 40 %', '40 – 60 %', '60 – 80 %', '≥ 80 %', 'Pas de donnée']);
    expect(legend.map((row) => row.swatch)).toEqual([...PALETTE.map(rgbToComputed), rgbToComputed(NO_DATA_COLOR)]);
    expect(demo.communes.length).toBe(300);
    const expected = [0, 1, 2, 3, 4].map((i) => demo.communes.filter((c) => classify(rows.get(c.code)?.value, RATIO_BREAKS) === i).length);
    const noData = demo.communes.filter((c) => classify(rows.get(c.code)?.value, RATIO_BREAKS) < 0).length;
    expect(legend.map((row) => row.count)).toEqual([...expected, noData]);
    expect(legend.map((row) => Number(row.shownCount.replace(/\D/g, '')))).toEqual([...expected, noData]);
  });

  it('hovering a commune shows its name, value and the numerator / denominator served by the API', async () => {
    const code = demo.truth.splitDeployed[0]!;
    const row = rows.get(code)!;
    expect(row.numerator).not.toBeNull();
    const [point] = await project(page, [interiorPoint(code)]);
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.move(box.x + point!.x - 20, box.y + point!.y - 20);
    await page.mouse.move(box.x + point!.x, box.y + point!.y, { steps: 4 });
    const tooltip = page.locator('#tooltip');
    await expect.poll(() => tooltip.getAttribute('data-code'), { timeout: 10_000 }).toBe(code);
    expect(await tooltip.isVisible()).toBe(true);
    expect(await tooltip.locator('.tooltip-name').textContent()).toContain(row.name);
    const value = normalizeSpaces((await tooltip.locator('.tooltip-value').textContent()) ?? '');
    expect(value).toBe(`${(row.value! * 100).toFixed(1).replace('.', ',')} %`);
    const fraction = normalizeSpaces((await tooltip.locator('.tooltip-fraction').textContent()) ?? '');
    const match = /^([\d ]+) \/ ([\d ]+) locaux$/.exec(fraction);
    expect(match, fraction).not.toBeNull();
    expect(Number(match![1]!.replace(/ /g, ''))).toBe(row.numerator);
    expect(Number(match![2]!.replace(/ /g, ''))).toBe(row.denominator);
    await page.mouse.move(2, 2);
    await expect.poll(() => tooltip.isHidden()).toBe(true);
  });

  it('clicking a commune opens the side panel with exactly the API’s numbers', async () => {
    const code = demo.truth.splitUndeployed[0]!;
    const [point] = await project(page, [interiorPoint(code)]);
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + point!.x, box.y + point!.y);
    const panel = page.locator('#details');
    await expect.poll(() => panel.getAttribute('data-code'), { timeout: 15_000 }).toBe(code);
    expect(await page.locator('#panel-title').textContent()).toBe(communeByCode.get(code)!.name);
    expect(new URL(page.url()).searchParams.get('sel')).toBe(`commune:${code}`);

    const indicators = (await getJson<{ id: string; vintages: string[] }[]>(app, '/api/indicators')).body;
    const shown = await panel.locator('tr[data-indicator]').evaluateAll((trs) =>
      trs.map((tr) => {
        const value = tr.querySelector<HTMLElement>('.panel-value')!;
        const fraction = tr.querySelector<HTMLElement>('.panel-fraction')!;
        return {
          id: (tr as HTMLElement).dataset.indicator!,
          vintage: value.dataset.vintage ?? null,
          value: value.dataset.value === undefined ? null : Number(value.dataset.value),
          numerator: fraction.dataset.numerator === undefined ? null : Number(fraction.dataset.numerator),
          denominator: fraction.dataset.denominator === undefined ? null : Number(fraction.dataset.denominator),
        };
      }),
    );
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const row of shown) {
      const indicator = indicators.find((i) => i.id === row.id)!;
      // the map's indicator at the map's vintage, the others at their latest
      expect(row.vintage).toBe(row.id === 'fibre_coverage' ? latest : indicator.vintages.at(-1));
      const api = (await stats('commune', row.id, row.vintage!)).get(code);
      expect({ ...row, id: undefined, vintage: undefined }, row.id).toEqual({ value: api?.value ?? null, numerator: api?.numerator ?? null, denominator: api?.denominator ?? null, id: undefined, vintage: undefined });
    }
    // ranks among peers, when the server ranks (GET /api/territories)
    const profile = await getJson<{ indicators: { id: string; rank: { national: { rank: number; of: number } } | null }[] }>(app, `/api/territories/commune/${code}`);
    if (profile.status === 200) {
      const ranked = profile.body.indicators.find((i) => i.id === 'fibre_coverage')!.rank!;
      const cell = panel.locator('tr[data-indicator="fibre_coverage"] .panel-rank');
      expect([Number(await cell.getAttribute('data-rank')), Number(await cell.getAttribute('data-of'))]).toEqual([ranked.national.rank, ranked.national.of]);
    }
    // the time series holds one point per quarter, with the API's values
    const series = await panel.locator('[data-section="series"] circle').evaluateAll((circles) => circles.map((c) => [c.getAttribute('data-vintage'), Number(c.getAttribute('data-value'))]));
    expect(series.map(([vintage]) => vintage)).toEqual(demo.quarters);
    expect(series.at(-1)![1]).toBe(rows.get(code)!.value);
  });

  it('the time slider changes the vintage, the colours, the legend and the panel', async () => {
    const earlier = await stats('commune', 'fibre_coverage', first);
    // communes whose class differs between the first and the latest quarter
    const changed = demo.communes.map((c) => c.code).filter((code) => classify(earlier.get(code)?.value, RATIO_BREAKS) !== classify(rows.get(code)?.value, RATIO_BREAKS));
    expect(changed.length).toBeGreaterThan(5);
    const range = page.locator('#vintage-range');
    await redraw(page, async () => {
      await range.focus();
      await page.keyboard.press('Home');
    });
    expect(await page.evaluate(() => window.terrinum.vintage)).toBe(first);
    expect(normalizeSpaces((await page.locator('#vintage-output').textContent()) ?? '')).toBe(`T1 ${first.slice(0, 4)}`);
    expect(new URL(page.url()).searchParams.get('vintage')).toBe(first);
    const image = await mapRaster(browser, page, 'map-first-quarter');
    // the side panel is open: the map is narrower, some communes are behind the legend
    const colors = (await colorsAt(page, image, changed)).filter((c) => c.onCanvas);
    expect(colors.length).toBeGreaterThan(5);
    expect(colors.map((c) => `${c.code} ${rgbToCss(c.color)}`)).toEqual(colors.map((c) => `${c.code} ${rgbToCss(ratioColor(earlier.get(c.code)?.value))}`));
    const legendCounts = await page.locator('#legend .legend-row').evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.count)));
    expect(legendCounts.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => [...earlier.values()].filter((row) => classify(row.value, RATIO_BREAKS) === i).length));
    // the panel follows: the selected commune's fibre value at the first quarter
    const selected = demo.truth.splitUndeployed[0]!;
    const cell = page.locator('#details tr[data-indicator="fibre_coverage"] .panel-value');
    expect(await cell.getAttribute('data-vintage')).toBe(first);
    expect(Number(await cell.getAttribute('data-value'))).toBe(earlier.get(selected)!.value);

    // play steps through the quarters up to the latest, then stops
    await page.locator('#play-button').click();
    await page.waitForFunction((last) => window.terrinum.vintage === last && document.getElementById('play-button')!.getAttribute('aria-pressed') === 'false' && document.body.dataset.state === 'idle', latest, { timeout: 60_000 });
    expect(await range.inputValue()).toBe(String(demo.quarters.length - 1));
  });

  it('keeps the whole state in the URL: a reload restores the same map, selection and camera', async () => {
    await redraw(page, () => page.locator('#method-select').selectOption('quantile'));
    await redraw(page, () => page.locator('#level-select').selectOption('epci'));
    await redraw(page, () => page.locator('#vintage-range').fill('5'));
    const url = page.url();
    const params = Object.fromEntries(new URL(url).searchParams);
    expect(params).toMatchObject({ view: 'choropleth', indicator: 'fibre_coverage', vintage: demo.quarters[5], level: 'epci', classes: 'quantile', sel: `commune:${demo.truth.splitUndeployed[0]}` });
    const snapshot = () =>
      page.evaluate(() => ({
        view: window.terrinum.view,
        level: window.terrinum.level,
        indicator: window.terrinum.indicator,
        vintage: window.terrinum.vintage,
        legend: [...document.querySelectorAll<HTMLElement>('#legend .legend-row')].map((r) => `${r.dataset.class}:${r.dataset.count}:${r.dataset.color}`),
        selection: document.getElementById('details')!.dataset.code,
        center: window.terrinum.map!.getCenter().toArray().map((v) => v.toFixed(5)),
        zoom: window.terrinum.map!.getZoom().toFixed(2),
      }));
    const before = await snapshot();
    const beforeImage = await mapRaster(browser, page, 'map-before-reload');
    const other = await openPage(browser, pageErrors);
    try {
      await other.goto(url);
      await waitIdle(other);
      await expect.poll(() => other.evaluate(() => document.getElementById('details')!.dataset.code ?? null)).toBe(before.selection);
      const after = await other.evaluate(() => ({
        view: window.terrinum.view,
        level: window.terrinum.level,
        indicator: window.terrinum.indicator,
        vintage: window.terrinum.vintage,
        legend: [...document.querySelectorAll<HTMLElement>('#legend .legend-row')].map((r) => `${r.dataset.class}:${r.dataset.count}:${r.dataset.color}`),
        selection: document.getElementById('details')!.dataset.code,
        center: window.terrinum.map!.getCenter().toArray().map((v) => v.toFixed(5)),
        zoom: window.terrinum.map!.getZoom().toFixed(2),
      }));
      expect(after).toEqual(before);
      expect(other.url()).toBe(url);
      // same pixels (the tooltip and hover aside): at most a sliver differs
      const afterImage = await mapRaster(browser, other, 'map-after-reload');
      let differing = 0;
      const box = [Infinity, Infinity, -Infinity, -Infinity];
      for (let i = 0; i < beforeImage.data.length; i += 4) {
        if (Math.abs(beforeImage.data[i]! - afterImage.data[i]!) + Math.abs(beforeImage.data[i + 1]! - afterImage.data[i + 1]!) + Math.abs(beforeImage.data[i + 2]! - afterImage.data[i + 2]!) > 12) {
          differing++;
          const x = (i / 4) % beforeImage.width;
          const y = Math.floor(i / 4 / beforeImage.width);
          box[0] = Math.min(box[0]!, x);
          box[1] = Math.min(box[1]!, y);
          box[2] = Math.max(box[2]!, x);
          box[3] = Math.max(box[3]!, y);
        }
      }
      expect(differing / (beforeImage.data.length / 4), `differing pixels in ${box.join(',')}`).toBeLessThan(0.002);
    } finally {
      await other.close();
    }
    // back to the opening state for the next tests
    await redraw(page, () => page.locator('#level-select').selectOption('auto'));
    await redraw(page, () => page.locator('#method-select').selectOption('fixed'));
    await redraw(page, () => page.locator('#vintage-range').fill(String(demo.quarters.length - 1)));
  });

  it('chooses the level from the zoom unless one is chosen: zooming out draws the EPCI, then the département', async () => {
    expect(await page.evaluate(() => window.terrinum.level)).toBe('commune');
    const zoom = await page.evaluate(() => window.terrinum.map!.getZoom());
    await redraw(page, () => page.evaluate(() => window.terrinum.map!.zoomTo(7, { duration: 0 })));
    expect(await page.evaluate(() => window.terrinum.level)).toBe('epci');
    expect(normalizeSpaces((await page.locator('#level-select option[value="auto"]').textContent()) ?? '')).toBe('Auto · Intercommunalité (EPCI)');
    expect(new URL(page.url()).searchParams.has('level')).toBe(false);
    await redraw(page, () => page.evaluate(() => window.terrinum.map!.zoomTo(5.5, { duration: 0 })));
    expect(await page.evaluate(() => window.terrinum.level)).toBe('departement');
    expect(await page.locator('#legend .legend-subtitle').textContent()).toContain('1 département');
    await redraw(page, () => page.evaluate((z) => window.terrinum.map!.zoomTo(z, { duration: 0 }), zoom));
    expect(await page.evaluate(() => window.terrinum.level)).toBe('commune');
  });

  it('search finds a commune by name and by code, with the keyboard', async () => {
    const target = demo.communes[41]!;
    const input = page.locator('#search-input');
    for (const query of [target.name, target.code]) {
      await input.fill('');
      await input.focus();
      await page.keyboard.type(query, { delay: 10 });
      const option = page.locator(`#search-results li[data-code="${target.code}"]`);
      await option.waitFor({ timeout: 10_000 });
      expect(await input.getAttribute('aria-expanded')).toBe('true');
      // move the active option onto the target with the arrow keys, then Enter
      const options = await page.locator('#search-results li').evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.code));
      const index = options.indexOf(target.code);
      for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
      expect(await input.getAttribute('aria-activedescendant')).toBe(await option.getAttribute('id'));
      await page.keyboard.press('Enter');
      await expect.poll(() => page.evaluate(() => document.getElementById('details')!.dataset.code ?? null), { timeout: 15_000 }).toBe(target.code);
      expect(new URL(page.url()).searchParams.get('sel')).toBe(`commune:${target.code}`);
      expect(await input.getAttribute('aria-expanded')).toBe('false');
      await waitIdle(page);
    }
    // zoomed onto the commune: it is on screen, selected (black outline around its centre)
    const [point] = await project(page, [interiorPoint(target.code)]);
    expect(point!.onCanvas).toBe(true);
  });

  it('keyboard only: the first Tab reaches the skip link, which opens the data table; headers sort it; the numbers are the API’s', async () => {
    const fresh = await openPage(browser, pageErrors);
    try {
      await fresh.goto(app.url);
      await waitIdle(fresh);
      await fresh.keyboard.press('Tab');
      expect(await fresh.evaluate(() => document.activeElement?.id)).toBe('skip-link');
      await fresh.keyboard.press('Enter');
      expect(await fresh.evaluate(() => document.activeElement?.id)).toBe('table-section');
      expect(await fresh.locator('#table-section').isVisible()).toBe(true);
      await fresh.keyboard.press('Tab');
      const focused = await fresh.evaluate(() => document.activeElement?.closest('th')?.dataset.key ?? null);
      expect(focused).toBe('name');
      // Tab to the value column header, Enter sorts by value (descending first for numbers)
      for (let i = 0; i < 2; i++) await fresh.keyboard.press('Tab');
      expect(await fresh.evaluate(() => document.activeElement?.closest('th')?.dataset.key ?? null)).toBe('value');
      await fresh.keyboard.press('Enter');
      expect(await fresh.locator('th[data-key="value"]').getAttribute('aria-sort')).toBe('descending');
      const tableRows = await fresh.locator('#data-table tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({ code: (tr as HTMLElement).dataset.code!, value: (tr.querySelector('td[data-key="value"]') as HTMLElement | null)?.dataset.value ?? null })),
      );
      expect(tableRows.length).toBe(100);
      const byValue = [...rows.values()].filter((r) => r.value !== null).sort((a, b) => b.value! - a.value! || a.code.localeCompare(b.code));
      expect(tableRows.slice(0, 10).map((r) => Number(r.value))).toEqual(byValue.slice(0, 10).map((r) => r.value));
      for (const row of tableRows) expect(Number(row.value)).toBe(rows.get(row.code)!.value);
      // pages through the 300 communes
      expect(normalizeSpaces((await fresh.locator('.data-table-pager span').textContent()) ?? '')).toBe('Lignes 1–100 sur 300');
      expect(new URL(fresh.url()).searchParams.get('table')).toBe('1');
    } finally {
      await fresh.close();
    }
  });

  it('says plainly that the data are synthetic, in French and in English', async () => {
    const fr = 'Données synthétiques de démonstration — pas des données réelles';
    const en = 'Synthetic demonstration data — not real data';
    expect(await page.locator('#synthetic-banner').isVisible()).toBe(true);
    expect(normalizeSpaces((await page.locator('#synthetic-banner').textContent()) ?? '')).toBe(fr);
    const attribution = page.locator('.maplibregl-ctrl-attrib');
    expect(await attribution.isVisible()).toBe(true);
    expect(await attribution.textContent()).toContain(fr);

    await page.locator('#lang-toggle button[data-lang="en"]').click();
    expect(normalizeSpaces((await page.locator('#synthetic-banner').textContent()) ?? '')).toBe(en);
    expect(await page.locator('.maplibregl-ctrl-attrib').textContent()).toContain(en);
    expect(await page.locator('#legend .legend-row[data-class="no-data"] .legend-label').textContent()).toBe('No data');
    expect(await page.locator('#app-title').textContent()).toBe('terrinum — Digital territories');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(new URL(page.url()).searchParams.get('lang')).toBe('en');
    expect(await page.locator('#details .panel-heading').first().textContent()).toBe('Indicators');
    await page.locator('#lang-toggle button[data-lang="fr"]').click();
    expect(await page.locator('#app-title').textContent()).toBe('terrinum — Territoires numériques');
  });

  it('logged no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
