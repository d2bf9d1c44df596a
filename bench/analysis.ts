/**
 * Analysis benchmark: the full recompute (aggregates, then every step of ANALYSIS_STEPS) on a synthetic
 * national hierarchy built in the database with set-based SQL: a jittered grid of 35,000 communes (40-vertex
 * quadrilaterals) over metropolitan France's bounding box, 1,250 EPCI, 100 départements, 13 régions,
 * heavy-tailed populations; fibre_coverage for 3 quarters and 2 usage rates for 3 years (counts behind every
 * rate); 3,000 mediation places, 10 premises points per commune, one coverage layer of 300 zones.
 * Two configurations, each in its own transaction rolled back afterwards (both start from the same state):
 *   (a) the default recompute: LISA (999 permutations) of every indicator × vintage, computed ones included;
 *   (b) the issue's budget configuration: LISA of one indicator only (fibre_coverage, its 3 vintages).
 * Budget: ≤ 20 s on the server, ≤ 60 s embedded. Embedded (in-memory PGlite) always; the server when
 * DATABASE_URL is set (a fresh database terrinum_bench_<pid>, dropped at the end).
 * Statistics as after an import that changed territories: only territory and territory_member are analysed
 * (run-import.ts); autovacuum is switched off on the bench database's tables so both backends plan alike.
 *
 *   npx tsx bench/analysis.ts [--communes N] [--backend embedded|server]
 *
 * --communes scales the communes (default 35,000); EPCI, places, premises and zones scale with them, the
 * 100 départements and 13 régions do not.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import { createLisaStep } from '../server/analysis/lisa.ts';
import { ANALYSIS_STEPS, type AnalysisStep } from '../server/analysis/recompute.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import type { DB } from '../server/db/schema.ts';

const { values: args } = parseArgs({ options: { communes: { type: 'string', default: '35000' }, backend: { type: 'string' } } });
const COMMUNES = Number(args.communes);
if (!Number.isInteger(COMMUNES) || COMMUNES < 100 || COMMUNES > 99_999) throw new Error(`--communes must be a whole number from 100 to 99,999, got "${args.communes}"`);
if (args.backend && !['embedded', 'server'].includes(args.backend)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');

const scale = (national: number) => Math.max(1, Math.round((national * COMMUNES) / 35_000));
const COLS = Math.ceil(Math.sqrt(COMMUNES));
const ROWS = Math.ceil(COMMUNES / COLS);
// metropolitan France, WGS84 degrees
const [WEST, SOUTH, EAST, NORTH] = [-5.2, 41.3, 9.6, 51.1];
const DX = (EAST - WEST) / COLS;
const DY = (NORTH - SOUTH) / ROWS;
const EPCI = scale(1250);
const PLACES = scale(3000);
const ZONES = scale(300);
const PREMISES_PER_COMMUNE = 10;
const LISA_INDICATOR = 'fibre_coverage';
const BUDGET_MS = { embedded: 60_000, server: 20_000 };

type Db = Kysely<DB> | Transaction<DB>;
type BackendName = 'embedded' | 'server';

/**
 * Uniform [0, 1) from an integer SQL expression and a stream number: multiplicative hash then two xor-shift
 * and multiply rounds (murmur-like), in bigint arithmetic so both backends give the same numbers.
 */
function uniform(expression: string, stream: number): string {
  const h1 = `mod((${expression})::bigint * 2654435761 + ${stream * 97_531 + 12_345}, 4294967296)`;
  // second multiplier below 2^31: a 32-bit value times it stays within bigint
  const h2 = `mod(((${h1}) # ((${h1}) >> 16)) * 1597334677, 4294967296)`;
  return `((((${h2}) # ((${h2}) >> 13)) % 4294967296)::float8 / 4294967296.0)`;
}

/** Builds the synthetic national dataset; every statement is set-based (generate_series). */
async function build(db: Kysely<DB>): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(db);
  await run(`INSERT INTO source (id, kind, name, vintage, publisher, synthetic) VALUES
    (900001, 'bench', 'grille nationale synthétique', '2024', 'bench/analysis.ts', true),
    (900002, 'premises', 'points locaux synthétiques', '2024-Q4', 'bench/analysis.ts', true),
    (900003, 'coverage', 'zones THD radio synthétiques', '2024-Q4', 'bench/analysis.ts', true),
    (900004, 'places', 'lieux de médiation synthétiques', NULL, 'bench/analysis.ts', true)`);

  // Grid nodes jittered by up to ±0.2 cell, shared by the 4 cells around them: neighbours share exact vertices,
  // outlines are irregular quadrilaterals (bounding boxes overlap as real communes' do), segmentized to ~40 vertices.
  // Populations: Pareto (x_m = 250, α = 1.2): median ≈ 450, mean ≈ 1,500, a long tail capped at 2 million.
  await run(`
    WITH node AS (
      SELECT c, r, ST_MakePoint(${WEST} + (c + 0.4 * (${uniform('c * 100003 + r', 1)} - 0.5)) * ${DX},
                                ${SOUTH} + (r + 0.4 * (${uniform('c * 100003 + r', 2)} - 0.5)) * ${DY}) AS p
      FROM generate_series(0, ${COLS}) AS c CROSS JOIN generate_series(0, ${ROWS}) AS r
    ),
    cell AS (
      SELECT i, ST_Multi(ST_Segmentize(ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[a.p, b.p, d.p, e.p, a.p])), 4326), ${DX / 10})) AS g
      FROM (SELECT i, i % ${COLS} AS c, i / ${COLS} AS r FROM generate_series(0, ${COMMUNES - 1}) AS i) k
      JOIN node a ON a.c = k.c AND a.r = k.r
      JOIN node b ON b.c = k.c + 1 AND b.r = k.r
      JOIN node d ON d.c = k.c + 1 AND d.r = k.r + 1
      JOIN node e ON e.c = k.c AND e.r = k.r + 1
    )
    INSERT INTO territory (level, code, name, population, population_vintage, synthetic, geom, area_m2, source_id)
    SELECT 'commune', lpad(i::text, 5, '0'), 'Commune ' || i,
           least(2000000, round(250 * power(1 - ${uniform('i', 3)}, -1 / 1.2)))::int, '2024', true, g, ST_Area(g::geography), 900001
    FROM cell ORDER BY i`);
  await run(`
    INSERT INTO territory (level, code, name, synthetic, source_id)
    SELECT 'epci', '2' || lpad(i::text, 8, '0'), 'EPCI ' || i, true, 900001 FROM generate_series(0, ${EPCI - 1}) i
    UNION ALL SELECT 'departement', lpad(i::text, 2, '0'), 'Département ' || i, true, 900001 FROM generate_series(0, 99) i
    UNION ALL SELECT 'region', lpad(i::text, 2, '0'), 'Région ' || i, true, 900001 FROM generate_series(0, 12) i`);
  // départements: a 10 × 10 grid of blocks; régions: runs of ~8 départements; EPCI: runs of ~28 communes in
  // strips of 5 rows inside each département (about half the départements share an EPCI with the next one)
  await run(`
    CREATE TABLE bench_commune AS
    SELECT t.id, t.population, g.c, g.r, g.dep, g.dep * 13 / 100 AS reg,
           ((row_number() OVER (ORDER BY g.dep, g.r / 5, g.c, g.r) - 1) * ${EPCI} / ${COMMUNES})::int AS epci
    FROM territory t
    CROSS JOIN LATERAL (SELECT t.code::int % ${COLS} AS c, t.code::int / ${COLS} AS r) cr
    CROSS JOIN LATERAL (SELECT cr.c, cr.r, (cr.r * 10 / ${ROWS}) * 10 + cr.c * 10 / ${COLS} AS dep) g
    WHERE t.level = 'commune'`);
  await run(`
    INSERT INTO territory_member (territory_id, commune_id)
    SELECT p.id, b.id FROM bench_commune b JOIN territory p ON p.level = 'epci' AND p.code = '2' || lpad(b.epci::text, 8, '0')
    UNION ALL SELECT p.id, b.id FROM bench_commune b JOIN territory p ON p.level = 'departement' AND p.code = lpad(b.dep::text, 2, '0')
    UNION ALL SELECT p.id, b.id FROM bench_commune b JOIN territory p ON p.level = 'region' AND p.code = lpad(b.reg::text, 2, '0')`);
  await run(`
    UPDATE territory p SET population = s.population, population_vintage = '2024'
    FROM (SELECT m.territory_id, sum(b.population)::int AS population FROM territory_member m JOIN bench_commune b ON b.id = m.commune_id GROUP BY m.territory_id) s
    WHERE p.id = s.territory_id`);

  await run(`
    INSERT INTO indicator (id, label_fr, label_en, theme, unit, higher_is_better, aggregation, publisher, licence, synthetic) VALUES
      ('usage_internet_daily', 'Usage quotidien d''internet', 'Daily internet use', 'territoires-connectes', 'ratio', true, 'ratio_of_sums', 'bench', 'synthétique', true),
      ('usage_non_internautes', 'Part de non-internautes', 'Share of non-users', 'e-administration', 'ratio', false, 'ratio_of_sums', 'bench', 'synthétique', true)`);
  // Fibre: a smooth national field, a per-département deployment plan and commune noise; +0–4 points a quarter;
  // a few communes above 100 % (operators count more premises than INSEE). Denominator: premises ≈ 0.55 × population.
  await run(`
    WITH field AS (
      SELECT b.id, greatest(1, round(b.population * 0.55)) AS premises,
             0.1 + 0.45 * (0.5 + 0.5 * sin(b.c / 9.0) * cos(b.r / 7.0)) + 0.35 * ${uniform('b.dep', 4)} + 0.15 * ${uniform('b.id', 5)} AS base
      FROM bench_commune b
    )
    INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
    SELECT 'fibre_coverage', f.id, q.vintage, round(f.premises * q.rate) / f.premises, round(f.premises * q.rate), f.premises, 900001
    FROM field f
    CROSS JOIN LATERAL (VALUES
      ('2024-Q2', least(1.08, f.base)),
      ('2024-Q3', least(1.08, f.base + 0.04 * ${uniform('f.id', 6)})),
      ('2024-Q4', least(1.08, f.base + 0.04 * ${uniform('f.id', 6)} + 0.04 * ${uniform('f.id', 7)}))) AS q(vintage, rate)`);
  // Usage: a smooth field, a planted low-usage cluster (radius ~12 cells around the grid's centre-west), +2 points
  // a year; ~1 % of communes without a value (partial aggregates). Counts: respondents ≈ population.
  await run(`
    WITH field AS (
      SELECT b.id, b.population,
             0.5 + 0.5 * cos(b.c / 13.0) * sin(b.r / 11.0) AS smooth,
             CASE WHEN (b.c - ${Math.round(COLS * 0.3)}) ^ 2 + (b.r - ${Math.round(ROWS * 0.5)}) ^ 2 < 144 THEN 0.2 ELSE 0 END AS gap
      FROM bench_commune b
      WHERE b.population > 0 AND ${uniform('b.id', 8)} >= 0.01
    ),
    rates AS (
      SELECT f.id, f.population, y.vintage,
             least(0.98, greatest(0.05, 0.55 + 0.25 * f.smooth - f.gap + 0.1 * ${uniform('f.id', 9)} + y.shift)) AS daily,
             least(0.9, greatest(0.02, 0.3 - 0.15 * f.smooth + f.gap + 0.08 * ${uniform('f.id', 10)} - y.shift)) AS non_users
      FROM field f CROSS JOIN (VALUES ('2022', 0.0), ('2023', 0.02), ('2024', 0.04)) AS y(vintage, shift)
    )
    INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
    SELECT 'usage_internet_daily', id, vintage, round(population * daily) / population, round(population * daily), population, 900001 FROM rates
    UNION ALL
    SELECT 'usage_non_internautes', id, vintage, round(population * non_users) / population, round(population * non_users), population, 900001 FROM rates`);

  // mediation places in the most populous communes
  await run(`
    INSERT INTO place (name, kind, geom, commune_id, synthetic, source_id)
    SELECT 'Lieu ' || t.code, 'mediation', ST_PointOnSurface(t.geom), t.id, true, 900004
    FROM territory t WHERE t.level = 'commune' ORDER BY t.population DESC, t.id LIMIT ${PLACES}`);
  // premises points inside their commune (±0.3 cell around its centre: within the jittered outline), placed already
  await run(`
    INSERT INTO premises_point (geom, premises, status, operator, commune_id, source_id)
    SELECT ST_SetSRID(ST_MakePoint(${WEST} + (b.c + 0.5 + 0.6 * (${uniform('b.id * 16 + k', 11)} - 0.5)) * ${DX},
                                   ${SOUTH} + (b.r + 0.5 + 0.6 * (${uniform('b.id * 16 + k', 12)} - 0.5)) * ${DY}), 4326),
           1 + (${uniform('b.id * 16 + k', 13)} * 12)::int,
           (ARRAY['deployed', 'deployed', 'deployed', 'in_progress', 'planned'])[1 + (${uniform('b.id * 16 + k', 14)} * 5)::int % 5],
           'Opérateur ' || (b.dep % 4), b.id, 900002
    FROM bench_commune b CROSS JOIN generate_series(1, ${PREMISES_PER_COMMUNE}) AS k`);
  // one fixed-wireless layer: discs of 3–15 km (geography buffers, 32 vertices)
  await run(`
    INSERT INTO coverage_area (technology, max_down_mbps, geom, source_id)
    SELECT 'THD radio', 100, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(${WEST} + ${EAST - WEST} * ${uniform('i', 15)},
                                                                       ${SOUTH} + ${NORTH - SOUTH} * ${uniform('i', 16)}), 4326)::geography,
                                                3000 + 12000 * ${uniform('i', 17)})::geometry), 900003
    FROM generate_series(1, ${ZONES}) AS i`);
  await run('DROP TABLE bench_commune');
  // what run-import.ts analyses after territories changed; nothing else (PGlite has no autovacuum)
  await run('ANALYZE territory');
  await run('ANALYZE territory_member');
}

class Rollback extends Error {}

interface Pass {
  /** Milliseconds per step, in order: aggregates, then the analysis steps. */
  timings: Map<string, number>;
  counts: Record<string, number>;
}

/** Aggregates then every step, timed one by one, in one transaction that is rolled back. */
async function runPass(db: Kysely<DB>, steps: AnalysisStep[], label: string): Promise<Pass> {
  const timings = new Map<string, number>();
  let counts: Record<string, number> = {};
  const time = async (trx: Transaction<DB>, name: string, body: () => Promise<void>) => {
    const started = performance.now();
    await body();
    timings.set(name, performance.now() - started);
    process.stderr.write(`  ${label} ${name}: ${seconds(timings.get(name)!)}\n`);
    // PGlite 0.5 answers every statement after one with ≥ 32,768 bound parameters with no rows and no error
    if ((await sql`SELECT 1 AS one`.execute(trx)).rows.length !== 1) throw new Error(`${label} ${name}: the connection returns no rows any more`);
  };
  try {
    await db.transaction().execute(async (trx) => {
      await time(trx, 'aggregates', () => recomputeAllAggregates(trx));
      for (const step of steps) await time(trx, step.name, () => step.run(trx, null));
      counts = await countResults(trx);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return { timings, counts };
}

/** Rows written, to check that both backends did the same work (PGlite can swallow PostGIS errors, pglite #916). */
async function countResults(db: Db): Promise<Record<string, number>> {
  const { rows } = await sql<{ what: string; n: number }>`
    SELECT 'aggregate values' AS what, count(*)::int AS n FROM indicator_value WHERE source_id IS NULL
    UNION ALL SELECT 'computed commune values', count(*)::int FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id
      WHERE i.publisher = 'terrinum (calcul)' AND v.source_id IS NOT NULL
    UNION ALL SELECT 'neighbour pairs', count(*)::int FROM territory_neighbour
    UNION ALL SELECT 'metric_disparity', count(*)::int FROM metric_disparity
    UNION ALL SELECT 'metric_trend', count(*)::int FROM metric_trend
    UNION ALL SELECT 'metric_lisa', count(*)::int FROM metric_lisa
    UNION ALL SELECT 'metric_moran', count(*)::int FROM metric_moran
    UNION ALL SELECT 'metric_access', count(*)::int FROM metric_access`.execute(db);
  // sorted, so the two backends' counts compare as text
  return Object.fromEntries(rows.map((r) => [r.what, r.n]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

async function countInputs(db: Db): Promise<string> {
  const { rows } = await sql<{ what: string; n: number }>`
    SELECT level AS what, count(*)::int AS n FROM territory GROUP BY level
    UNION ALL SELECT 'commune values', count(*)::int FROM indicator_value
    UNION ALL SELECT 'places', count(*)::int FROM place
    UNION ALL SELECT 'premises points', count(*)::int FROM premises_point
    UNION ALL SELECT 'coverage zones', count(*)::int FROM coverage_area
    ORDER BY n DESC, what`.execute(db);
  return rows.map((r) => `${r.n.toLocaleString('en')} ${r.what}`).join(', ');
}

interface Result {
  build: number;
  inputs: string;
  full: Pass;
  issue: Pass;
}

async function benchmark(database: Database, backend: BackendName): Promise<Result> {
  await migrate(database);
  const { db } = database;
  if (backend === 'server') {
    // same statistics on both backends: none but those the bench takes (PGlite never autovacuums)
    const { rows } = await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`.execute(db);
    for (const { name } of rows) await sql`ALTER TABLE ${sql.id(name)} SET (autovacuum_enabled = false)`.execute(db);
  }
  process.stderr.write(`${backend}: building ${COMMUNES.toLocaleString('en')} communes…\n`);
  const started = performance.now();
  await build(db);
  const buildMs = performance.now() - started;
  const inputs = await countInputs(db);
  process.stderr.write(`  built in ${seconds(buildMs)}: ${inputs}\n`);
  const full = await runPass(db, ANALYSIS_STEPS, '(a)');
  const oneIndicator = createLisaStep();
  const issueSteps = ANALYSIS_STEPS.map((step): AnalysisStep =>
    step.name === 'lisa' ? { name: 'lisa', run: (trx) => oneIndicator.run(trx, [LISA_INDICATOR]) } : step,
  );
  const issue = await runPass(db, issueSteps, '(b)');
  return { build: buildMs, inputs, full, issue };
}

async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const total = (pass: Pass) => [...pass.timings.values()].reduce((a, b) => a + b, 0);

const results: Partial<Record<BackendName, Result>> = {};
const loadBefore = os.loadavg();

if (args.backend !== 'server') {
  const database = await openDatabase({ databaseUrl: null, dataDir: 'memory://' });
  try {
    results.embedded = await benchmark(database, 'embedded');
  } finally {
    await database.close();
  }
}

if (args.backend !== 'embedded' && process.env.DATABASE_URL) {
  const url = new URL(process.env.DATABASE_URL);
  const name = `terrinum_bench_${process.pid}`;
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  await admin(url.toString(), `CREATE DATABASE ${name}`);
  const drop = () => admin(url.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  process.once('SIGINT', () => void drop().finally(() => process.exit(130)));
  try {
    await admin(benchUrl.toString(), 'CREATE EXTENSION postgis');
    const database = await openDatabase({ databaseUrl: benchUrl.toString(), dataDir: '' });
    try {
      results.server = await benchmark(database, 'server');
    } finally {
      await database.close();
    }
  } finally {
    await drop();
  }
}

const { embedded, server } = results;
console.log(
  `\nterrinum analysis recompute, ${COMMUNES.toLocaleString('en')} synthetic communes / ${EPCI.toLocaleString('en')} EPCI / 100 départements / 13 régions,`,
  `on ${os.cpus().length} cores (load average ${loadBefore[0]!.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after)`,
);
for (const [backend, result] of Object.entries(results)) console.log(`${backend.padEnd(8)} data: ${result.inputs}; built in ${seconds(result.build)}`);
if (!server) console.log('server   skipped: set DATABASE_URL to measure the server backend');

const cell = (ms: number | undefined) => (ms === undefined ? '—' : seconds(ms)).padStart(10);
const ratio = (s: number | undefined, e: number | undefined) => (s === undefined || e === undefined || e === 0 ? '—' : `${(s / e).toFixed(2)}×`).padStart(16);
const verdict = (backend: BackendName, ms: number | undefined) =>
  ms === undefined ? '' : `${backend} ${ms <= BUDGET_MS[backend] ? 'OK' : 'OVER'} (≤ ${BUDGET_MS[backend] / 1000} s)`;

for (const [key, title] of [
  ['full', '(a) default recompute: LISA of every indicator × vintage'],
  ['issue', `(b) issue configuration: LISA (999 permutations) of ${LISA_INDICATOR} only`],
] as const) {
  const e = embedded?.[key];
  const s = server?.[key];
  console.log(`\n${title}`);
  console.log(`${'step'.padEnd(12)} ${'embedded'.padStart(10)} ${'server'.padStart(10)} ${'server/embedded'.padStart(16)}`);
  for (const step of (e ?? s)!.timings.keys()) {
    console.log(`${step.padEnd(12)} ${cell(e?.timings.get(step))} ${cell(s?.timings.get(step))} ${ratio(s?.timings.get(step), e?.timings.get(step))}`);
  }
  const [te, ts] = [e && total(e), s && total(s)];
  console.log(`${'total'.padEnd(12)} ${cell(te)} ${cell(ts)} ${ratio(ts, te)}   ${[verdict('embedded', te), verdict('server', ts)].filter(Boolean).join(', ')}`);
  const counts = (e ?? s)!.counts;
  const same = !e || !s || JSON.stringify(e.counts) === JSON.stringify(s.counts);
  console.log(`rows written: ${Object.entries(counts).map(([what, n]) => `${n.toLocaleString('en')} ${what}`).join(', ')}${same ? '' : ' (embedded)'}`);
  if (!same) console.log(`rows written (server, DIFFERENT): ${Object.entries(s!.counts).map(([what, n]) => `${n.toLocaleString('en')} ${what}`).join(', ')}`);
}
