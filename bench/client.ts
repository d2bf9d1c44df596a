/**
 * Client benchmark: the planners' map at national scale in headless Debian Chromium (WebGL2 on SwiftShader, no
 * GPU), over the synthetic national dataset of bench/national.ts (35,000 communes), through the real HTTP
 * application on loopback.
 *   first render  navigation → the commune view completely drawn (body[data-state=idle]: every tile loaded, every
 *                 colour set, nothing moving), France in a 1280 × 800 viewport, level forced to commune; cold
 *                 (a new application: empty tile cache) then warm (tiles cached by the server, a new browser
 *                 context each time: nothing cached by the browser). Geometry from vector tiles (the default),
 *                 and — the baseline — from the GeoJSON fallback (/api/geometries), in the same run.
 *   switches      indicator (fibre ↔ usage) and vintage (quarter ↔ quarter): from the change to the map drawn
 *                 again, first time (JSON fetched) and again (JSON in the client's cache). Baseline: the bare
 *                 fetch + JSON.parse of the same /api/stats rows in the same page.
 *   bundle        sizes of the built client, raw and gzip: what the map loads first, and what it loads later.
 * Goals (issue #6): national view ≤ 2.5 s, indicator switch ≤ 300 ms.
 *
 *   npx tsx bench/client.ts [--communes N] [--runs N] [--backend embedded|server] [--no-build]
 *
 * The embedded backend by default; --backend server (with DATABASE_URL) measures on a PostGIS server (a database
 * terrinum_bench_client_<pid>, dropped at the end).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { sql } from 'kysely';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import { loadConfig } from '../server/config.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { CLIENT_DIR, createApp } from '../server/http/app.ts';
import { createLogger } from '../server/log.ts';
import { rebuildTileGeometry } from '../server/tiles/generalise.ts';
import { STATS_FIELDS } from '../client/src/views/requests.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/e2e/chromium.ts';
import { buildNational } from './national.ts';

const { values: args } = parseArgs({
  options: {
    communes: { type: 'string', default: '35000' },
    runs: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'embedded' },
    'no-build': { type: 'boolean', default: false },
  },
});
const COMMUNES = Number(args.communes);
const RUNS = Number(args.runs);
if (!Number.isInteger(COMMUNES) || COMMUNES < 100 || COMMUNES > 99_999) throw new Error(`--communes must be a whole number from 100 to 99,999, got "${args.communes}"`);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a whole number ≥ 1, got "${args.runs}"`);
if (!['embedded', 'server'].includes(args.backend!)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');

const ROOT = path.resolve(import.meta.dirname, '..');
const VIEWPORT = { width: 1280, height: 800 };
const GOALS = { firstRenderMs: 2500, indicatorSwitchMs: 300 };

const log = (text: string) => process.stderr.write(`client bench: ${text}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const ms = (value: number) => `${Math.round(value).toLocaleString('en')} ms`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

// ---- Data and server ----------------------------------------------------------------------------------------

async function prepare(database: Database): Promise<{ buildMs: number }> {
  const started = performance.now();
  await migrate(database);
  const { db } = database;
  log(`building ${COMMUNES.toLocaleString('en')} communes…`);
  await buildNational(db, COMMUNES);
  await db.transaction().execute((trx) => recomputeAllAggregates(trx));
  log('generalising outlines for the tiles…');
  await db.transaction().execute((trx) => rebuildTileGeometry(trx));
  await sql`ANALYZE`.execute(db);
  return { buildMs: performance.now() - started };
}

interface Listening {
  url: string;
  close(): Promise<void>;
}

/** A fresh application (empty tile cache) on a free loopback port. */
async function listen(database: Database): Promise<Listening> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_DEMO: 'false' });
  const app = createApp({ config, database, logger: createLogger('silent') });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- Browser measurements -----------------------------------------------------------------------------------

interface Render {
  ms: number;
  tiles: number;
  geometry: string;
  /** When the script ran, the catalogue was loaded, the map was created; then the first update's parts. */
  marks: Record<string, number>;
  parts: Record<string, number>;
}

/** Opens the national commune view in a new context (empty browser cache) and times its first complete render. */
async function firstRender(browser: Browser, url: string, geometry: 'tiles' | 'geojson'): Promise<Render> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const page = await context.newPage();
  let tiles = 0;
  const problems: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('.mvt')) tiles++;
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  try {
    await page.goto(`${url}?view=choropleth&level=commune&indicator=fibre_coverage&lang=fr&geometry=${geometry}`);
    await page
      .waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 300_000 })
      .catch((error: Error) => {
        throw new Error(`${error.message}; the page said: ${problems.slice(0, 10).join(' | ') || 'nothing'}`);
      });
    const state = await page.evaluate(() => ({
      state: document.body.dataset.state,
      readyAt: window.terrinum.readyAt,
      geometry: window.terrinum.geometry,
      status: document.getElementById('status')?.textContent,
      marks: window.terrinum.marks,
      parts: window.terrinum.timings,
    }));
    if (state.state !== 'idle' || state.readyAt === null) throw new Error(`the map did not render: ${state.status}`);
    return { ms: state.readyAt, tiles, geometry: state.geometry ?? '?', marks: state.marks, parts: state.parts };
  } finally {
    await context.close();
  }
}

/** Runs an action in the page and times it until the map is drawn again (renders counter moves, state idle). */
async function timedSwitch(page: Page, action: () => Promise<unknown>): Promise<{ wall: number; update: number; parts: Record<string, number> }> {
  const before = await page.evaluate(() => ({ renders: window.terrinum.renders, at: performance.now() }));
  await action();
  await page.waitForFunction((n) => window.terrinum.renders > n && document.body.dataset.state === 'idle', before.renders, { timeout: 120_000 });
  const after = await page.evaluate(() => ({ at: performance.now(), update: window.terrinum.lastUpdateMs, parts: window.terrinum.timings }));
  return { wall: after.at - before.at, update: after.update, parts: after.parts };
}

/**
 * The bare cost of the rows a switch needs: fetch + parse of /api/stats in the page, every field (the default)
 * or the fields the choropleth asks for (client/src/views/requests.ts STATS_FIELDS); and the JSON's size.
 */
async function fetchBaseline(page: Page, indicator: string, vintage: string, fields: readonly string[] | null): Promise<{ ms: number; bytes: number }> {
  return page.evaluate(async ([id, v, f]) => {
    const started = performance.now();
    const response = await fetch(`/api/stats/commune?indicator=${id}&vintage=${v}${f ? `&fields=${f}` : ''}`, { cache: 'no-store' });
    const text = await response.text();
    const body = JSON.parse(text) as { rows: unknown[] };
    if (!body.rows.length) throw new Error('no rows');
    return { ms: performance.now() - started, bytes: text.length };
  }, [indicator, vintage, fields?.join(',') ?? null] as const);
}

interface Switches {
  indicatorFirst: number[];
  indicatorCached: number[];
  vintageFirst: number[];
  vintageCached: number[];
  fetchBaseline: number[];
  /** The same with the choropleth's fields= */
  fetchFields: number[];
  bytes: { all: number; fields: number };
  /** The parts of the cached indicator switches (fetch, build, colors, present, render). */
  parts: Record<string, number>[];
  /** Indicator switches timed from the test driver (Playwright round trips included). */
  wall: number[];
}

async function switches(browser: Browser, url: string, vintages: { fibre: string[]; usage: string }): Promise<Switches> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const result: Switches = { indicatorFirst: [], indicatorCached: [], vintageFirst: [], vintageCached: [], fetchBaseline: [], fetchFields: [], bytes: { all: 0, fields: 0 }, parts: [], wall: [] };
  try {
    await page.goto(`${url}?view=choropleth&level=commune&indicator=fibre_coverage&lang=fr`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle', undefined, { timeout: 300_000 });
    const select = (id: string) => timedSwitch(page, () => page.locator('#indicator-select').selectOption(id));
    // fibre → usage (JSON fetched) → fibre (cached) → usage (cached)
    const first = await select('usage_internet_daily');
    result.indicatorFirst.push(first.update);
    result.wall.push(first.wall);
    result.parts.push({ ...first.parts, kind: 0 });
    for (const id of ['fibre_coverage', 'usage_internet_daily']) {
      const cached = await select(id);
      result.indicatorCached.push(cached.update);
      result.wall.push(cached.wall);
      result.parts.push({ ...cached.parts, kind: 1 });
    }
    await select('fibre_coverage');
    // quarters: latest → previous (fetched) → latest (cached) → previous (cached)
    const index = vintages.fibre.length - 1;
    const range = (i: number) => timedSwitch(page, () => page.locator('#vintage-range').fill(String(i)));
    result.vintageFirst.push((await range(index - 1)).update);
    result.vintageCached.push((await range(index)).update);
    result.vintageCached.push((await range(index - 1)).update);
    if (index >= 2) result.vintageFirst.push((await range(index - 2)).update);
    for (let i = 0; i < 3; i++) {
      const all = await fetchBaseline(page, 'usage_internet_daily', vintages.usage, null);
      const some = await fetchBaseline(page, 'usage_internet_daily', vintages.usage, STATS_FIELDS.choropleth);
      result.fetchBaseline.push(all.ms);
      result.fetchFields.push(some.ms);
      result.bytes = { all: all.bytes, fields: some.bytes };
    }
  } finally {
    await context.close();
  }
  return result;
}

// ---- Bundle ---------------------------------------------------------------------------------------------------

interface Bundle {
  initialRaw: number;
  initialGzip: number;
  lazyRaw: number;
  lazyGzip: number;
  workerRaw: number;
  workerGzip: number;
  files: { name: string; raw: number; gzip: number; initial: boolean }[];
}

/**
 * Sizes of the built map: what it loads first — index.html's scripts, module preloads and styles, and what its
 * small entry (client/src/boot.ts) imports at once, the app and its dependencies (listed in the entry's
 * __vite__mapDeps) — and the rest (lazy chunks).
 */
function bundle(): Bundle {
  const html = fs.readFileSync(path.join(CLIENT_DIR, 'index.html'), 'utf8');
  const initialNames = new Set([...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)].map((m) => m[1]!));
  const entry = html.match(/<script type="module"[^>]*src="\/?(assets\/[^"]+)"/)?.[1];
  const deps = entry ? fs.readFileSync(path.join(CLIENT_DIR, entry), 'utf8').match(/__vite__mapDeps=[^\n]*?\[([^\]]*)\]/)?.[1] : undefined;
  for (const name of deps?.match(/assets\/[^"`']+/g) ?? []) initialNames.add(name);
  const files = fs
    .readdirSync(path.join(CLIENT_DIR, 'assets'))
    .filter((name) => /\.(m?js|css)$/.test(name))
    .map((name) => {
      const body = fs.readFileSync(path.join(CLIENT_DIR, 'assets', name));
      return { name, raw: body.length, gzip: zlib.gzipSync(body, { level: 9 }).length, initial: initialNames.has(`assets/${name}`) };
    });
  const sum = (list: typeof files, key: 'raw' | 'gzip') => list.reduce((total, f) => total + f[key], 0);
  const worker = files.filter((f) => f.name.startsWith('maplibre-gl-worker'));
  // the embed page and the fact sheet have their own entries: counted in neither
  const lazy = files.filter((f) => !f.initial && !worker.includes(f) && !/^(embed|fiche)-/.test(f.name));
  return {
    initialRaw: sum(files.filter((f) => f.initial), 'raw'),
    initialGzip: sum(files.filter((f) => f.initial), 'gzip'),
    lazyRaw: sum(lazy, 'raw'),
    lazyGzip: sum(lazy, 'gzip'),
    workerRaw: sum(worker, 'raw'),
    workerGzip: sum(worker, 'gzip'),
    files,
  };
}

// ---- Main -------------------------------------------------------------------------------------------------------

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function withDatabase<T>(run: (database: Database) => Promise<T>): Promise<T> {
  if (args.backend === 'embedded') {
    const database = await openDatabase({ databaseUrl: null, dataDir: 'memory://' });
    try {
      return await run(database);
    } finally {
      await database.close();
    }
  }
  const url = new URL(process.env.DATABASE_URL!);
  const name = `terrinum_bench_client_${process.pid}`;
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  await admin(url.toString(), `CREATE DATABASE ${name}`);
  try {
    await admin(benchUrl.toString(), 'CREATE EXTENSION postgis');
    const database = await openDatabase({ databaseUrl: benchUrl.toString(), dataDir: '' });
    try {
      return await run(database);
    } finally {
      await database.close();
    }
  } finally {
    await admin(url.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

if (!args['no-build'] || !fs.existsSync(path.join(CLIENT_DIR, 'index.html'))) {
  log('building the client…');
  await build({ configFile: path.join(ROOT, 'client', 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
}
const sizes = bundle();
const loadBefore = os.loadavg();

const measured = await withDatabase(async (database) => {
  const { buildMs } = await prepare(database);
  const { rows } = await sql<{ id: string; vintages: string[] }>`
    SELECT indicator_id AS id, array_agg(DISTINCT vintage ORDER BY vintage) AS vintages FROM indicator_value GROUP BY indicator_id`.execute(database.db);
  const fibre = rows.find((r) => r.id === 'fibre_coverage')!.vintages;
  const usage = rows.find((r) => r.id === 'usage_internet_daily')!.vintages.at(-1)!;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    log('first render, cold (a new application: empty tile cache)…');
    let app = await listen(database);
    const cold = await firstRender(browser, app.url, 'tiles');
    const warm: Render[] = [];
    for (let i = 0; i < RUNS; i++) {
      log(`first render, warm ${i + 1}/${RUNS}…`);
      warm.push(await firstRender(browser, app.url, 'tiles'));
    }
    log('switches…');
    const switched = await switches(browser, app.url, { fibre, usage });
    await app.close();
    // the baseline: the same view from the GeoJSON fallback (one file per level, tiled in the browser's worker)
    app = await listen(database);
    const geojson: Render[] = [];
    for (let i = 0; i < Math.min(RUNS, 2); i++) {
      log(`GeoJSON baseline ${i + 1}…`);
      geojson.push(await firstRender(browser, app.url, 'geojson'));
    }
    await app.close();
    return { buildMs, cold, warm, switched, geojson };
  } finally {
    await browser.close();
  }
});

const { cold, warm, switched, geojson } = measured;
const warmMs = median(warm.map((r) => r.ms));
const geojsonMs = median(geojson.map((r) => r.ms));
const indicatorFirst = median(switched.indicatorFirst);
const indicatorCached = median(switched.indicatorCached);
const vintageFirst = median(switched.vintageFirst);
const vintageCached = median(switched.vintageCached);
const fetchMs = median(switched.fetchBaseline);
const verdict = (value: number, goal: number) => (value <= goal ? `meets the goal (≤ ${ms(goal)})` : `MISSES the goal (≤ ${ms(goal)})`);

console.log(
  `\nterrinum planners' map, ${COMMUNES.toLocaleString('en')} synthetic communes, ${args.backend} backend, headless Chromium (SwiftShader), ` +
    `${VIEWPORT.width} × ${VIEWPORT.height}, ${os.cpus().length} cores (load average ${loadBefore[0]!.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after); dataset built in ${ms(measured.buildMs)}`,
);
console.log('\nfirst complete render of the national commune view (navigation → idle)');
console.log(`  vector tiles, cold (empty tile cache)  ${ms(cold.ms).padStart(10)}   ${cold.tiles} tiles   ${verdict(cold.ms, GOALS.firstRenderMs)}`);
console.log(`  vector tiles, warm (median of ${RUNS})     ${ms(warmMs).padStart(10)}   ${warm[0]!.tiles} tiles   ${verdict(warmMs, GOALS.firstRenderMs)}`);
console.log(`  baseline: GeoJSON fallback (median)    ${ms(geojsonMs).padStart(10)}   tiles warm / GeoJSON = ${(warmMs / geojsonMs).toFixed(2)}`);
const steps = (r: Render) =>
  `script ${ms(r.marks.script ?? 0)}, catalogue ${ms(r.marks.catalogue ?? 0)}, map created ${ms(r.marks.map ?? 0)}; first update: rows + tiles ${ms(r.parts.fetch ?? 0)}, ` +
  `build ${ms(r.parts.build ?? 0)}, colours ${ms(r.parts.colors ?? 0)}, legend ${ms(r.parts.present ?? 0)}, drawn ${ms(r.parts.render ?? 0)}`;
console.log(`  steps, warm (first run): ${steps(warm[0]!)}`);
console.log(`  steps, GeoJSON:          ${steps(geojson[0]!)}`);
console.log('\nswitches (the change event → the map drawn again, timed in the page)');
console.log(`  indicator, rows fetched               ${ms(indicatorFirst).padStart(10)}   ${verdict(indicatorFirst, GOALS.indicatorSwitchMs)}; ${(indicatorFirst / fetchMs).toFixed(2)} × the bare fetch`);
console.log(`  indicator, rows in the client cache   ${ms(indicatorCached).padStart(10)}   ${verdict(indicatorCached, GOALS.indicatorSwitchMs)}`);
console.log(`  vintage, rows fetched                 ${ms(vintageFirst).padStart(10)}   ${(vintageFirst / fetchMs).toFixed(2)} × the bare fetch`);
console.log(`  vintage, rows in the client cache     ${ms(vintageCached).padStart(10)}`);
console.log(`  baseline: fetch + parse of the ${COMMUNES.toLocaleString('en')} /api/stats rows alone  ${ms(fetchMs)} (every field, ${kb(switched.bytes.all)} of JSON)`);
console.log(`            the same with the map's fields=                 ${ms(median(switched.fetchFields))} (${kb(switched.bytes.fields)} of JSON)`);
console.log(`  indicator switches timed by the driver (select → idle, Playwright round trips included): median ${ms(median(switched.wall))}`);
const partsOf = (kind: number) => {
  const list = switched.parts.filter((p) => p.kind === kind);
  return ['fetch', 'build', 'colors', 'present', 'render'].map((key) => `${key} ${ms(median(list.map((p) => p[key] ?? 0)))}`).join(', ');
};
console.log(`  indicator switch, parts (rows fetched):  ${partsOf(0)}`);
console.log(`  indicator switch, parts (rows cached):   ${partsOf(1)}`);
console.log('\nbundle (dist/client)');
console.log(`  loaded by the map first   ${kb(sizes.initialRaw).padStart(10)} raw  ${kb(sizes.initialGzip).padStart(10)} gzip`);
console.log(`  loaded later (deck.gl…)   ${kb(sizes.lazyRaw).padStart(10)} raw  ${kb(sizes.lazyGzip).padStart(10)} gzip`);
console.log(`  MapLibre worker           ${kb(sizes.workerRaw).padStart(10)} raw  ${kb(sizes.workerGzip).padStart(10)} gzip`);
for (const file of [...sizes.files].sort((a, b) => b.gzip - a.gzip).slice(0, 8)) {
  console.log(`    ${file.name.padEnd(44)} ${kb(file.raw).padStart(10)} ${kb(file.gzip).padStart(10)} gzip${file.initial ? '  (first)' : ''}`);
}
