/**
 * End-to-end test of the printable fact sheet (fiche.html?level=&code=): its figures are the API's, its map
 * extract is a real picture of the classes, and Chromium prints it to PDF (page.pdf) with the map and the figures
 * in it — read back from the PDF itself (test/e2e/pdf.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PALETTE, RATIO_BREAKS, classify } from '../../client/src/colors.ts';
import type { Running } from '../../server/main.ts';
import { getJson, startDemoServer } from '../helpers/server.ts';
import { readPdf } from './pdf.ts';
import { RESULTS_DIR, countColor, decodePng, demo, ensureClientBuilt, launchBrowser, normalizeSpaces, openPage } from './support.ts';

interface StatsRow {
  code: string;
  name: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

let app: Running;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const latest = demo.quarters.at(-1)!;
const vintage = demo.quarters.at(-3)!;
const commune = demo.communes.find((c) => c.code === demo.truth.splitDeployed[0])!;

async function stats(level: string, indicator: string, at?: string): Promise<Map<string, StatsRow>> {
  const query = new URLSearchParams({ indicator });
  if (at) query.set('vintage', at);
  const answer = await getJson<{ rows: StatsRow[] }>(app, `/api/stats/${level}?${query}`);
  expect(answer.status).toBe(200);
  return new Map(answer.body.rows.map((r) => [r.code, r]));
}

async function openSheet(query: string): Promise<void> {
  await page.goto(`${app.url}fiche.html?${query}`);
  await page.waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 60_000 });
  expect(await page.evaluate(() => document.body.dataset.state), (await page.locator('#status').textContent()) ?? '').toBe('idle');
}

describe('the printable fact sheet (fiche.html)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ensureClientBuilt();
    app = await startDemoServer('embedded');
    browser = await launchBrowser();
    page = await openPage(browser, pageErrors, { width: 1000, height: 900 });
    await openSheet(`level=commune&code=${commune.code}&indicator=fibre_coverage&vintage=${vintage}`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows the commune’s key figures exactly as the API serves them, the chosen indicator at the chosen vintage', async () => {
    expect(await page.locator('#sheet-title').textContent()).toBe(commune.name);
    const indicators = (await getJson<{ id: string; vintages: string[] }[]>(app, '/api/indicators')).body;
    const figures = await page.locator('.figure').evaluateAll((cards) =>
      cards.map((card) => ({ id: (card as HTMLElement).dataset.indicator!, value: (card.querySelector('.figure-value') as HTMLElement).dataset.value ?? null })),
    );
    expect(figures.length).toBeGreaterThanOrEqual(3);
    for (const figure of figures) {
      const at = figure.id === 'fibre_coverage' ? vintage : indicators.find((i) => i.id === figure.id)!.vintages.at(-1);
      const row = (await stats('commune', figure.id, at)).get(commune.code);
      expect(figure.value === null ? null : Number(figure.value), figure.id).toBe(row?.value ?? null);
    }
    expect(await page.locator('.figure-main').getAttribute('data-indicator')).toBe('fibre_coverage');
  });

  it('compares with the département: the département’s values are the API’s', async () => {
    const departement = (await stats('departement', 'fibre_coverage', vintage)).get(demo.departement.code)!;
    const cells = page.locator('#comparison tr[data-indicator="fibre_coverage"] td');
    expect(Number(await cells.nth(1).getAttribute('data-value'))).toBe(departement.value);
    expect(Number(await cells.nth(0).getAttribute('data-value'))).toBe((await stats('commune', 'fibre_coverage', vintage)).get(commune.code)!.value);
    // the chart draws both series over every quarter
    expect(await page.locator('#sheet-chart circle').count()).toBe(demo.quarters.length * 2);
  });

  it('has a map extract: a picture of the classes with the commune in its own class', async () => {
    const src = (await page.locator('#sheet-map-image').getAttribute('src'))!;
    expect(src.startsWith('data:image/png;base64,')).toBe(true);
    const image = await decodePng(browser, Buffer.from(src.slice('data:image/png;base64,'.length), 'base64'));
    expect(image.width).toBeGreaterThanOrEqual(500);
    const own = (await stats('commune', 'fibre_coverage', vintage)).get(commune.code)!.value;
    const color = PALETTE[classify(own, RATIO_BREAKS)]!;
    expect(countColor(image, color), 'pixels of the commune’s class').toBeGreaterThan(2000);
  });

  it('prints to PDF (page.pdf) with the map and the figures, without the screen-only buttons', async () => {
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.fiche-actions').isHidden()).toBe(true);
    expect(await page.locator('#sheet-map-image').isVisible()).toBe(true);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    await page.emulateMedia({ media: 'screen' });
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(RESULTS_DIR, 'fiche.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const read = readPdf(pdf);
    expect(read.pages).toBeGreaterThanOrEqual(1);
    expect(read.pages).toBeLessThanOrEqual(2);
    // the map picture, at print resolution
    expect(read.images.some((i) => i.width >= 500 && i.height >= 300), JSON.stringify(read.images)).toBe(true);
    const text = normalizeSpaces(read.text);
    const value = normalizeSpaces((await page.locator('.figure-main .figure-value').textContent()) ?? '');
    expect(value).toMatch(/^\d+,\d %$/);
    for (const expected of [commune.name, value, 'Chiffres clés'.toUpperCase(), 'Données synthétiques de démonstration', demo.departement.name]) {
      expect(text, expected).toContain(expected);
    }
  });

  it('an EPCI has its fact sheet too, and the map’s panel links to it', async () => {
    const epci = demo.truth.splitEpci;
    await openSheet(`level=epci&code=${epci}&lang=en`);
    expect(await page.locator('#figures-title').textContent()).toBe('Key figures');
    const row = (await stats('epci', 'fibre_coverage', latest)).get(epci)!;
    expect(Number(await page.locator('.figure-main .figure-value').getAttribute('data-value'))).toBe(row.value);
    await page.goto(`${app.url}?view=choropleth&sel=epci:${epci}`);
    await page.waitForFunction(() => document.getElementById('details')?.dataset.code !== undefined, undefined, { timeout: 60_000 });
    const href = (await page.locator('#details .panel-factsheet').getAttribute('href'))!;
    expect(Object.fromEntries(new URL(href, app.url).searchParams)).toMatchObject({ level: 'epci', code: epci, indicator: 'fibre_coverage', vintage: latest });
  });

  it('logged no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
