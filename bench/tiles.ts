/**
 * Vector tile benchmark at national scale: the synthetic dataset of bench/national.ts (35,000 communes), tiles of
 * the commune layer carrying indicator values, in three zoom bands (z5–6, z8–9, z11–12), through the real HTTP
 * application on loopback.
 *   cold    the first request of each tile after a restart (a new application: empty tile cache, catalogue
 *           loaded by one TileJSON request first), 16 concurrent clients on the server, 4 embedded (PGlite
 *           runs one query at a time);
 *   cached  the same tiles again, same concurrency; then throughput with autocannon (16 connections, a worker
 *           thread), cycling through every tile.
 * Baselines measured in the same run, on the same tiles at the same concurrency: the tile SQL alone (server:
 * the ST_AsMVT query; embedded: SQL + geojson-vt + vt-pbf, what the HTTP layer wraps), and on the server a
 * naive ST_AsMVT query that projects and clips the full-resolution outlines per request.
 * Goals (issue #5): server cold p95 ≤ 1.3 × the tile SQL's p95; cached ≥ 5,000 tiles/s; embedded cold p95
 * ≤ 250 ms in every band.
 *
 *   npx tsx bench/tiles.ts [--communes N] [--tiles N] [--backend embedded|server]
 *
 * --tiles: distinct tiles per band (default 60; z5–6 has fewer over France); each is asked with two indicator
 * sets, so cold requests are twice as many. The server needs DATABASE_URL (a database terrinum_bench_tiles_<pid>
 * is created, then dropped).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import express from 'express';
import { sql } from 'kysely';
import pg from 'pg';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import { loadConfig } from '../server/config.ts';
import { openDatabase, runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { createApp } from '../server/http/app.ts';
import { createLogger } from '../server/log.ts';
import { rebuildTileGeometry } from '../server/tiles/generalise.ts';
import { ZOOM_BANDS, bandOf } from '../server/tiles/layers.ts';
import { renderTile, type TileRequest } from '../server/tiles/render.ts';
import { EAST, NORTH, SOUTH, WEST, buildNational } from './national.ts';

const { values: args } = parseArgs({
  options: { communes: { type: 'string', default: '35000' }, tiles: { type: 'string', default: '60' }, backend: { type: 'string' } },
});
const COMMUNES = Number(args.communes);
const TILES = Number(args.tiles);
if (!Number.isInteger(COMMUNES) || COMMUNES < 100 || COMMUNES > 99_999) throw new Error(`--communes must be a whole number from 100 to 99,999, got "${args.communes}"`);
if (!Number.isInteger(TILES) || TILES < 1) throw new Error(`--tiles must be a whole number ≥ 1, got "${args.tiles}"`);
if (args.backend && !['embedded', 'server'].includes(args.backend)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');

type BackendName = 'embedded' | 'server';
const CONCURRENCY: Record<BackendName, number> = { embedded: 4, server: 16 };
const BANDS = [
  { name: 'z5–6', zooms: [5, 6] },
  { name: 'z8–9', zooms: [8, 9] },
  { name: 'z11–12', zooms: [11, 12] },
];
const INDICATOR_SETS = [['fibre_coverage'], ['usage_internet_daily', 'usage_non_internautes']];
const LAYER = 'commune';
const GOALS = { serverRatio: 1.3, cachedPerSecond: 5000, embeddedColdP95: 250 };

// ---- Tiles --------------------------------------------------------------------------------------------------

function tileOf(lon: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const sin = Math.sin((lat * Math.PI) / 180);
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor((0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * n) };
}

/** Deterministic shuffle (mulberry32), so every run and backend asks the same tiles. */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

interface BandRequests {
  name: string;
  requests: TileRequest[];
}

/** Up to TILES tiles over the dataset's box per band, each with every indicator set. */
function bandRequests(vintages: Map<string, string>): BandRequests[] {
  return BANDS.map((band, b) => {
    const tiles = band.zooms.flatMap((z) => {
      const a = tileOf(WEST, NORTH, z);
      const c = tileOf(EAST, SOUTH, z);
      const list: { z: number; x: number; y: number }[] = [];
      for (let x = a.x; x <= c.x; x++) for (let y = a.y; y <= c.y; y++) list.push({ z, x, y });
      return list;
    });
    const picked = shuffled(tiles, 20240 + b).slice(0, TILES);
    const requests = picked.flatMap((t) => INDICATOR_SETS.map((ids) => ({ layer: LAYER, ...t, indicators: ids.map((id) => ({ id, vintage: vintages.get(id)! })) })));
    return { name: band.name, requests: shuffled(requests, 7 + b) };
  });
}

const urlOf = (r: TileRequest) => `/tiles/${r.layer}/${r.z}/${r.x}/${r.y}.mvt?indicators=${r.indicators.map((i) => i.id).join(',')}`;

// ---- Measuring ----------------------------------------------------------------------------------------------

/** Runs `work` over the items with `concurrency` workers pulling from one queue; returns each item's milliseconds. */
async function timed<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const started = performance.now();
        await work(item);
        times.push(performance.now() - started);
      }
    }),
  );
  return times;
}

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

function percentiles(times: number[]): Stats {
  const sorted = [...times].sort((a, b) => a - b);
  // nearest-rank percentile
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99) };
}

/** GET with gzip accepted, body read and not decompressed (a browser's work, not the server's). */
function fetchTile(agent: http.Agent, base: string, path: string): Promise<{ status: number; body: Buffer; cache: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(base + path, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), cache: res.headers['x-tile-cache'] as string | undefined }));
      })
      .on('error', reject);
  });
}

interface Listening {
  base: string;
  /** Keep-alive connections to this server only, closed with it. */
  agent: http.Agent;
  close(): Promise<void>;
}

/** A fresh application (empty tile cache) on a free loopback port: a restart of the HTTP layer. */
async function listen(database: Database): Promise<Listening> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_DEMO: 'false' });
  const app = createApp({ config, database, logger: createLogger('silent') });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    agent,
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Requests per second over HTTP for 5 s, 16 connections from a worker thread, cycling through the paths. */
async function throughput(base: string, paths: string[]): Promise<{ perSecond: number; non2xx: number; errors: number }> {
  const result = await autocannon({
    url: base,
    connections: 16,
    duration: 5,
    workers: 1,
    headers: { 'accept-encoding': 'gzip' },
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  return { perSecond: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

/**
 * What this machine allows over loopback right now, measured as the tiles are: the same paths answered with the
 * same gzipped tiles from a Map, by a bare Node server and by a one-route Express application (the ceiling of
 * any tile server here; the gap to it is the application's own cost: routing, validation, security headers…).
 */
async function ceilings(bodies: Map<string, Buffer>): Promise<{ node: number; express: number }> {
  const answer = (path: string, res: http.ServerResponse) => {
    const body = bodies.get(path);
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'application/vnd.mapbox-vector-tile');
    res.setHeader('Content-Encoding', 'gzip');
    res.end(body);
  };
  const bare = http.createServer((req, res) => answer(req.url!, res));
  const minimal = http.createServer(express().get('/tiles/:layer/:z/:x/:y.mvt', (req, res) => answer(req.originalUrl, res)));
  const rates: number[] = [];
  for (const server of [bare, minimal]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const rate = await throughput(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, [...bodies.keys()]);
    if (rate.non2xx || rate.errors) throw new Error('the ceiling servers answered errors');
    rates.push(rate.perSecond);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { node: rates[0]!, express: rates[1]! };
}

// ---- Naive baseline (server) --------------------------------------------------------------------------------

/** What a tile costs without generalised outlines: full-resolution outlines projected and clipped per request. */
const NAIVE_SQL = `
  WITH b AS (SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile),
  f AS (
    SELECT t.code, t.name,
           (SELECT v.value FROM indicator_value v WHERE v.territory_id = t.id AND v.indicator_id = $4 AND v.vintage = $5) AS value,
           ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.tile, 4096, 64, true) AS geom
    FROM territory t CROSS JOIN b
    WHERE t.level = 'commune' AND t.geom && ST_Transform(b.tile, 4326)
  )
  SELECT ST_AsMVT(f, 'commune', 4096, 'geom') AS tile FROM f WHERE geom IS NOT NULL`;

// ---- One backend --------------------------------------------------------------------------------------------

interface BandResult {
  name: string;
  sql: Stats;
  naive?: Stats;
  cold: Stats;
  cached: Stats;
  bytes: number;
  features: number;
}

interface Result {
  backend: BackendName;
  buildMs: number;
  aggregatesMs: number;
  generaliseMs: number;
  generalisedRows: number;
  catalogueMs: number;
  bands: BandResult[];
  throughput: { perSecond: number; non2xx: number; errors: number };
  ceilings: { node: number; express: number };
  meanGzipBytes: number;
  hitsAfter: number;
  requests: number;
}

async function benchmark(database: Database, backend: BackendName): Promise<Result> {
  await migrate(database);
  const { db } = database;
  const log = (text: string) => process.stderr.write(`${backend}: ${text}\n`);
  log(`building ${COMMUNES.toLocaleString('en')} communes…`);
  let started = performance.now();
  await buildNational(db, COMMUNES);
  const buildMs = performance.now() - started;
  started = performance.now();
  await db.transaction().execute((trx) => recomputeAllAggregates(trx));
  const aggregatesMs = performance.now() - started;
  log(`built in ${seconds(buildMs)}, aggregates in ${seconds(aggregatesMs)}; generalising outlines…`);
  started = performance.now();
  const generalisedRows = await db.transaction().execute((trx) => rebuildTileGeometry(trx));
  const generaliseMs = performance.now() - started;
  log(`${generalisedRows.toLocaleString('en')} generalised outlines in ${seconds(generaliseMs)}`);
  await sql`ANALYZE`.execute(db);

  const { rows } = await sql<{ id: string; vintage: string }>`SELECT indicator_id AS id, max(vintage) AS vintage FROM indicator_value GROUP BY indicator_id`.execute(db);
  const bands = bandRequests(new Map(rows.map((r) => [r.id, r.vintage])));
  const concurrency = CONCURRENCY[backend];

  // The tile SQL alone (what the HTTP layer wraps), same tiles, same concurrency; rendered twice, the second
  // timed, so that both it and the cold HTTP pass below run on warm database buffers.
  const sqlTimes = new Map<string, number[]>();
  const naiveTimes = new Map<string, number[]>();
  const sizes = new Map<string, { bytes: number; features: number }>();
  for (const band of bands) {
    await timed(band.requests, concurrency, (r) => renderTile(database, r).then(() => undefined));
    sqlTimes.set(band.name, await timed(band.requests, concurrency, (r) => renderTile(database, r).then(() => undefined)));
    if (backend === 'server') {
      const single = band.requests.filter((r) => r.indicators.length === 1);
      naiveTimes.set(band.name, await timed(single, concurrency, (r) => runNamedQuery(db, NAIVE_SQL, [r.z, r.x, r.y, r.indicators[0]!.id, r.indicators[0]!.vintage]).then(() => undefined)));
    }
    const sample = await Promise.all(band.requests.slice(0, 20).map((r) => renderTile(database, r)));
    const featureCounts = await Promise.all(
      band.requests.slice(0, 20).map(async (r) => {
        const b = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tile_geometry WHERE level = ${LAYER} AND band = ${bandOf(r.z)} AND geom && ST_TileEnvelope(${r.z}::int, ${r.x}::int, ${r.y}::int)`.execute(db);
        return b.rows[0]!.n;
      }),
    );
    sizes.set(band.name, { bytes: mean(sample.map((s) => s.length)), features: mean(featureCounts) });
    log(`${band.name}: tile SQL p95 ${ms(percentiles(sqlTimes.get(band.name)!).p95)}`);
  }

  // Cold: a new application, its catalogue loaded by one TileJSON request, then every tile once.
  const app = await listen(database);
  started = performance.now();
  await fetchTile(app.agent, app.base, `/tiles/${LAYER}.json?indicators=fibre_coverage`);
  const catalogueMs = performance.now() - started;
  const results: BandResult[] = [];
  for (const band of bands) {
    const paths = band.requests.map(urlOf);
    const check = (answer: { status: number }) => {
      if (answer.status !== 200 && answer.status !== 204) throw new Error(`${backend}: status ${answer.status}`);
    };
    const cold = await timed(paths, concurrency, (p) => fetchTile(app.agent, app.base, p).then(check));
    const cached = await timed(paths, concurrency, (p) => fetchTile(app.agent, app.base, p).then(check));
    results.push({
      name: band.name,
      sql: percentiles(sqlTimes.get(band.name)!),
      naive: naiveTimes.has(band.name) ? percentiles(naiveTimes.get(band.name)!) : undefined,
      cold: percentiles(cold),
      cached: percentiles(cached),
      ...sizes.get(band.name)!,
    });
    log(`${band.name}: cold p95 ${ms(percentiles(cold).p95)}, cached p95 ${ms(percentiles(cached).p95)}`);
  }
  const all = bands.flatMap((b) => b.requests.map(urlOf));
  log('cached throughput (autocannon, 5 s)…');
  const rate = await throughput(app.base, all);
  // every tile still cached (the LRU holds them all): the throughput above measured cache hits
  const after = await Promise.all(all.map((p) => fetchTile(app.agent, app.base, p)));
  await app.close();
  const meanGzipBytes = mean(after.map((a) => a.body.length));
  log('ceilings: the same tiles from a Map, bare Node and one-route Express…');
  const limits = await ceilings(new Map(all.map((p, i) => [p, after[i]!.body])));
  return {
    backend,
    buildMs,
    aggregatesMs,
    generaliseMs,
    generalisedRows,
    catalogueMs,
    bands: results,
    throughput: rate,
    ceilings: limits,
    meanGzipBytes,
    hitsAfter: after.filter((a) => a.cache === 'hit').length,
    requests: all.length,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

// ---- Main ---------------------------------------------------------------------------------------------------

const results: Result[] = [];
const loadBefore = os.loadavg();

if (args.backend !== 'server') {
  const database = await openDatabase({ databaseUrl: null, dataDir: 'memory://' });
  try {
    results.push(await benchmark(database, 'embedded'));
  } finally {
    await database.close();
  }
}

if (args.backend !== 'embedded' && process.env.DATABASE_URL) {
  const url = new URL(process.env.DATABASE_URL);
  const name = `terrinum_bench_tiles_${process.pid}`;
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  await admin(url.toString(), `CREATE DATABASE ${name}`);
  const drop = () => admin(url.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  process.once('SIGINT', () => void drop().finally(() => process.exit(130)));
  try {
    await admin(benchUrl.toString(), 'CREATE EXTENSION postgis');
    const database = await openDatabase({ databaseUrl: benchUrl.toString(), dataDir: '' });
    try {
      results.push(await benchmark(database, 'server'));
    } finally {
      await database.close();
    }
  } finally {
    await drop();
  }
}

console.log(
  `\nterrinum vector tiles, ${COMMUNES.toLocaleString('en')} synthetic communes, layer ${LAYER} with indicator values,`,
  `on ${os.cpus().length} cores (load average ${loadBefore[0]!.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after)`,
);
if (!results.some((r) => r.backend === 'server')) console.log('server   skipped: set DATABASE_URL to measure the server backend');
const row = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
const triple = (s: Stats) => `${s.p50.toFixed(1)}/${s.p95.toFixed(1)}/${s.p99.toFixed(1)}`;
for (const r of results) {
  const c = CONCURRENCY[r.backend];
  console.log(
    `\n${r.backend}: dataset built in ${seconds(r.buildMs)}, aggregates ${seconds(r.aggregatesMs)}; generalised outlines ` +
      `(${r.generalisedRows.toLocaleString('en')} rows, ${ZOOM_BANDS.length} zoom bands) rebuilt in ${seconds(r.generaliseMs)}; catalogue load after a restart ${ms(r.catalogueMs)}`,
  );
  const widths = [8, 6, 10, 9, 22, 22, 22, ...(r.backend === 'server' ? [22, 11] : []), 12];
  console.log(
    row(
      ['band', 'tiles', 'features', 'KB/tile', `tile SQL p50/95/99`, `cold p50/95/99 (c=${c})`, `cached p50/95/99`, ...(r.backend === 'server' ? ['naive SQL p50/95/99', 'naive/SQL'] : []), 'cold/SQL p95'],
      widths,
    ),
  );
  for (const b of r.bands) {
    console.log(
      row(
        [
          b.name,
          String(b.cold.n),
          b.features.toFixed(0),
          (b.bytes / 1024).toFixed(1),
          triple(b.sql),
          triple(b.cold),
          triple(b.cached),
          ...(b.naive ? [triple(b.naive), `${(b.naive.p95 / b.sql.p95).toFixed(1)}×`] : []),
          `${(b.cold.p95 / b.sql.p95).toFixed(2)}×`,
        ],
        widths,
      ),
    );
  }
  console.log(
    `cached throughput: ${r.throughput.perSecond.toFixed(0)} tiles/s (autocannon, 16 connections, 5 s, mean ${(r.meanGzipBytes / 1024).toFixed(1)} KB gzipped; ` +
      `${r.throughput.non2xx} non-2xx, ${r.throughput.errors} errors; ${r.hitsAfter}/${r.requests} tiles still cached after)`,
  );
  console.log(
    `  same-run ceilings, the same tiles served from a Map: bare Node ${r.ceilings.node.toFixed(0)}/s (tiles at ${((100 * r.throughput.perSecond) / r.ceilings.node).toFixed(0)} %), ` +
      `one-route Express ${r.ceilings.express.toFixed(0)}/s (tiles at ${((100 * r.throughput.perSecond) / r.ceilings.express).toFixed(0)} %)`,
  );
  const verdicts: string[] = [];
  if (r.backend === 'server') {
    const worst = Math.max(...r.bands.map((b) => b.cold.p95 / b.sql.p95));
    verdicts.push(`cold p95 ≤ ${GOALS.serverRatio}× tile SQL p95: worst ${worst.toFixed(2)}× ${worst <= GOALS.serverRatio ? 'OK' : 'OVER'}`);
  } else {
    const worst = Math.max(...r.bands.map((b) => b.cold.p95));
    verdicts.push(`cold p95 ≤ ${GOALS.embeddedColdP95} ms in every band: worst ${ms(worst)} ${worst <= GOALS.embeddedColdP95 ? 'OK' : 'OVER'}`);
  }
  verdicts.push(`cached ≥ ${GOALS.cachedPerSecond} tiles/s: ${r.throughput.perSecond.toFixed(0)} ${r.throughput.perSecond >= GOALS.cachedPerSecond ? 'OK' : 'UNDER'}`);
  console.log(`goals: ${verdicts.join('; ')}`);
}
