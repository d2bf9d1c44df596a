/**
 * Analysis benchmark: the full recompute (aggregates, then every step of ANALYSIS_STEPS) on a synthetic
 * national hierarchy built in the database with set-based SQL: a jittered grid of 35,000 communes (40-vertex
 * quadrilaterals) over metropolitan France's bounding box, 1,250 EPCI, 100 départements, 13 régions,
 * heavy-tailed populations; fibre_coverage for 3 quarters and 2 usage rates for 3 years (counts behind every
 * rate); 3,000 mediation places, 10 premises points per commune, one coverage layer of 300 zones.
 * Two configurations, each in its own transaction rolled back afterwards (both start from the same state):
 *   (a) the default recompute: LISA (999 permutations) of every indicator × vintage, computed ones included;
 *   (b) the issue's budget configuration: LISA of one indicator only (fibre_coverage, its 3 vintages).
 * Steps are timed as recomputeAnalysis runs them: LISA reads its inputs right after contiguity (`lisa (start)`),
 * its permutations run in worker threads during the later steps, and `lisa (finish)` is what is left to wait
 * for, plus storing. Also printed: a second LISA run with unchanged inputs (skipped by their hash), and the CPU
 * time of this process (all its threads; the server's own CPU is not in it) and the load average per pass,
 * since other work on the machine stretches the wall times.
 * Budget: ≤ 20 s on the server, ≤ 60 s embedded, for the steps of issue #4 (aggregates and the metrics); steps
 * of other features that run in the same recompute (tile-geometry) are shown apart, with the total of all.
 * Embedded (in-memory PGlite) always; the server when
 * DATABASE_URL is set (a fresh database terrinum_bench_<pid>, dropped at the end).
 * Statistics as after an import that changed territories: only territory and territory_member are analysed
 * (run-import.ts); autovacuum is switched off on the bench database's tables so both backends plan alike.
 *
 *   npx tsx bench/analysis.ts [--communes N] [--backend embedded|server]   (postgis = server)
 *
 * --communes scales the communes (default 35,000); EPCI, places, premises and zones scale with them, the
 * 100 départements and 13 régions do not.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql, type Kysely, type Transaction } from 'kysely';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import { createLisaStep } from '../server/analysis/lisa.ts';
import { ANALYSIS_STEPS, prepareAnalysisTransaction, type AnalysisStep } from '../server/analysis/recompute.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import type { DB } from '../server/db/schema.ts';
import { seconds, withServerDatabase } from './lib.ts';
import { buildNational, nationalEpci } from './national.ts';

const { values: args } = parseArgs({ options: { communes: { type: 'string', default: '35000' }, backend: { type: 'string' } } });
// postgis: another name for the server backend (the name the tests use)
if (args.backend === 'postgis') args.backend = 'server';
const COMMUNES = Number(args.communes);
if (!Number.isInteger(COMMUNES) || COMMUNES < 100 || COMMUNES > 99_999) throw new Error(`--communes must be a whole number from 100 to 99,999, got "${args.communes}"`);
if (args.backend && !['embedded', 'server'].includes(args.backend)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');

const EPCI = nationalEpci(COMMUNES);
const LISA_INDICATOR = 'fibre_coverage';
const BUDGET_MS = { embedded: 60_000, server: 20_000 };

type Db = Kysely<DB> | Transaction<DB>;
type BackendName = 'embedded' | 'server';

class Rollback extends Error {}

interface Pass {
  /** Milliseconds per step, in order: aggregates, then the analysis steps. */
  timings: Map<string, number>;
  /** CPU milliseconds per step: this process (every thread, LISA's workers included), the server's backend. */
  stepCpu: Map<string, { node: number; server: number | null }>;
  /** CPU milliseconds of this process (every thread) over the timed steps, and the 1-minute load average after. */
  cpu: number;
  /** CPU milliseconds of the server's backend process serving the pass (server only, read from /proc). */
  serverCpu?: number;
  load: number;
  counts: Record<string, number>;
  /** LISA run a second time in the same transaction, inputs unchanged (not in the total). */
  unchangedLisa?: number;
}

/**
 * Aggregates then every step, timed one by one, in one transaction that is rolled back. A step with `start` (LISA)
 * is timed twice, as recomputeAnalysis runs it: `lisa (start)` reads its inputs and sets the worker threads going,
 * `lisa (finish)` waits for what is left of them after the later steps and stores.
 */
async function runPass(db: Kysely<DB>, steps: AnalysisStep[], label: string, backend: BackendName): Promise<Pass> {
  const timings = new Map<string, number>();
  let counts: Record<string, number> = {};
  let unchangedLisa: number | undefined;
  let cpu = 0;
  let serverCpu: number | undefined;
  const stepCpu = new Map<string, { node: number; server: number | null }>();
  let pid: number | null = null;
  const time = async (trx: Transaction<DB>, name: string, body: () => Promise<void>) => {
    const started = performance.now();
    const [nodeBefore, serverBefore] = [process.cpuUsage(), pid === null ? null : processCpu(pid)];
    await body();
    timings.set(name, performance.now() - started);
    const [node, serverAfter] = [process.cpuUsage(nodeBefore), pid === null ? null : processCpu(pid)];
    stepCpu.set(name, { node: (node.user + node.system) / 1000, server: serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore });
    process.stderr.write(`  ${label} ${name}: ${seconds(timings.get(name)!)}\n`);
    // PGlite 0.5 answers every statement after one with ≥ 32,768 bound parameters with no rows and no error
    if ((await sql`SELECT 1 AS one`.execute(trx)).rows.length !== 1) throw new Error(`${label} ${name}: the connection returns no rows any more`);
  };
  try {
    await db.transaction().execute(async (trx) => {
      // as runImport sets its transaction up
      await prepareAnalysisTransaction(trx);
      const cpuBefore = process.cpuUsage();
      // the server's backend serving this transaction (PGlite has none of its own)
      pid = backend === 'server' ? (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx)).rows[0]!.pid : null;
      const serverBefore = pid === null ? null : processCpu(pid);
      await time(trx, 'aggregates', () => recomputeAllAggregates(trx));
      const pending: [string, (store: boolean) => Promise<void>][] = [];
      for (const step of steps) {
        const start = step.start;
        if (!start) await time(trx, step.name, () => step.run(trx, null));
        else await time(trx, `${step.name} (start)`, async () => void pending.push([step.name, await start(trx, null)]));
      }
      for (const [name, complete] of pending) await time(trx, `${name} (finish)`, () => complete(true));
      const used = process.cpuUsage(cpuBefore);
      cpu = (used.user + used.system) / 1000;
      const serverAfter = pid === null ? null : processCpu(pid);
      if (serverBefore !== null && serverAfter !== null) serverCpu = serverAfter - serverBefore;
      counts = await countResults(trx);
      // outside the total: the same LISA again, nothing changed (what an import touching other inputs costs it)
      const lisa = steps.find((step) => step.name === 'lisa');
      if (lisa) {
        const started = performance.now();
        await lisa.run(trx, null);
        unchangedLisa = performance.now() - started;
        process.stderr.write(`  ${label} lisa again, inputs unchanged: ${seconds(unchangedLisa)}\n`);
      }
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return { timings, stepCpu, counts, unchangedLisa, cpu, serverCpu, load: os.loadavg()[0]! };
}

/**
 * CPU milliseconds (user + system) of a local process, from /proc/<pid>/stat; null when unreadable (a remote
 * server, or PGlite, whose "backend pid" is not a process of its own).
 */
function processCpu(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // fields 14 and 15 of stat (utime, stime), in clock ticks of 10 ms on Linux
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
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
  await buildNational(db, COMMUNES);
  const buildMs = performance.now() - started;
  const inputs = await countInputs(db);
  process.stderr.write(`  built in ${seconds(buildMs)}: ${inputs}\n`);
  const full = await runPass(db, ANALYSIS_STEPS, '(a)', backend);
  const oneIndicator = createLisaStep();
  const issueSteps = ANALYSIS_STEPS.map((step): AnalysisStep =>
    step.name === 'lisa' ? { name: 'lisa', run: (trx) => oneIndicator.run(trx, [LISA_INDICATOR]), start: (trx) => oneIndicator.start(trx, [LISA_INDICATOR]) } : step,
  );
  const issue = await runPass(db, issueSteps, '(b)', backend);
  return { build: buildMs, inputs, full, issue };
}


/** The steps the issue's budget covers: aggregates and the analysis metrics (not other features' steps). */
const ISSUE_STEPS = new Set(['aggregates', 'coverage', 'contiguity', 'lisa (start)', 'disparity', 'trend', 'access', 'lisa (finish)']);
const total = (pass: Pass, only?: Set<string>) => [...pass.timings].reduce((sum, [step, ms]) => sum + (!only || only.has(step) ? ms : 0), 0);

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
  results.server = await withServerDatabase('terrinum_bench', (database) => benchmark(database, 'server'));
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
  console.log(`${'step'.padEnd(14)} ${'embedded'.padStart(10)} ${'server'.padStart(10)} ${'server/embedded'.padStart(16)}`);
  for (const step of (e ?? s)!.timings.keys()) {
    const name = ISSUE_STEPS.has(step) ? step : `${step} *`;
    console.log(`${name.padEnd(14)} ${cell(e?.timings.get(step))} ${cell(s?.timings.get(step))} ${ratio(s?.timings.get(step), e?.timings.get(step))}`);
  }
  const [te, ts] = [e && total(e, ISSUE_STEPS), s && total(s, ISSUE_STEPS)];
  console.log(`${'total'.padEnd(14)} ${cell(te)} ${cell(ts)} ${ratio(ts, te)}   ${[verdict('embedded', te), verdict('server', ts)].filter(Boolean).join(', ')}`);
  const [ae, as] = [e && total(e), s && total(s)];
  if (ae !== te || as !== ts) console.log(`${'with * steps'.padEnd(14)} ${cell(ae)} ${cell(as)} ${ratio(as, ae)}   (* another feature's step, outside the issue's budget)`);
  console.log(`CPU per step (node: this process, every thread, so LISA's workers count in the steps they overlap; backend: the server's)`);
  console.log(`${'step'.padEnd(14)} ${'embedded'.padStart(10)} ${'srv node'.padStart(10)} ${'srv backend'.padStart(12)}`);
  for (const step of (e ?? s)!.timings.keys()) {
    const [ec, sc] = [e?.stepCpu.get(step), s?.stepCpu.get(step)];
    console.log(`${step.padEnd(14)} ${cell(ec?.node)} ${cell(sc?.node)} ${cell(sc?.server ?? undefined).padStart(12)}`);
  }
  const cpuLoad = (pass: Pass | undefined) =>
    pass ? `${seconds(pass.cpu)} CPU in node${pass.serverCpu === undefined ? '' : ` + ${seconds(pass.serverCpu)} in the server's backend`}, load ${pass.load.toFixed(1)} after` : '—';
  console.log(`CPU: embedded ${cpuLoad(e)}; server ${cpuLoad(s)}`);
  const again = (pass: Pass | undefined) => (pass?.unchangedLisa === undefined ? '—' : seconds(pass.unchangedLisa));
  console.log(`lisa again, inputs unchanged (not in the total): embedded ${again(e)}, server ${again(s)}`);
  const counts = (e ?? s)!.counts;
  const same = !e || !s || JSON.stringify(e.counts) === JSON.stringify(s.counts);
  console.log(`rows written: ${Object.entries(counts).map(([what, n]) => `${n.toLocaleString('en')} ${what}`).join(', ')}${same ? '' : ' (embedded)'}`);
  if (!same) console.log(`rows written (server, DIFFERENT): ${Object.entries(s!.counts).map(([what, n]) => `${n.toLocaleString('en')} ${what}`).join(', ')}`);
}
