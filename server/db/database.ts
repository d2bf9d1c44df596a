import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { DB } from './schema.ts';

export type Backend = 'embedded' | 'postgis';

/** One database handle, whichever backend: Kysely for queries, a raw script runner for migrations. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly backend: Backend;
  /** Runs a multi-statement SQL script inside one transaction (migrations, bulk steps). */
  runScript(script: string): Promise<void>;
  /** Serialises the embedded data directory (tests use it as a template); null on the server backend. */
  dumpDataDir(): Promise<Blob | null>;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

// Both backends return int8 and numeric as JS numbers, so results compare equal across backends.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const toNumber = (value: string) => Number(value);

export interface OpenOptions {
  /** Embedded only: a data directory dump (from dumpDataDir) to start from instead of an empty cluster. */
  loadDataDir?: Blob;
}

/** Opens the database chosen by the configuration: a PostGIS server when DATABASE_URL is set, else embedded PGlite. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, options: OpenOptions = {}): Promise<Database> {
  return config.databaseUrl ? openServer(config.databaseUrl) : openEmbedded(config.dataDir, options.loadDataDir);
}

async function openServer(url: string): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 8,
    // Our queries are short and run on freshly imported tables whose statistics lag: PostgreSQL's JIT then
    // compiles nearly every query (measured: ~115 ms per export batch, +3 s on the national commune stats).
    options: '-c jit=off',
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID || oid === NUMERIC_OID) return toNumber;
        return pg.types.getTypeParser(oid, format as 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    const { hostname, port, pathname } = new URL(url);
    throw new DatabaseError(`cannot connect to DATABASE_URL (${hostname || 'localhost'}:${port || 5432}${pathname}): ${(error as Error).message}`);
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    backend: 'postgis',
    async runScript(script) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(script);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async dumpDataDir() {
      return null;
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openEmbedded(dataDir: string, loadDataDir?: Blob): Promise<Database> {
  // Loaded lazily: the server backend never pays for the WASM modules.
  const [{ PGlite }, { postgis }, { unaccent }, { pg_trgm }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-postgis'),
    import('@electric-sql/pglite/contrib/unaccent'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('kysely-pglite-dialect'),
  ]);
  const inMemory = dataDir === 'memory://';
  let unlock = () => {};
  if (!inMemory) {
    fs.mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let client: InstanceType<typeof PGlite>;
  try {
    if (!inMemory) removeOrphanTempFiles(dataDir);
    client = new PGlite({
      dataDir: inMemory ? undefined : dataDir,
      extensions: { postgis, unaccent, pg_trgm },
      parsers: { [INT8_OID]: toNumber, [NUMERIC_OID]: toNumber },
      loadDataDir,
    });
    await client.waitReady;
  } catch (error) {
    unlock();
    throw new DatabaseError(`cannot open the embedded database in ${dataDir}: ${(error as Error).message}`);
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
  return {
    db,
    backend: 'embedded',
    async runScript(script) {
      await client.transaction(async (tx) => {
        await tx.exec(script);
      });
    },
    async dumpDataDir() {
      return client.dumpDataDir('none');
    },
    async close() {
      // Kysely's destroy closes the PGlite instance through the dialect.
      await db.destroy();
      unlock();
    },
  };
}

/**
 * One process at a time per embedded data directory: PGlite takes no lock of its own, and two processes
 * writing the same directory (e.g. `terrinum serve` and `terrinum import`) corrupt it. The lock file holds
 * the owner's pid; a lock whose process is gone (killed) is taken over. Returns the release function.
 */
function lockDataDir(dataDir: string): () => void {
  const file = path.join(path.resolve(dataDir), 'terrinum.lock');
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    const writtenAt = fs.statSync(file).mtimeMs;
    if (Number.isNaN(holder) && Date.now() - writtenAt < 2000) {
      // another process has just created the file and is writing its pid
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (holdsLock(holder, file, writtenAt)) {
      throw new DatabaseError(
        `the embedded database in ${dataDir} is in use by process ${holder} (terrinum serve or an import?): stop it first, ` +
          `or delete ${file} if that process is not terrinum`,
      );
    }
    fs.rmSync(file, { force: true });
  }
  heldLocks.add(file);
  const release = () => {
    process.off('exit', release);
    heldLocks.delete(file);
    try {
      if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === process.pid) fs.rmSync(file);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}

/** Lock files this process holds: a lock naming our own pid that is not here comes from a killed predecessor (a container's pid 1). */
const heldLocks = new Set<string>();

/** Whether process `pid` can be the one that wrote the lock file: alive, and (Linux) started before the file was written. */
function holdsLock(pid: number, file: string, writtenAt: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return heldLocks.has(file);
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // a pid reused since (after a reboot, a container restart): that process started after the lock was written
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    // clock ticks are USER_HZ = 100 on Linux; one second of slack for the rounding of btime
    if (Number.isFinite(startTicks) && Number.isFinite(bootSeconds)) return (bootSeconds + startTicks / 100) * 1000 <= writtenAt + 1000;
  } catch {
    // no /proc (macOS, Windows): trust the pid
  }
  return true;
}

/**
 * A process killed mid-transaction leaves its temporary tables (t<backend>_<relfilenode>, e.g. an import's
 * staging table) and sort spill files (base/pgsql_tmp) behind. PostgreSQL's postmaster deletes them at start;
 * PGlite runs the single-user backend, which does not, so each killed import would leak its staging data.
 * Safe only under the data-directory lock: no session exists yet.
 */
function removeOrphanTempFiles(dataDir: string): void {
  const base = path.join(dataDir, 'base');
  if (!fs.existsSync(base)) return;
  for (const entry of fs.readdirSync(base, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(base, entry.name);
    if (entry.name === 'pgsql_tmp') {
      for (const file of fs.readdirSync(dir)) fs.rmSync(path.join(dir, file), { recursive: true, force: true });
      continue;
    }
    for (const file of fs.readdirSync(dir)) {
      if (/^t\d+_\d+(_(fsm|vm|init))?(\.\d+)?$/.test(file)) fs.rmSync(path.join(dir, file), { force: true });
    }
  }
}

/** Runs a named query from sql/queries with positional parameters ($1, $2…). */
export async function runNamedQuery<Row>(db: Kysely<DB>, text: string, parameters: readonly unknown[] = []): Promise<Row[]> {
  const result = await db.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]));
  return result.rows;
}
