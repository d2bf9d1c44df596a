/**
 * Crash safety of imports: `terrinum import premises` runs in a child process that is killed with SIGKILL at
 * three moments — while it stages rows, during the final INSERT into premises_point, and after that INSERT
 * but before COMMIT. The database must then reopen, answer sanity queries, and hold each killed import either
 * not at all or whole (exact row count), never in part; a last import run to completion must still be whole
 * and must not bring any row of a killed import back to life (no transaction id reused after recovery).
 * Embedded: a PGlite data directory in a temp folder; server: a fresh database on DATABASE_URL.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Backend, type Database } from '../server/db/database.ts';
import { adminQuery, backends, serverUrl } from './helpers/db.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'terrinum.js');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-crash-'));
const CSV = path.join(TMP, 'premises.csv');
/** Enough rows that each phase lasts about a second or more on the embedded backend. */
const ROWS = 60_000;
/** Growth of premises_point's heap that proves the final INSERT is writing. */
const INSERT_STARTED_BYTES = 256 * 1024;
const TEMP_RELATION = /^t\d+_\d+(_(fsm|vm|init))?(\.\d+)?$/;

/** A deterministic premises CSV: points spread over the Aisne's bounding box (2.959–4.256 E, 48.837–50.069 N). */
function writePremisesCsv(file: string, rows: number): void {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const statuses = ['deployed', 'in_progress', 'planned'];
  const out = fs.openSync(file, 'w');
  let chunk = 'lon,lat,premises,status,operator\n';
  for (let i = 0; i < rows; i++) {
    chunk += `${(2.959 + random() * 1.297).toFixed(5)},${(48.837 + random() * 1.232).toFixed(5)},${1 + (i % 7)},${statuses[i % 3]},OP${i % 5}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exited, hasExited: () => child.exitCode !== null || child.signalCode !== null };
}

/** What a running import shows from outside, without touching its transaction. */
interface Probe {
  /** The import has written staged rows (embedded: a new temporary relation file with data; server: a staging INSERT ran). */
  stagingStarted(): Promise<boolean>;
  /** Current size of premises_point's main fork, uncommitted growth included. */
  heapBytes(): Promise<number>;
  /** Server only: the importer's backend finished its statement and waits for the next command. */
  idleInTransaction?(): Promise<boolean>;
  close(): Promise<void>;
}

type Moment = 'staging' | 'insert' | 'before-commit';

interface Kill {
  moment: Moment;
  vintage: string;
  pid: number;
  exit: Exit;
  /** What was observed when the signal was sent. */
  seen: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts an import and kills it with SIGKILL at the given moment, detected from outside. "before-commit":
 * embedded, once the heap has grown and then stayed still for 400 ms (the INSERT is over: constraint checks and
 * the last statements remain); server, the child is stopped (SIGSTOP) while its INSERT runs, and killed once the
 * server has finished that statement — the client never got to send COMMIT.
 */
async function importAndKill(env: Record<string, string>, probe: Probe, moment: Moment, vintage: string): Promise<Kill> {
  const heapBefore = await probe.heapBytes();
  const run = startCli(['import', 'premises', '--vintage', vintage, CSV], env);
  const started = Date.now();
  let seen = 'the import finished before the kill';
  let stillSince = 0;
  let lastHeap = heapBefore;
  while (!run.hasExited() && Date.now() - started < 150_000) {
    const heap = await probe.heapBytes();
    const grown = heap - heapBefore;
    const at = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (moment === 'staging' && (await probe.stagingStarted())) {
      seen = `staging rows written, premises_point +${grown} B, at ${at}`;
      break;
    }
    if (moment === 'insert' && grown >= INSERT_STARTED_BYTES) {
      seen = `final INSERT writing: premises_point +${grown} B, at ${at}`;
      break;
    }
    if (moment === 'before-commit' && grown >= INSERT_STARTED_BYTES) {
      if (probe.idleInTransaction) {
        run.child.kill('SIGSTOP');
        const deadline = Date.now() + 120_000;
        while (!(await probe.idleInTransaction()) && Date.now() < deadline) await sleep(20);
        seen = `INSERT statement finished, COMMIT not sent: premises_point +${(await probe.heapBytes()) - heapBefore} B, at ${((Date.now() - started) / 1000).toFixed(1)} s`;
        break;
      }
      if (heap !== lastHeap) stillSince = Date.now();
      else if (Date.now() - stillSince >= 400) {
        seen = `INSERT over (heap still for 400 ms): premises_point +${grown} B, at ${at}`;
        break;
      }
    }
    lastHeap = heap;
    await sleep(10);
  }
  run.child.kill('SIGKILL');
  return { moment, vintage, pid: run.child.pid!, exit: await run.exited, seen };
}

interface State {
  territories: number;
  postgis: string;
  dataVersion: number;
  points: number;
  /** Points found through the GiST index (a bounding-box search covering them all). */
  pointsByIndex: number;
  /** Premises sources by vintage: rows recorded on the source and points that reference it. */
  sources: Map<string, { rows: number | null; points: number }>;
  heapPath: string;
}

async function inspect(database: Database): Promise<State> {
  const db = database.db;
  const [counts] = (
    await sql<{ territories: number; postgis: string; version: number; points: number; heap: string }>`
      SELECT (SELECT count(*) FROM territory)::int AS territories, postgis_lib_version() AS postgis,
             (SELECT version FROM data_version) AS version, (SELECT count(*) FROM premises_point)::int AS points,
             pg_relation_filepath('premises_point') AS heap`.execute(db)
  ).rows;
  const pointsByIndex = await db.transaction().execute(async (trx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM premises_point WHERE geom && ST_MakeEnvelope(-180, -90, 180, 90, 4326)`.execute(trx);
    return rows[0]!.n;
  });
  const sources = await sql<{ vintage: string; rows: number | null; points: number }>`
    SELECT s.vintage, s.rows, (SELECT count(*) FROM premises_point p WHERE p.source_id = s.id)::int AS points
    FROM source s WHERE s.kind = 'premises'`.execute(db);
  return {
    territories: counts!.territories,
    postgis: counts!.postgis,
    dataVersion: counts!.version,
    points: counts!.points,
    pointsByIndex,
    sources: new Map(sources.rows.map((s) => [s.vintage, { rows: s.rows, points: s.points }])),
    heapPath: counts!.heap,
  };
}

/** Absent or whole: every premises source present holds exactly ROWS points, and nothing else is there. */
function expectAbsentOrWhole(state: State, baseline: State): void {
  expect(state.territories).toBe(baseline.territories);
  expect(state.postgis).toBe(baseline.postgis);
  for (const [vintage, source] of state.sources) expect({ vintage, ...source }).toEqual({ vintage, rows: ROWS, points: ROWS });
  expect(state.points).toBe(ROWS * state.sources.size);
  expect(state.pointsByIndex).toBe(state.points);
  // each committed import bumps the data version once
  expect(state.dataVersion).toBe(baseline.dataVersion + state.sources.size);
}

function describeOutcome(kill: Kill, state: State): string {
  const outcome = state.sources.has(kill.vintage) ? `whole (${ROWS} rows, committed before the kill)` : 'absent (killed before commit)';
  return `${kill.moment}: ${kill.seen}; exit ${kill.exit.signal ?? kill.exit.code} → ${outcome}`;
}

interface Target {
  env: Record<string, string>;
  /** An empty place to import into. */
  create(): Promise<void>;
  open(): Promise<Database>;
  probe(baseline: State): Promise<Probe>;
  /** Waits until the killed importer left no trace on the target (server: its backend is gone). */
  settle(): Promise<void>;
  /** Files a killed session left in the data directory (embedded: temporary relations, sort spill files). */
  leftovers(): string[];
  cleanup(): Promise<void>;
}

function embeddedTarget(): Target {
  const dataDir = path.join(TMP, 'db');
  const tempFiles = () => {
    const base = path.join(dataDir, 'base');
    return fs.readdirSync(base).flatMap((db) => (fs.statSync(path.join(base, db)).isDirectory() ? fs.readdirSync(path.join(base, db)).filter((f) => db === 'pgsql_tmp' || TEMP_RELATION.test(f)).map((f) => path.join(db, f)) : []));
  };
  return {
    env: { DATABASE_URL: '', TERRINUM_DATA_DIR: dataDir },
    async create() {},
    open: () => openDatabase({ databaseUrl: null, dataDir }),
    async probe(baseline) {
      const heap = path.join(dataDir, baseline.heapPath);
      const before = new Set(tempFiles());
      return {
        async stagingStarted() {
          return tempFiles().some((f) => !before.has(f) && TEMP_RELATION.test(path.basename(f)) && fs.statSync(path.join(dataDir, 'base', f)).size > 0);
        },
        async heapBytes() {
          return fs.statSync(heap).size;
        },
        async close() {},
      };
    },
    async settle() {},
    leftovers: tempFiles,
    async cleanup() {},
  };
}

function serverTarget(): Target {
  const name = `terrinum_t_crash_${process.pid}_${Date.now() % 100000}`;
  const url = serverUrl(name);
  const query = async <T,>(text: string, client?: pg.Client): Promise<T> => {
    const own = client ?? new pg.Client({ connectionString: url });
    if (!client) await own.connect();
    try {
      return (await own.query(text)).rows[0] as T;
    } finally {
      if (!client) await own.end();
    }
  };
  const others = `FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;
  return {
    env: { DATABASE_URL: url },
    async create() {
      await adminQuery(`CREATE DATABASE ${name}`);
      await query('CREATE EXTENSION postgis');
    },
    open: () => openDatabase({ databaseUrl: url, dataDir: '' }),
    async probe() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        stagingStarted: async () => (await query<{ yes: boolean }>(`SELECT exists(SELECT 1 ${others} AND query ILIKE '%INSERT INTO premises_staging%') AS yes`, client)).yes,
        heapBytes: async () => Number((await query<{ size: string }>(`SELECT pg_relation_size('premises_point') AS size`, client)).size),
        idleInTransaction: async () => (await query<{ yes: boolean }>(`SELECT exists(SELECT 1 ${others} AND state = 'idle in transaction') AS yes`, client)).yes,
        close: () => client.end(),
      };
    },
    async settle() {
      // The server notices the dead client when it next reads or writes its socket, then rolls back.
      const deadline = Date.now() + 60_000;
      while ((await query<{ n: number }>(`SELECT count(*)::int AS n ${others}`)).n > 0 && Date.now() < deadline) await sleep(50);
    },
    leftovers: () => [],
    async cleanup() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

writePremisesCsv(CSV, ROWS);
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

describe.each(backends())('import killed with SIGKILL on %s', (backend: Backend) => {
  const target = backend === 'embedded' ? embeddedTarget() : serverTarget();
  let baseline: State;
  const kills: Kill[] = [];

  beforeAll(async () => {
    await target.create();
    const hierarchy = await startCli(['import', 'hierarchy'], target.env).exited;
    expect(hierarchy.code, hierarchy.stderr).toBe(0);
    const database = await target.open();
    try {
      baseline = await inspect(database);
    } finally {
      await database.close();
    }
    expect(baseline.territories).toBeGreaterThan(30_000);
    expect(baseline.points).toBe(0);
  });
  afterAll(() => target.cleanup());

  it.each(['staging', 'insert', 'before-commit'] as const)('reopens with the import absent or whole when killed at %s', { timeout: 180_000 }, async (moment) => {
    const probe = await target.probe(baseline);
    let kill: Kill;
    try {
      kill = await importAndKill(target.env, probe, moment, `kill-${moment}`);
    } finally {
      await probe.close();
    }
    kills.push(kill);
    expect(kill.exit.signal, `${moment}: ${kill.seen}\n${kill.exit.stdout}${kill.exit.stderr}`).toBe('SIGKILL');
    expect(kill.exit.stdout).not.toMatch(/imported/);
    await target.settle();
    if (backend === 'embedded') {
      // the killed child's lock is left behind with its pid; reopening takes it over
      expect(fs.readFileSync(path.join(target.env.TERRINUM_DATA_DIR!, 'terrinum.lock'), 'utf8').trim()).toBe(String(kill.pid));
    }
    const database = await target.open();
    let state: State;
    try {
      state = await inspect(database);
    } finally {
      await database.close();
    }
    console.log(`[${backend}] ${describeOutcome(kill, state)}`);
    // reopening removed the killed session's staging table and spill files, as PostgreSQL's postmaster does at start
    expect(target.leftovers()).toEqual([]);
    expectAbsentOrWhole(state, baseline);
    // nothing can have committed while rows were staged or inserted
    if (moment !== 'before-commit') expect(state.sources.has(kill.vintage)).toBe(false);
  });

  it('still imports whole after the kills, and no killed row comes back', { timeout: 120_000 }, async () => {
    const complete = await startCli(['import', 'premises', '--vintage', 'complete', CSV], target.env).exited;
    expect(complete.code, complete.stderr).toBe(0);
    expect(complete.stdout).toMatch(new RegExp(`${ROWS} read, ${ROWS} imported`));
    const database = await target.open();
    let state: State;
    try {
      if (backend === 'embedded') {
        // a second process on the same data directory is refused while this one holds it
        const refused = await startCli(['import', 'premises', '--vintage', 'refused', CSV], target.env).exited;
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(new RegExp(`in use by process ${process.pid}`));
      }
      state = await inspect(database);
    } finally {
      await database.close();
    }
    expectAbsentOrWhole(state, baseline);
    expect(state.sources.get('complete')).toEqual({ rows: ROWS, points: ROWS });
    expect(state.sources.has('refused')).toBe(false);
    const killedAndAbsent = kills.filter((k) => !state.sources.has(k.vintage));
    expect(killedAndAbsent.length, 'at least one import killed before its commit').toBeGreaterThan(0);
  });
});
