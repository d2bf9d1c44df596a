/**
 * Export benchmark at national scale: the synthetic national dataset (bench/national.ts, 35,000 communes of
 * ~40 vertices, fibre_coverage and two usage rates) served by the real HTTP server, then
 *   - baseline: the raw geometry text read from the database in batches of 1,000 through a cursor
 *     (DECLARE … CURSOR FOR SELECT code, name, ST_AsGeoJSON(geom, 6) …; FETCH 1000), nothing else;
 *   - GET /api/export/commune.geojson (three indicators): throughput (goal ≥ 30 MB/s) and peak RSS growth during
 *     the download (goal < 100 MB: the export is streamed), both against the baseline of the same run;
 *   - the same export as CSV, GeoPackage (EPSG:2154), FlatGeobuf and zipped Shapefile: time and size;
 *   - OGC API items, 10,000 communes per page.
 * Embedded (in-memory PGlite) always; the server when DATABASE_URL is set (a fresh database terrinum_bench_export_<pid>,
 * dropped at the end). The client reads the body as fast as it comes, in the same process (RSS includes both).
 * "node CPU" is this process's CPU time: on a shared machine it says what the work costs when wall times do not
 * (with the embedded backend it includes the database; with the server backend, PostgreSQL's own is not in it).
 *
 *   npx tsx bench/export.ts [--communes N] [--backend embedded|server]
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../server/config.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { createApp } from '../server/http/app.ts';
import { createLogger } from '../server/log.ts';
import { mb, seconds, withServerDatabase } from './lib.ts';
import { buildNational } from './national.ts';

const { values: args } = parseArgs({ options: { communes: { type: 'string', default: '35000' }, backend: { type: 'string' } } });
const COMMUNES = Number(args.communes);
if (!Number.isInteger(COMMUNES) || COMMUNES < 100 || COMMUNES > 99_999) throw new Error(`--communes must be a whole number from 100 to 99,999, got "${args.communes}"`);
if (args.backend && !['embedded', 'server'].includes(args.backend)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');

const INDICATORS = 'fibre_coverage,usage_internet_daily,usage_non_internautes';
const GOAL_MB_S = 30;
const GOAL_RSS_MB = 100;
type BackendName = 'embedded' | 'server';

interface Measure {
  ms: number;
  /** CPU time of this process (server and client; with the embedded backend, the database too), in ms. */
  cpuMs: number;
  bytes: number;
  /** Peak RSS during the measure minus RSS just before, in bytes. */
  rssGrowth: number;
}

/** Samples RSS every 5 ms while `body` runs. */
async function measure(body: () => Promise<number>): Promise<Measure> {
  const before = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  try {
    const bytes = await body();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    peak = Math.max(peak, process.memoryUsage.rss());
    return { ms, cpuMs: (used.user + used.system) / 1000, bytes, rssGrowth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

/** Downloads a URL with node:http (lighter than fetch: the client shares the process), counting the bytes. */
function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => (response.statusCode === 200 ? resolve(bytes) : reject(new Error(`${url}: HTTP ${response.statusCode}`))));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The baseline: geometry text and names read through a cursor in batches of 1,000, in one transaction. */
async function cursorBaseline(database: Database): Promise<number> {
  let bytes = 0;
  await database.db.transaction().execute(async (trx) => {
    await sql`DECLARE bench_cursor NO SCROLL CURSOR FOR
      SELECT code, name, ST_AsGeoJSON(geom, 6) AS geometry FROM territory WHERE level = 'commune' ORDER BY code`.execute(trx);
    for (;;) {
      const { rows } = await sql<{ code: string; name: string; geometry: string }>`FETCH 1000 FROM bench_cursor`.execute(trx);
      if (!rows.length) break;
      for (const row of rows) bytes += row.geometry.length + row.code.length + row.name.length;
    }
    await sql`CLOSE bench_cursor`.execute(trx);
  });
  return bytes;
}

interface Result {
  build: number;
  baseline: Measure;
  geojson: Measure;
  geojsonAgain: Measure;
  formats: Record<string, Measure>;
  ogc: Measure;
}

async function benchmark(database: Database, backend: BackendName): Promise<Result> {
  await migrate(database);
  process.stderr.write(`${backend}: building ${COMMUNES.toLocaleString('en')} communes…\n`);
  const started = performance.now();
  await buildNational(database.db, COMMUNES);
  const build = performance.now() - started;
  process.stderr.write(`  built in ${seconds(build)}\n`);
  // the app itself, without start()'s migration check: the database was migrated before the (long) build
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_DEMO: 'false', TERRINUM_EXPORT_RATE_LIMIT: '0' });
  const server = createApp({ config, database, logger: createLogger('silent') }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const url = (path: string) => new URL(path, origin).toString();
    // warm-up: catalogue caches, query plans, the WASM heap of the embedded backend
    await download(url(`/api/export/commune.geojson?indicators=${INDICATORS}&codes=00001,00002`));
    const step = async (name: string, body: () => Promise<number>) => {
      const result = await measure(body);
      process.stderr.write(`  ${name}: ${seconds(result.ms)}, ${mb(result.bytes)} MB, RSS +${mb(result.rssGrowth)} MB\n`);
      return result;
    };
    const baseline = await step('baseline cursor', () => cursorBaseline(database));
    const geojson = await step('geojson', () => download(url(`/api/export/commune.geojson?indicators=${INDICATORS}`)));
    const geojsonAgain = await step('geojson (again)', () => download(url(`/api/export/commune.geojson?indicators=${INDICATORS}`)));
    const formats: Record<string, Measure> = {};
    for (const format of ['csv', 'gpkg', 'fgb', 'shp.zip']) {
      formats[format] = await step(format, () => download(url(`/api/export/commune.${format}?indicators=${INDICATORS}`)));
    }
    const ogc = await step('ogc items (10,000)', () => download(url('/ogc/collections/commune/items?limit=10000')));
    return { build, baseline, geojson, geojsonAgain, formats, ogc };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await database.close();
  }
}


const throughput = (m: Measure) => m.bytes / 1e6 / (m.ms / 1000);

const results: Partial<Record<BackendName, Result>> = {};
const loadBefore = os.loadavg();

if (args.backend !== 'server') {
  results.embedded = await benchmark(await openDatabase({ databaseUrl: null, dataDir: 'memory://' }), 'embedded');
}

if (args.backend !== 'embedded' && process.env.DATABASE_URL) {
  results.server = await withServerDatabase('terrinum_bench_export', (database) => benchmark(database, 'server'));
}

console.log(
  `\nterrinum exports, ${COMMUNES.toLocaleString('en')} synthetic communes, indicators ${INDICATORS},`,
  `on ${os.cpus().length} cores (load average ${loadBefore[0]!.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after)`,
);
if (!results.server) console.log('server   skipped: set DATABASE_URL to measure the server backend');
for (const [backend, r] of Object.entries(results) as [BackendName, Result][]) {
  console.log(`\n${backend} (data built in ${seconds(r.build)})`);
  console.log(
    `${'what'.padEnd(26)} ${'time'.padStart(9)} ${'size MB'.padStart(9)} ${'MB/s'.padStart(8)} ${'RSS +MB'.padStart(8)} ${'time/baseline'.padStart(14)} ${'node CPU'.padStart(9)} ${'MB/CPU-s'.padStart(9)}`,
  );
  const line = (what: string, m: Measure) =>
    console.log(
      `${what.padEnd(26)} ${seconds(m.ms).padStart(9)} ${mb(m.bytes).padStart(9)} ${throughput(m).toFixed(1).padStart(8)} ${mb(m.rssGrowth).padStart(8)} ${`${(m.ms / r.baseline.ms).toFixed(2)}×`.padStart(14)} ${seconds(m.cpuMs).padStart(9)} ${(m.bytes / 1e3 / m.cpuMs).toFixed(1).padStart(9)}`,
    );
  line('baseline: cursor SELECT', r.baseline);
  line('geojson export', r.geojson);
  line('geojson export (again)', r.geojsonAgain);
  for (const [format, m] of Object.entries(r.formats)) line(`${format} export`, m);
  line('ogc items, limit=10000', r.ogc);
  const best = r.geojson.ms <= r.geojsonAgain.ms ? r.geojson : r.geojsonAgain;
  const rss = Math.max(r.geojson.rssGrowth, r.geojsonAgain.rssGrowth);
  console.log(
    `geojson: ${throughput(best).toFixed(1)} MB/s (${(throughput(best) / throughput(r.baseline)).toFixed(2)}× the baseline's ${throughput(r.baseline).toFixed(1)} MB/s of raw geometry text)` +
      ` ${throughput(best) >= GOAL_MB_S ? 'OK' : 'UNDER'} (≥ ${GOAL_MB_S} MB/s); peak RSS growth ${mb(rss)} MB ${rss / 1e6 < GOAL_RSS_MB ? 'OK' : 'OVER'} (< ${GOAL_RSS_MB} MB)`,
  );
}
