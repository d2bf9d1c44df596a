import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Backend, type Database } from '../../server/db/database.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Backends every database test runs on: embedded always, the server too when DATABASE_URL is set. */
export function backends(): Backend[] {
  return process.env.DATABASE_URL ? ['embedded', 'postgis'] : ['embedded'];
}

/** Hash of everything that shapes the demo database, so templates are rebuilt when one of them changes. */
export function templateKey(): string {
  const hash = crypto.createHash('sha256');
  for (const dir of ['sql/migrations', 'sql/queries', 'server/demo', 'server/analysis', 'server/tiles']) {
    for (const file of fs.readdirSync(path.join(ROOT, dir)).sort()) hash.update(file).update(fs.readFileSync(path.join(ROOT, dir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export const templateFile = () => path.join(os.tmpdir(), 'terrinum-test', `demo-${templateKey()}.tar`);
export const templateDatabaseName = () => `terrinum_tpl_${templateKey()}`;

/** URL of another database on the DATABASE_URL server. */
export function serverUrl(database: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs one statement on the server's maintenance connection (CREATE/DROP DATABASE). */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh database holding the migrated schema and the demo territory, restored from the template. */
export async function openDemoDatabase(backend: Backend): Promise<Database> {
  if (backend === 'embedded') {
    const dump = fs.readFileSync(inject('templateFile'));
    return openDatabase({ databaseUrl: null, dataDir: 'memory://' }, { loadDataDir: new Blob([dump]) });
  }
  return openServerCopy(`CREATE DATABASE %I TEMPLATE ${inject('templateDatabase')}`);
}

/** A fresh database with nothing in it but PostGIS (no migration applied). */
export async function openEmptyDatabase(backend: Backend): Promise<Database> {
  if (backend === 'embedded') return openDatabase({ databaseUrl: null, dataDir: 'memory://' });
  const database = await openServerCopy('CREATE DATABASE %I');
  await database.runScript('CREATE EXTENSION IF NOT EXISTS postgis');
  return database;
}

async function openServerCopy(statement: string): Promise<Database> {
  const name = `terrinum_t_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  await adminQuery(statement.replace('%I', name));
  const database = await openDatabase({ databaseUrl: serverUrl(name), dataDir: '' });
  const close = database.close.bind(database);
  return {
    ...database,
    db: database.db,
    async close() {
      await close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
