/**
 * End-to-end test of the planners' map (GET /): the built client, served by the real server over the
 * demo database, drawn by Debian Chromium (WebGL2 on SwiftShader), checked on real pixels.
 *
 * TERRINUM_SKIP_CLIENT_BUILD=1 reuses dist/client instead of building it (saves ~3 s when iterating).
 * The last screenshot is written to test-results/e2e/map.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { booleanPointInPolygon, centroid, pointOnFeature } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_DATA_COLOR, PALETTE, RATIO_BREAKS, classify, rgbToCss, type Rgb } from '../../client/src/colors.ts';
import { generateDemo } from '../../server/demo/generate.ts';
import type { Running } from '../../server/main.ts';
import { getJson, startDemoServer } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const RESULTS_DIR = path.join(ROOT, 'test-results', 'e2e');
const VIEWPORT = { width: 1200, height: 800 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Per-channel tolerance when matching a rendered colour (fills are opaque: exact in practice). */
const TOLERANCE = 3;

interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

interface Raster {
  width: number;
  height: number;
  /** RGBA, row-major. */
  data: Buffer;
}

const demo = generateDemo();
const latest = demo.quarters.at(-1)!;
const communeByCode = new Map(demo.communes.map((c) => [c.code, c]));

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

/** Decodes a PNG with the browser's own decoder (no PNG library needed): colour conversion off. */
async function decodePng(png: Buffer): Promise<Raster> {
  const decoder = await browser.newPage();
  try {
    const { width, height, rgba } = await decoder.evaluate(async (base64: string) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), {
        colorSpaceConversion: 'none',
        premultiplyAlpha: 'none',
      });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d', { colorSpace: 'srgb' })!;
      context.drawImage(bitmap, 0, 0);
      const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
      let binary = '';
      for (let i = 0; i < pixels.length; i += 0x8000) binary += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
      return { width: bitmap.width, height: bitmap.height, rgba: btoa(binary) };
    }, png.toString('base64'));
    return { width, height, data: Buffer.from(rgba, 'base64') };
  } finally {
    await decoder.close();
  }
}

function pixel(image: Raster, x: number, y: number): Rgb {
  const i = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** The per-channel median of the 3×3 pixels around (x, y): immune to one stray border pixel. */
function sample(image: Raster, x: number, y: number): Rgb {
  const channels: number[][] = [[], [], []];
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      pixel(image, x + dx, y + dy).forEach((value, c) => channels[c]!.push(value));
    }
  }
  return channels.map((values) => values.sort((a, b) => a - b)[4]!) as unknown as Rgb;
}

const near = (a: Rgb, b: Rgb, tolerance = TOLERANCE) => a.every((value, c) => Math.abs(value - b[c]!) <= tolerance);

function countColor(image: Raster, color: Rgb): number {
  let count = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    if (
      Math.abs(image.data[i]! - color[0]) <= TOLERANCE &&
      Math.abs(image.data[i + 1]! - color[1]) <= TOLERANCE &&
      Math.abs(image.data[i + 2]! - color[2]) <= TOLERANCE
    ) {
      count++;
    }
  }
  return count;
}

/** A point well inside the commune: its centroid when inside, else turf's pointOnFeature. */
function interiorPoint(code: string): [number, number] {
  const commune = communeByCode.get(code);
  if (!commune) throw new Error(`no commune ${code} in the demo`);
  const feature: Feature<Polygon | MultiPolygon> = { type: 'Feature', properties: {}, geometry: commune.geometry };
  const center = centroid(feature);
  const point = booleanPointInPolygon(center, feature) ? center : pointOnFeature(feature);
  return point.geometry.coordinates as [number, number];
}

/** Projects lon/lat to pixels of the #map element (= of its screenshot), and tells what the pointer would hit there. */
async function project(points: [number, number][]): Promise<{ x: number; y: number; onCanvas: boolean }[]> {
  return page.evaluate((lonLats) => {
    const map = window.terrinum.map!;
    const box = map.getContainer().getBoundingClientRect();
    return lonLats.map(([lon, lat]) => {
      const { x, y } = map.project([lon, lat]);
      return { x, y, onCanvas: document.elementFromPoint(box.left + x, box.top + y) === map.getCanvas() };
    });
  }, points);
}

const normalizeSpaces = (text: string) => text.replace(/[\s\u00a0\u202f]+/g, ' ').trim();

describe('the planners’ map (GET /)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    if (process.env.TERRINUM_SKIP_CLIENT_BUILD !== '1') {
      await timed('build', async () => {
        // Vitest sets NODE_ENV=test; the client must be built as in production.
        const nodeEnv = process.env.NODE_ENV;
        process.env.NODE_ENV = 'production';
        try {
          await build({ configFile: path.join(ROOT, 'client', 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
        } finally {
          process.env.NODE_ENV = nodeEnv;
        }
      });
    }
    expect(fs.existsSync(path.join(ROOT, 'dist', 'client', 'index.html')), 'dist/client is built').toBe(true);
    app = await timed('server', () => startDemoServer('embedded'));
    browser = await timed('browser', () => chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }));
    page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'fr-FR' });
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console.error: ${message.text()}`);
    });
    page.on('requestfailed', (request) => pageErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));

    const stats = await getJson<{ vintage: string; rows: StatsRow[] }>(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    rows = new Map(stats.body.rows.map((row) => [row.code, row]));

    await timed('page', async () => {
      await page.goto(app.url);
      await page.waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 90_000 });
    });
    expect(await page.evaluate(() => document.body.dataset.state), pageErrors.join('\n')).toBe('idle');

    const png = await timed('screenshot', () => page.locator('#map').screenshot({ type: 'png' }));
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(RESULTS_DIR, 'map.png'), png);
    await page.screenshot({ path: path.join(RESULTS_DIR, 'page.png') });
    raster = await timed('decode', () => decodePng(png));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    console.info(`map e2e timings (ms): ${JSON.stringify(timings)}`);
  });

  it('opens on fibre coverage, latest vintage, fitted to the territory', async () => {
    const state = await page.evaluate(() => ({ indicator: window.terrinum.indicator, vintage: window.terrinum.vintage }));
    expect(state).toEqual({ indicator: 'fibre_coverage', vintage: latest });
    await expect.poll(() => page.locator('#indicator-select').inputValue()).toBe('fibre_coverage');
    expect(await page.locator('#vintage-select').inputValue()).toBe(latest);
    expect(await page.locator('#indicator-select optgroup').count()).toBeGreaterThanOrEqual(1);
    // Every commune's interior point is on screen and not hidden by the legend or a control.
    const points = await project(demo.communes.map((c) => interiorPoint(c.code)));
    const hidden = demo.communes.filter((_, i) => !points[i]!.onCanvas).map((c) => c.code);
    expect(hidden).toEqual([]);
  });

  it('draws the choropleth: at least three legend classes cover many pixels, with EPCI outlines on top', () => {
    expect(raster.width).toBe(VIEWPORT.width);
    const perClass = PALETTE.map((color) => countColor(raster, color));
    const visible = perClass.filter((count) => count >= 500);
    expect(visible.length, `pixels per class: ${perClass.join(', ')}`).toBeGreaterThanOrEqual(3);
    // Classes that hold several communes are all visible, and no other fill colour is needed.
    const expected = PALETTE.map((_, i) => [...rows.values()].filter((row) => classify(row.value, RATIO_BREAKS) === i).length);
    expected.forEach((communes, i) => {
      if (communes >= 3) expect(perClass[i], `class ${i} (${communes} communes)`).toBeGreaterThanOrEqual(200);
    });
    // Dark, neutral EPCI outline pixels (anti-aliased 1.5 px lines: matched loosely).
    let outline = 0;
    for (let i = 0; i < raster.data.length; i += 4) {
      const [r, g, b] = [raster.data[i]!, raster.data[i + 1]!, raster.data[i + 2]!];
      if (Math.max(r, g, b) < 110 && Math.max(r, g, b) - Math.min(r, g, b) < 30) outline++;
    }
    expect(outline, 'EPCI outline pixels').toBeGreaterThan(1500);
  });

  it('shows the planted multi-speed EPCI split: deployed communes in the top class, undeployed in the bottom one', async () => {
    const { splitEpci, splitDeployed, splitUndeployed } = demo.truth;
    expect(splitDeployed.length).toBeGreaterThan(0);
    expect(splitUndeployed.length).toBeGreaterThan(0);
    for (const code of [...splitDeployed, ...splitUndeployed]) expect(communeByCode.get(code)?.epci).toBe(splitEpci);

    const deployed = splitDeployed.slice(0, 5);
    const undeployed = splitUndeployed.slice(0, 5);
    const points = await project([...deployed, ...undeployed].map(interiorPoint));
    const report = [...deployed, ...undeployed].map((code, i) => {
      const { x, y, onCanvas } = points[i]!;
      return { code, value: rows.get(code)?.value, x: Math.round(x), y: Math.round(y), onCanvas, color: rgbToCss(sample(raster, x, y)) };
    });
    const top = rgbToCss(PALETTE.at(-1)!);
    const bottom = rgbToCss(PALETTE[0]!);
    expect(report.slice(0, deployed.length).map((r) => ({ code: r.code, onCanvas: r.onCanvas, color: r.color }))).toEqual(
      deployed.map((code) => ({ code, onCanvas: true, color: top })),
    );
    expect(report.slice(deployed.length).map((r) => ({ code: r.code, onCanvas: r.onCanvas, color: r.color }))).toEqual(
      undeployed.map((code) => ({ code, onCanvas: true, color: bottom })),
    );
    // The API agrees with the pixels (the truth holds from 2024-Q1 on).
    for (const r of report.slice(0, deployed.length)) expect(r.value).toBeGreaterThanOrEqual(0.95);
    for (const r of report.slice(deployed.length)) expect(r.value).toBe(0);
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
    const css = (color: Rgb) => `rgb(${color.join(', ')})`;
    expect(legend.map((row) => row.swatch)).toEqual([...PALETTE.map(css), css(NO_DATA_COLOR)]);
    expect(legend.reduce((sum, row) => sum + row.count, 0)).toBe(demo.communes.length);
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
    const [point] = await project([interiorPoint(code)]);
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
    await page.locator('#lang-toggle button[data-lang="fr"]').click();
    expect(await page.locator('#app-title').textContent()).toBe('terrinum — Territoires numériques');
  });

  it('logged no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
