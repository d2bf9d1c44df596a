/**
 * The API docs page (/api/docs) drawn by Debian Chromium with every request to another origin refused: it must
 * render every operation from this server alone, under terrinum's Content-Security-Policy.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../server/http/validation.ts';
import type { Running } from '../server/main.ts';
import { startDemoServer } from './helpers/server.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from './e2e/chromium.ts';


describe('API docs page in Chromium, offline', () => {
  let app: Running;
  let browser: Browser;
  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
    app = await startDemoServer('embedded');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders every operation with no request elsewhere and no CSP violation', async () => {
    const page = await browser.newPage();
    const origin = new URL(app.url).origin;
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    await page.addInitScript(() => {
      (window as any).cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as any).cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(new URL('/api/docs', app.url).href);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const count = await page.locator('.opblock').count();
    expect(count).toBe(operations().length);
    expect(await page.locator('h1').first().textContent()).toMatch(/documentation de l’API/);
    expect(await page.evaluate(() => (window as any).cspViolations)).toEqual([]);
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  });
});
