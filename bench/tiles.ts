/**
 * Vector tile benchmark at national scale: the synthetic dataset of bench/national.ts (35,000 communes), tiles of
 * the commune layer carrying indicator values, in three zoom bands (z5–6, z8–9, z11–12), through the real HTTP
 * application on loopback.
 *   cold    the first request of each tile after a restart (a new application: empty tile cache, catalogue
 *           loaded by one TileJSON request first), 16 concurrent clients on the server, 4 embedded (PGlite
 *           runs one query at a time), from a worker thread;
 *   cached  the same tiles again, same concurrency; then throughput with autocannon (16 connections, a worker
 *           thread), cycling through every tile.
 * Baselines measured in the same run, on the same tiles at the same concurrency, band by band right before the
 * band's cold pass (so both see the same load from other processes): the tile SQL alone (server: the raw ST_AsMVT
 * query on the generalised outlines, as the issue's goal says, even where the service copies pre-cut low-zoom
 * geometry instead; embedded: what the HTTP layer wraps, pre-cut tiles included), and on the server a naive ST_AsMVT
 * query that projects and clips the full-resolution outlines per request. For throughput, the same tiles served
 * from a Map by a bare Node server and by a one-route Express application: the ceilings of this machine now.
 * Goals (issue #5): server cold p95 ≤ 1.3 × the tile SQL's p95; cached ≥ 5,000 tiles/s; embedded cold p95
 * ≤ 250 ms in every band.
 *
 *   npx tsx bench/tiles.ts [--communes N] [--tiles N] [--backend embedded|server]
 *
 * --tiles: distinct tiles per band (default 60; z5–6 has fewer over France); each is asked with two indicator
 * sets, so cold requests are twice as many. The server needs DATABASE_URL (a database terrinum_bench_tiles_<pid>
 * is created, then dropped).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import express from 'express';
import { sql } from 'kysely';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import { openDatabase, runNamedQuery, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { rebuildTileGeometry } from '../server/tiles/generalise.ts';
import { ZOOM_BANDS, bandOf } from '../server/tiles/layers.ts';
import { TileProperties } from '../server/tiles/precut.ts';
import { renderTile, type TileRequest } from '../server/tiles/render.ts';
import { BENCH_BANDS, bandTiles, fetchBody, listenApp, millis, percentiles, seconds, shuffled, timed, withServerDatabase, type Percentiles } from './lib.ts';
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
const INDICATOR_SETS = [['fibre_coverage'], ['usage_internet_daily', 'usage_non_internautes']];
const LAYER = 'commune';
const GOALS = { serverRatio: 1.3, cachedPerSecond: 5000, embeddedColdP95: 250 };

// ---- Tiles --------------------------------------------------------------------------------------------------

interface BandRequests {
  name: string;
  requests: TileRequest[];
}

/** Up to TILES tiles over the dataset's box per band, each with every indicator set. */
function bandRequests(vintages: Map<string, string>): BandRequests[] {
  return BENCH_BANDS.map((band, b) => {
    const picked = bandTiles(b, [WEST, SOUTH, EAST, NORTH], TILES);
    const requests = picked.flatMap((t) => INDICATOR_SETS.map((ids) => ({ layer: LAYER, ...t, indicators: ids.map((id) => ({ id, vintage: vintages.get(id)! })) })));
    return { name: band.name, requests: shuffled(requests, 7 + b) };
  });
}

const urlOf = (r: TileRequest) => `/tiles/${r.layer}/${r.z}/${r.x}/${r.y}.mvt?indicators=${r.indicators.map((i) => i.id).join(',')}`;

// ---- Measuring ----------------------------------------------------------------------------------------------

/**
 * The clients of the cold and cached passes, in a worker thread (as autocannon is): clients live outside the
 * server, and on the main thread their own HTTP parsing would queue behind the server's and count as its latency.
 * Each pass: `concurrency` clients pulling from one queue of paths, keep-alive, gzip accepted, bodies read.
 */
const CLIENT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const get = (path) => new Promise((resolve, reject) => {
  http.get(workerData.base + path, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
    res.on('data', () => undefined);
    res.on('end', () => resolve(res.statusCode));
  }).on('error', reject);
});
parentPort.on('message', async ({ paths, concurrency }) => {
  const times = [];
  const statuses = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const started = performance.now();
      statuses.push(await get(path));
      times.push(performance.now() - started);
    }
  }));
  parentPort.postMessage({ times, statuses });
});`;

interface Clients {
  /** Each path once; the milliseconds of each request. Throws on a status other than 200 or 204. */
  pass(paths: string[], concurrency: number): Promise<number[]>;
  close(): Promise<number>;
}

function clients(base: string): Clients {
  const worker = new Worker(CLIENT_SOURCE, { eval: true, workerData: { base } });
  return {
    pass: (paths, concurrency) =>
      new Promise((resolve, reject) => {
        worker.once('message', ({ times, statuses }: { times: number[]; statuses: number[] }) => {
          const bad = statuses.find((s) => s !== 200 && s !== 204);
          if (bad !== undefined) reject(new Error(`status ${bad}`));
          else resolve(times);
        });
        worker.once('error', reject);
        worker.postMessage({ paths, concurrency });
      }),
    close: () => worker.terminate(),
  };
}

interface Rate {
  perSecond: number;
  /** Main-thread CPU time per request in µs (the server's side: autocannon runs in a worker); null off Linux. */
  cpuPerRequest: number | null;
  non2xx: number;
  errors: number;
}

/** CPU time of this process's main thread in µs (Linux: /proc; clock ticks of 10 ms), null elsewhere. */
function mainThreadCpu(): number | null {
  try {
    const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of stat(5), counted from the field after the command name
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/**
 * Requests per second over HTTP for 5 s, 16 connections from a worker thread, cycling through the paths; and the
 * main thread's CPU time per request, which other processes' load barely changes (the rate, on 2 shared cores,
 * swings with it).
 */
async function throughput(base: string, paths: string[]): Promise<Rate> {
  const cpuBefore = mainThreadCpu();
  const result = await autocannon({
    url: base,
    connections: 16,
    duration: 5,
    workers: 1,
    headers: { 'accept-encoding': 'gzip' },
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  const cpuAfter = mainThreadCpu();
  const cpuPerRequest = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / Math.max(1, result.requests.total);
  return { perSecond: result.requests.average, cpuPerRequest, non2xx: result.non2xx, errors: result.errors };
}

/**
 * What this machine allows over loopback right now, measured as the tiles are: the same paths answered with the
 * same gzipped tiles from a Map, by a bare Node server and by a one-route Express application (the ceiling of
 * any tile server here; the gap to it is the application's own cost: routing, validation, security headers…).
 */
async function ceilings(bodies: Map<string, Buffer>): Promise<{ node: Rate; express: Rate }> {
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
  const rates: Rate[] = [];
  for (const server of [bare, minimal]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const rate = await throughput(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, [...bodies.keys()]);
    if (rate.non2xx || rate.errors) throw new Error('the ceiling servers answered errors');
    rates.push(rate);
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
  sql: Percentiles;
  naive?: Percentiles;
  cold: Percentiles;
  cached: Percentiles;
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
  throughput: Rate;
  bandRates: { name: string; rate: Rate }[];
  ceilings: { node: Rate; express: Rate };
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

  // Cold: a new application, its catalogue loaded by one TileJSON request; then, band by band, the tile SQL alone
  // (what the HTTP layer wraps: same tiles, same concurrency, rendered twice and the second pass timed, so that it
  // and the cold HTTP pass run on warm database buffers), right before every tile of the band once over HTTP
  // (none of them asked before: still cold), then again (cached). Interleaved so that the ratio compares passes
  // run under the same load from other processes.
  const app = await listenApp(database);
  started = performance.now();
  await fetchBody(app.agent, `${app.base}/tiles/${LAYER}.json?indicators=fibre_coverage`);
  const catalogueMs = performance.now() - started;
  const tileClients = clients(app.base);
  const results: BandResult[] = [];
  for (const band of bands) {
    // level-wide names and values shared across low-zoom tiles, as the tile service keeps them per data version;
    // on the server the raw ST_AsMVT query (the goal's baseline), not the pre-cut copy
    const properties = new TileProperties(db);
    const options = { properties, precut: backend === 'embedded' };
    await timed(band.requests, concurrency, (r) => renderTile(database, r, options).then(() => undefined));
    const sqlTimes = await timed(band.requests, concurrency, (r) => renderTile(database, r, options).then(() => undefined));
    let naiveTimes: number[] | undefined;
    if (backend === 'server') {
      const single = band.requests.filter((r) => r.indicators.length === 1);
      naiveTimes = await timed(single, concurrency, (r) => runNamedQuery(db, NAIVE_SQL, [r.z, r.x, r.y, r.indicators[0]!.id, r.indicators[0]!.vintage]).then(() => undefined));
    }
    const paths = band.requests.map(urlOf);
    const cold = await tileClients.pass(paths, concurrency);
    const cached = await tileClients.pass(paths, concurrency);
    const sample = await Promise.all(band.requests.slice(0, 20).map((r) => renderTile(database, r)));
    const featureCounts = await Promise.all(
      band.requests.slice(0, 20).map(async (r) => {
        const b = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tile_geometry WHERE level = ${LAYER} AND band = ${bandOf(r.z)} AND geom && ST_TileEnvelope(${r.z}::int, ${r.x}::int, ${r.y}::int)`.execute(db);
        return b.rows[0]!.n;
      }),
    );
    results.push({
      name: band.name,
      sql: percentiles(sqlTimes),
      naive: naiveTimes ? percentiles(naiveTimes) : undefined,
      cold: percentiles(cold),
      cached: percentiles(cached),
      bytes: mean(sample.map((t) => t.length)),
      features: mean(featureCounts),
    });
    log(`${band.name}: tile SQL p95 ${ms(percentiles(sqlTimes).p95)}, cold p95 ${ms(percentiles(cold).p95)}, cached p95 ${ms(percentiles(cached).p95)}`);
  }
  await tileClients.close();
  const all = bands.flatMap((b) => b.requests.map(urlOf));
  log('cached throughput (autocannon, 5 s)…');
  const rate = await throughput(app.base, all);
  // band by band as well: a z5 tile weighs ~150 KB gzipped, a z11 one under 1 KB, and the mix's rate is the bytes'
  const bandRates: { name: string; rate: Rate }[] = [];
  for (const band of bands) {
    log(`cached throughput, ${band.name} only (autocannon, 5 s)…`);
    bandRates.push({ name: band.name, rate: await throughput(app.base, band.requests.map(urlOf)) });
  }
  // every tile still cached (the LRU holds them all): the throughputs above measured cache hits
  const after = await Promise.all(all.map((p) => fetchBody(app.agent, app.base + p)));
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
    bandRates,
    ceilings: limits,
    meanGzipBytes,
    hitsAfter: after.filter((a) => a.headers['x-tile-cache'] === 'hit').length,
    requests: all.length,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const ms = millis;

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
  results.push(await withServerDatabase('terrinum_bench_tiles', (database) => benchmark(database, 'server')));
}

console.log(
  `\nterrinum vector tiles, ${COMMUNES.toLocaleString('en')} synthetic communes, layer ${LAYER} with indicator values,`,
  `on ${os.cpus().length} cores (load average ${loadBefore[0]!.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after)`,
);
if (!results.some((r) => r.backend === 'server')) console.log('server   skipped: set DATABASE_URL to measure the server backend');
const row = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
const triple = (s: Percentiles) => `${s.p50.toFixed(1)}/${s.p95.toFixed(1)}/${s.p99.toFixed(1)}`;
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
  console.log(`  by band: ${r.bandRates.map((b) => `${b.name} ${b.rate.perSecond.toFixed(0)} tiles/s`).join(', ')}`);
  const cpu = (rate: Rate) => (rate.cpuPerRequest === null ? 'n/a' : `${rate.cpuPerRequest.toFixed(0)} µs`);
  console.log(
    `  same-run ceilings, the same tiles served from a Map: bare Node ${r.ceilings.node.perSecond.toFixed(0)}/s (tiles at ${((100 * r.throughput.perSecond) / r.ceilings.node.perSecond).toFixed(0)} %), ` +
      `one-route Express ${r.ceilings.express.perSecond.toFixed(0)}/s (tiles at ${((100 * r.throughput.perSecond) / r.ceilings.express.perSecond).toFixed(0)} %)`,
  );
  console.log(
    `  main-thread CPU per request: tiles ${cpu(r.throughput)}, bare Node ${cpu(r.ceilings.node)}, one-route Express ${cpu(r.ceilings.express)}` +
      (r.throughput.cpuPerRequest ? ` (≈ ${(1e6 / r.throughput.cpuPerRequest).toFixed(0)} tiles/s per core busy serving)` : ''),
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
