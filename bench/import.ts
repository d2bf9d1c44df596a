/**
 * Import benchmark: throughput and peak memory of `terrinum import` for commune boundaries (Aisne 02 and
 * Pas-de-Calais 62), the ARCEP folder and a synthetic premises CSV, on the embedded backend and, when
 * DATABASE_URL is set, on the server. Each import runs in its own process (`node bin/terrinum.js import …`),
 * under /usr/bin/time -v for its peak RSS (else /proc/<pid>/status VmHWM, polled). The point-in-polygon
 * placement is timed apart from CSV parsing: the importer's own placement query (sql/queries/
 * place_staged_premises.sql) is replayed on the imported points, in a transaction rolled back, after the join
 * alone. Baselines measured in the same run: csv-parse streaming the same CSV (and JSON.parse of the GeoJSON,
 * csv-parse of the ARCEP folder), COPY of the same rows into an unlogged table (PGlite; psql \copy on the
 * server).
 *
 *   npx tsx bench/import.ts [--rows N] [--backend embedded|server] [--placement-sample N]
 *
 * --rows: premises rows (default 10,000,000: a 333 MB CSV generated once into the OS temp folder and reused).
 * The full 10M run takes several minutes per backend — measured on 2 cores: about 12 min on the server and,
 * extrapolated from 1M rows (2 min), 20–25 min on the embedded backend; `--rows 1000000` gives the rates in
 * about 8 min for both backends. --backend restricts the run to one backend.
 * --placement-sample: points the placement replay uses (default min(rows, 1,000,000)); its insert goes into a
 * premises_point that already holds the import, so its rate is a little below the importer's own.
 * Peak RSS is the importer's process: on the server backend the PostgreSQL server's memory is not in it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, runNamedQuery } from '../server/db/database.ts';
import { namedQuery } from '../server/db/sql-files.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'terrinum.js');
const SHARED = path.resolve(ROOT, '..', 'shared', 'data');
const COMMUNES = ['communes-02-aisne.geojson', 'communes-62-pas-de-calais.geojson'].map((f) => path.join(SHARED, 'geo', f));
const ARCEP = path.join(SHARED, 'arcep');
const TIME = '/usr/bin/time';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '10000000' }, backend: { type: 'string' }, 'placement-sample': { type: 'string' } },
});
const ROWS = Number(args.rows);
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error(`--rows must be a positive whole number, got "${args.rows}"`);
const SAMPLE = Math.min(ROWS, Number(args['placement-sample'] ?? 1_000_000));
if (args.backend && !['embedded', 'server'].includes(args.backend)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');
for (const file of [...COMMUNES, ARCEP]) if (!fs.existsSync(file)) throw new Error(`shared data missing: ${file}`);

interface Run {
  wallMs: number;
  /** Peak resident set size of the process, bytes. */
  peakRss: number;
  stdout: string;
}

/** Runs a command to completion with its peak RSS; progress lines of the importer go to our stderr. */
function measure(command: string, commandArgs: string[], env: Record<string, string> = {}): Promise<Run> {
  const useTime = fs.existsSync(TIME);
  const started = performance.now();
  const child = useTime
    ? spawn(TIME, ['-v', command, ...commandArgs], { cwd: ROOT, env: { ...process.env, ...env } })
    : spawn(command, commandArgs, { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  let polledPeak = 0;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        try {
          const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
          if (kb) polledPeak = Math.max(polledPeak, Number(kb) * 1024);
        } catch {
          // exited
        }
      }, 100);
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    for (const line of String(d).split('\n')) if (/^(premises rows|boundaries|arcep rows)/.test(line)) process.stderr.write(`    ${line}\n`);
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${path.basename(command)} ${commandArgs.join(' ')} exited with ${code}:\n${stdout}\n${stderr.slice(-4000)}`));
      const timed = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      resolve({ wallMs, peakRss: timed ? Number(timed) * 1024 : polledPeak, stdout });
    });
  });
}

/** The first line of each import report: "import … FILE: N read, M imported, … (T s)". */
function reports(stdout: string): { read: number; imported: number; seconds: number }[] {
  return [...stdout.matchAll(/: (\d+) read, (\d+) imported, .*\(([\d.]+) s\)$/gm)].map((m) => ({ read: Number(m[1]), imported: Number(m[2]), seconds: Number(m[3]) }));
}

/** Runs a Node ES module snippet from the repository root (its imports resolve there); prints its stdout. */
const nodeSnippet = (script: string) => measure(process.execPath, ['--input-type=module', '-e', script]);

/**
 * The synthetic premises file, generated once per row count and reused: lon,lat,premises,status,operator.
 * Each point lies in the bounding box of an Aisne commune picked at random, so nearly all fall in a commune
 * (that one or a neighbour); a few near the département's edge fall outside every imported commune.
 */
function premisesCsv(rows: number): string {
  const file = path.join(os.tmpdir(), `terrinum-bench-premises-${rows}.csv`);
  if (fs.existsSync(file)) return file;
  const boxes = (JSON.parse(fs.readFileSync(COMMUNES[0]!, 'utf8')) as GeoJSON.FeatureCollection<GeoJSON.Polygon | GeoJSON.MultiPolygon>).features.map((f) => {
    const points = (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat(2);
    const lons = points.map((p) => p[0]!);
    const lats = points.map((p) => p[1]!);
    return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)] as const;
  });
  let seed = 20180331;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const statuses = ['deployed', 'in_progress', 'planned'];
  const partial = `${file}.${process.pid}.partial`;
  const out = fs.openSync(partial, 'w');
  let chunk = 'lon,lat,premises,status,operator\n';
  for (let i = 0; i < rows; i++) {
    const [west, south, east, north] = boxes[Math.floor(random() * boxes.length)]!;
    chunk += `${(west + random() * (east - west)).toFixed(6)},${(south + random() * (north - south)).toFixed(6)},${1 + (i % 12)},${statuses[i % 3]},OP${i % 7}\n`;
    if (chunk.length > 1 << 22) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
  fs.renameSync(partial, file);
  return file;
}

/** The join of place_staged_premises alone (its `placed` CTE): each staged point to the commune containing it. */
const JOIN_ONLY = `
SELECT count(*)::int AS points, count(commune_id)::int AS placed FROM (
  SELECT DISTINCT ON (s.line) s.line, c.id AS commune_id
  FROM premises_staging s
  LEFT JOIN territory c ON c.level = 'commune' AND ST_Intersects(c.geom, s.geom)
  ORDER BY s.line, c.code
) placed`;

class Rollback extends Error {}

/**
 * Times the point-in-polygon placement on `sample` imported points: the join alone, then the importer's full
 * placement query (join + insert into premises_point), both in one transaction that is rolled back.
 */
async function timePlacement(config: { databaseUrl: string | null; dataDir: string }, sample: number) {
  const database = await openDatabase(config);
  const result = { points: 0, placed: 0, joinMs: 0, placeMs: 0 };
  try {
    await database.db.transaction().execute(async (trx) => {
      await runNamedQuery(trx, namedQuery('create_premises_staging'));
      await runNamedQuery(
        trx,
        `INSERT INTO premises_staging (line, geom, premises, status, operator)
         SELECT (row_number() OVER (ORDER BY id))::int + 1, geom, premises, status, operator
         FROM (SELECT * FROM premises_point ORDER BY id LIMIT $1) p`,
        [sample],
      );
      await runNamedQuery(trx, namedQuery('analyze_premises_join'));
      const [source] = await runNamedQuery<{ id: number }>(trx, `INSERT INTO source (kind, name) VALUES ('premises', 'bench placement replay') RETURNING id`);
      let started = performance.now();
      const [joined] = await runNamedQuery<{ points: number; placed: number }>(trx, JOIN_ONLY);
      result.joinMs = performance.now() - started;
      started = performance.now();
      await runNamedQuery(trx, namedQuery('place_staged_premises'), [source!.id]);
      result.placeMs = performance.now() - started;
      Object.assign(result, joined);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  } finally {
    await database.close();
  }
  return result;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

// ---- output -----------------------------------------------------------------------------------------------
const table: string[][] = [['backend', 'what', 'records', 'time', 'rate', 'peak RSS', 'ratio']];
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (count: number, ms: number, unit: string) => `${Math.round(count / (ms / 1000)).toLocaleString('en')} ${unit}/s`;
function row(backend: string, what: string, records: number | string, ms: number, unit: string, rss: number | null, ratio = '') {
  const line = [backend, what, typeof records === 'number' ? records.toLocaleString('en') : records, secs(ms), typeof records === 'number' ? rate(records, ms, unit) : '', rss === null ? '' : mb(rss), ratio];
  table.push(line);
  console.error(`  ${line.filter(Boolean).join('  ')}`);
}
const times = (ms: number, baseMs: number) => `${(ms / baseMs).toFixed(1)}× baseline`;

// ---- baselines --------------------------------------------------------------------------------------------
console.error(`premises CSV: ${ROWS.toLocaleString('en')} rows`);
let started = performance.now();
const CSV = premisesCsv(ROWS);
console.error(`  ${CSV} (${mb(fs.statSync(CSV).size)}), ready in ${secs(performance.now() - started)}`);

console.error('baselines');
const csvParse = await nodeSnippet(
  `import fs from 'node:fs'; import { parse } from 'csv-parse'; let n = 0; const t = performance.now();
   for await (const r of fs.createReadStream(${JSON.stringify(CSV)}).pipe(parse({ from_line: 2 }))) n++;
   console.log(n, performance.now() - t);`,
);
const [csvRows, csvMs] = csvParse.stdout.trim().split(' ').map(Number) as [number, number];
row('node', 'csv-parse stream of the premises CSV', csvRows, csvMs, 'rows', csvParse.peakRss);
const geojson = await nodeSnippet(
  `import fs from 'node:fs'; const t = performance.now(); let n = 0;
   for (const f of ${JSON.stringify(COMMUNES)}) n += JSON.parse(fs.readFileSync(f, 'utf8')).features.length;
   console.log(n, performance.now() - t);`,
);
const [geoFeatures, geoMs] = geojson.stdout.trim().split(' ').map(Number) as [number, number];
row('node', 'JSON.parse of the 02 + 62 communes GeoJSON', geoFeatures, geoMs, 'features', geojson.peakRss);
const arcepParse = await nodeSnippet(
  `import fs from 'node:fs'; import path from 'node:path'; import { parse } from 'csv-parse'; const t = performance.now(); let n = 0;
   for (const f of fs.readdirSync(${JSON.stringify(ARCEP)})) for await (const r of fs.createReadStream(path.join(${JSON.stringify(ARCEP)}, f)).pipe(parse({ from_line: 6, relax_column_count: true }))) n++;
   console.log(n, performance.now() - t);`,
);
const [arcepRows, arcepMs] = arcepParse.stdout.trim().split(' ').map(Number) as [number, number];
row('node', 'csv-parse of the ARCEP folder', arcepRows, arcepMs, 'rows', arcepParse.peakRss);

// ---- imports ----------------------------------------------------------------------------------------------
interface Target {
  name: 'embedded' | 'server';
  env: Record<string, string>;
  config: { databaseUrl: string | null; dataDir: string };
  /** COPY of the same CSV into an unlogged table: the backend's bulk-load floor. */
  copyBaseline(): Promise<{ ms: number; rss: number }>;
  dispose(): Promise<void>;
}

async function embeddedTarget(): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-bench-import-'));
  const dataDir = path.join(dir, 'db');
  return {
    name: 'embedded',
    env: { DATABASE_URL: '', TERRINUM_DATA_DIR: dataDir },
    config: { databaseUrl: null, dataDir },
    async copyBaseline() {
      // a bare PGlite (no PostGIS) on its own data directory; the CSV goes in as a blob (/dev/blob)
      const run = await nodeSnippet(
        `import fs from 'node:fs'; import { PGlite } from '@electric-sql/pglite';
         const db = new PGlite(${JSON.stringify(path.join(dir, 'copy'))}); await db.waitReady;
         await db.exec('CREATE UNLOGGED TABLE copy_baseline (lon float8, lat float8, premises int, status text, operator text)');
         const blob = new Blob([fs.readFileSync(${JSON.stringify(CSV)})]); const t = performance.now();
         await db.query("COPY copy_baseline FROM '/dev/blob' WITH (FORMAT csv, HEADER true)", [], { blob });
         console.log(performance.now() - t); await db.close();`,
      );
      fs.rmSync(path.join(dir, 'copy'), { recursive: true, force: true });
      return { ms: Number(run.stdout.trim()), rss: run.peakRss };
    },
    async dispose() {
      console.error(`  embedded data directory: ${mb(dirBytes(dataDir))}`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function serverTarget(url: string): Promise<Target> {
  const name = `terrinum_bench_import_${process.pid}`;
  const admin = async (text: string, database?: string) => {
    const target = new URL(url);
    if (database) target.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: target.toString() });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  await admin('CREATE EXTENSION postgis', name);
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  return {
    name: 'server',
    env: { DATABASE_URL: benchUrl.toString() },
    config: { databaseUrl: benchUrl.toString(), dataDir: '' },
    async copyBaseline() {
      if (!fs.existsSync('/usr/bin/psql') && !fs.existsSync('/usr/local/bin/psql')) return { ms: NaN, rss: 0 };
      await admin('CREATE UNLOGGED TABLE copy_baseline (lon float8, lat float8, premises int, status text, operator text)', name);
      const run = await measure('psql', [benchUrl.toString(), '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy copy_baseline FROM '${CSV}' WITH (FORMAT csv, HEADER true)`]);
      await admin('DROP TABLE copy_baseline', name);
      return { ms: run.wallMs, rss: run.peakRss };
    },
    async dispose() {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

const importCli = (target: Target, ...importArgs: string[]) => measure(process.execPath, [BIN, 'import', ...importArgs], target.env);

async function bench(target: Target): Promise<void> {
  const label = target.name;
  console.error(`${label}: hierarchy (setup)`);
  const hierarchy = await importCli(target, 'hierarchy');
  row(label, 'import hierarchy (setup: COG, all of France)', reports(hierarchy.stdout)[0]!.read, hierarchy.wallMs, 'records', hierarchy.peakRss, 'wall, with start-up');

  console.error(`${label}: boundaries`);
  let features = 0;
  let boundaryMs = 0;
  let boundaryRss = 0;
  for (const file of COMMUNES) {
    const run = await importCli(target, 'boundaries', '--level', 'commune', '--vintage', '2018', file);
    const [report] = reports(run.stdout);
    features += report!.read;
    boundaryMs += report!.seconds * 1000;
    boundaryRss = Math.max(boundaryRss, run.peakRss);
  }
  row(label, 'import boundaries 02 + 62 (transactions)', features, boundaryMs, 'features', boundaryRss, times(boundaryMs, geoMs));

  console.error(`${label}: arcep`);
  const arcep = await importCli(target, 'arcep', ARCEP);
  const arcepReports = reports(arcep.stdout);
  const arcepRead = arcepReports.reduce((sum, r) => sum + r.read, 0);
  const arcepImportMs = arcepReports.reduce((sum, r) => sum + r.seconds * 1000, 0);
  row(label, 'import arcep folder (transaction)', arcepRead, arcepImportMs, 'rows', arcep.peakRss, times(arcepImportMs, arcepMs));

  console.error(`${label}: premises, ${ROWS.toLocaleString('en')} rows`);
  const premises = await importCli(target, 'premises', '--vintage', 'bench', CSV);
  const [premisesReport] = reports(premises.stdout);
  const premisesMs = premisesReport!.seconds * 1000;
  const copy = await target.copyBaseline();
  row(label, 'COPY of the premises CSV into an unlogged table (baseline)', ROWS, copy.ms, 'rows', copy.rss || null);
  row(label, 'import premises (transaction)', premisesReport!.read, premisesMs, 'rows', premises.peakRss, `${times(premisesMs, csvMs)} csv-parse; ${(premisesMs / copy.ms).toFixed(1)}× COPY`);
  row(label, 'import premises (process wall: start-up, migrate, sha256 too)', premisesReport!.read, premises.wallMs, 'rows', null);

  console.error(`${label}: placement of ${SAMPLE.toLocaleString('en')} points, replayed`);
  const placement = await timePlacement(target.config, SAMPLE);
  row(label, `point-in-polygon join alone (${placement.placed.toLocaleString('en')} of ${placement.points.toLocaleString('en')} in a commune)`, placement.points, placement.joinMs, 'points', null);
  row(label, 'placement query: join + insert into premises_point', placement.points, placement.placeMs, 'points', null, `≈${((placement.placeMs / placement.points) * ROWS / premisesMs * 100).toFixed(0)}% of the import`);
}

const targets: (() => Promise<Target>)[] = [];
if (args.backend !== 'server') targets.push(embeddedTarget);
if (process.env.DATABASE_URL && args.backend !== 'embedded') targets.push(() => serverTarget(process.env.DATABASE_URL!));
for (const open of targets) {
  const target = await open();
  try {
    await bench(target);
  } finally {
    await target.dispose();
  }
}
if (!process.env.DATABASE_URL) table.push(['server', 'skipped: set DATABASE_URL to measure the server backend', '', '', '', '', '']);

const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
console.log(`\nterrinum imports, ${ROWS.toLocaleString('en')} premises rows, ${os.cpus().length} cores, peak RSS from ${fs.existsSync(TIME) ? '/usr/bin/time -v' : '/proc VmHWM'}`);
for (const r of table) console.log(r.map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
