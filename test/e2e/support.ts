/**
 * Shared by the end-to-end tests: builds the client once (a lock and a hash of client/ let several test files
 * share one build), starts the demo server and Debian Chromium (WebGL2 on SwiftShader), and reads pixels.
 *
 * TERRINUM_SKIP_CLIENT_BUILD=1 reuses dist/client as it is.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { booleanPointInPolygon, centroid, pointOnFeature } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';
import type { Rgb } from '../../client/src/colors.ts';
import { generateDemo } from '../../server/demo/generate.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const RESULTS_DIR = path.join(ROOT, 'test-results', 'e2e');
export const CLIENT_DIR = path.join(ROOT, 'dist', 'client');
export const VIEWPORT = { width: 1200, height: 800 };
/** Per-channel tolerance when matching a rendered colour (fills are opaque: exact in practice). */
export const TOLERANCE = 3;

export const demo = generateDemo();
export const communeByCode = new Map(demo.communes.map((c) => [c.code, c]));

// ---------- Build once ----------

function hashDir(dir: string, hash: crypto.Hash): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) hashDir(full, hash);
    else hash.update(entry.name).update(fs.readFileSync(full));
  }
}

function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  hashDir(path.join(ROOT, 'client'), hash);
  hash.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  return hash.digest('hex');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Builds dist/client unless it was built from the same sources; one builder at a time across test files. */
export async function ensureClientBuilt(): Promise<void> {
  if (process.env.TERRINUM_SKIP_CLIENT_BUILD === '1') {
    expect(fs.existsSync(path.join(CLIENT_DIR, 'index.html')), 'dist/client is built').toBe(true);
    return;
  }
  const lock = path.join(ROOT, 'dist', '.client-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // a builder that died leaves its lock: take it over after three minutes
      if (Date.now() - fs.statSync(lock).mtimeMs > 180_000) fs.rmSync(lock, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  try {
    const hash = sourceHash();
    const stamp = path.join(CLIENT_DIR, '.source-hash');
    const built = fs.existsSync(path.join(CLIENT_DIR, 'index.html')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash;
    if (!built) {
      // Vitest sets NODE_ENV=test; the client must be built as in production.
      const nodeEnv = process.env.NODE_ENV;
      process.env.NODE_ENV = 'production';
      try {
        await build({ configFile: path.join(ROOT, 'client', 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
      } finally {
        process.env.NODE_ENV = nodeEnv;
      }
      fs.writeFileSync(stamp, hash);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  expect(fs.existsSync(path.join(CLIENT_DIR, 'index.html')), 'dist/client is built').toBe(true);
}

// ---------- Browser ----------

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A page that records errors: page errors, console errors, failed requests. */
export async function openPage(browser: Browser, errors: string[], viewport = VIEWPORT): Promise<Page> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1, locale: 'fr-FR' });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // the client probes optional routes and falls back when they answer 404 (tiles, territory profiles, search)
    const probe = /\/tiles\/[a-z]+\.json|\/api\/territories\/|\/api\/search/.test(message.location().url);
    if (probe && message.text().includes('404')) return;
    const where = message.location().url;
    // the text of an Error argument is its class name only: ask the page for the message
    void Promise.all(message.args().map((arg) => arg.evaluate((v) => (v instanceof Error ? `${v.name}: ${v.message}` : String(v))).catch(() => '?')))
      .then((args) => errors.push(`console.error: ${args.join(' ') || message.text()} (${where})`));
  });
  page.on('requestfailed', (request) => {
    // downloads started by tests are aborted on purpose
    if (!request.url().includes('/api/export/')) errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  return page;
}

/** Waits until the map is drawn (body[data-state=idle]) after `renders` completed draws, or fails on error. */
export async function waitIdle(page: Page, afterRenders?: number): Promise<void> {
  await page.waitForFunction(
    (after) => {
      const state = document.body.dataset.state;
      if (state === 'error') return true;
      return state === 'idle' && (after === null || window.terrinum.renders > after);
    },
    afterRenders ?? null,
    { timeout: 90_000 },
  );
  const state = await page.evaluate(() => document.body.dataset.state);
  expect(state, await page.evaluate(() => document.getElementById('status')?.textContent ?? '')).toBe('idle');
}

export const renders = (page: Page) => page.evaluate(() => window.terrinum.renders);

/** Runs an action that redraws the map and waits for the new draw. */
export async function redraw(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = await renders(page);
  await action();
  await waitIdle(page, before);
}

// ---------- Pixels ----------

export interface Raster {
  width: number;
  height: number;
  /** RGBA, row-major. */
  data: Buffer;
}

/** Decodes a PNG with the browser's own decoder (no PNG library needed): colour conversion off. */
export async function decodePng(browser: Browser, png: Buffer): Promise<Raster> {
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

/** Screenshot of #map, decoded; also written to test-results/e2e/NAME.png. */
export async function mapRaster(browser: Browser, page: Page, name: string): Promise<Raster> {
  // no hover outline, tooltip (with its shadow) nor focus ring in the picture
  await page.mouse.move(1, 1);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.waitForFunction(() => document.getElementById('tooltip')?.hidden !== false);
  await page.evaluate(() => window.terrinum?.territoryMap?.rendered());
  const png = await page.locator('#map').screenshot({ type: 'png' });
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.png`), png);
  return decodePng(browser, png);
}

export function pixel(image: Raster, x: number, y: number): Rgb {
  const i = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** The per-channel median of the 3×3 pixels around (x, y): immune to one stray border pixel. */
export function sample(image: Raster, x: number, y: number): Rgb {
  const channels: number[][] = [[], [], []];
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      pixel(image, x + dx, y + dy).forEach((value, c) => channels[c]!.push(value));
    }
  }
  return channels.map((values) => values.sort((a, b) => a - b)[4]!) as unknown as Rgb;
}

export const near = (a: Rgb, b: Rgb, tolerance = TOLERANCE) => a.every((value, c) => Math.abs(value - b[c]!) <= tolerance);

export function countColor(image: Raster, color: Rgb): number {
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
export function interiorPoint(code: string): [number, number] {
  const commune = communeByCode.get(code);
  if (!commune) throw new Error(`no commune ${code} in the demo`);
  const feature: Feature<Polygon | MultiPolygon> = { type: 'Feature', properties: {}, geometry: commune.geometry };
  const center = centroid(feature);
  const point = booleanPointInPolygon(center, feature) ? center : pointOnFeature(feature);
  return point.geometry.coordinates as [number, number];
}

/** Projects lon/lat to pixels of the #map element (= of its screenshot), and tells what the pointer would hit there. */
export async function project(page: Page, points: [number, number][]): Promise<{ x: number; y: number; onCanvas: boolean }[]> {
  return page.evaluate((lonLats) => {
    const map = window.terrinum.map!;
    const box = map.getContainer().getBoundingClientRect();
    // deck.gl's canvas (points) lies over the map's but lets the pointer through
    const canvasAt = (x: number, y: number) => {
      const hit = document.elementFromPoint(box.left + x, box.top + y);
      return hit === map.getCanvas() || (hit instanceof HTMLCanvasElement && hit.id === 'deckgl-overlay');
    };
    return lonLats.map(([lon, lat]) => {
      const { x, y } = map.project([lon, lat]);
      // clear of any panel and of its shadow: the point and four points 12 px around it are on the map
      const onCanvas = [[0, 0], [12, 0], [-12, 0], [0, 12], [0, -12]].every(([dx, dy]) => canvasAt(x + dx!, y + dy!));
      return { x, y, onCanvas };
    });
  }, points);
}

/** The rendered colour at each commune's interior point. */
export async function colorsAt(page: Page, image: Raster, codes: string[]): Promise<{ code: string; onCanvas: boolean; color: Rgb }[]> {
  const points = await project(page, codes.map(interiorPoint));
  return codes.map((code, i) => ({ code, onCanvas: points[i]!.onCanvas, color: sample(image, points[i]!.x, points[i]!.y) }));
}

export const normalizeSpaces = (text: string) => text.replace(/[\s\u00a0\u202f]+/g, ' ').trim();

/** "1 234,5 %" → 1234.5 */
export const frenchNumber = (text: string) => Number(normalizeSpaces(text).replace(/[^\d,.-]/g, '').replace(/\s/g, '').replace(',', '.'));
