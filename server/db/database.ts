import fs from 'node:fs';
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
  if (!inMemory) fs.mkdirSync(dataDir, { recursive: true });
  let client: InstanceType<typeof PGlite>;
  try {
    client = new PGlite({
      dataDir: inMemory ? undefined : dataDir,
      extensions: { postgis, unaccent, pg_trgm },
      parsers: { [INT8_OID]: toNumber, [NUMERIC_OID]: toNumber },
      loadDataDir,
    });
    await client.waitReady;
  } catch (error) {
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
    },
  };
}

/** Runs a named query from sql/queries with positional parameters ($1, $2…). */
export async function runNamedQuery<Row>(db: Kysely<DB>, text: string, parameters: readonly unknown[] = []): Promise<Row[]> {
  const result = await db.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]));
  return result.rows;
}
