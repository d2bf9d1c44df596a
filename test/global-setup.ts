import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { loadDemo } from '../server/demo/load.ts';
import type { TestProject } from 'vitest/node';
import { adminQuery, serverUrl, templateDatabaseName, templateFile } from './helpers/db.ts';

/**
 * Builds, once per change of schema or demo generator, the demo database every test starts from:
 * a PGlite data-dir dump (embedded, ~2 s to restore) and a template database on the server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const file = templateFile();
  // tests read the file this run built, even if sources change while they run
  project.provide('templateFile', file);
  if (!fs.existsSync(file)) {
    const database = await openDatabase({ databaseUrl: null, dataDir: 'memory://' });
    await migrate(database);
    await loadDemo(database.db);
    const dump = await database.dumpDataDir();
    await database.close();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // several test runs may build the same template at once: each writes its own file, the rename is atomic
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, Buffer.from(await dump!.arrayBuffer()));
    fs.renameSync(partial, file);
  }
  if (process.env.DATABASE_URL) {
    // One template per run (runs may overlap): rebuilt each time, cheap on a server, dropped at the end.
    const name = `${templateDatabaseName()}_${process.pid}`;
    project.provide('templateDatabase', name);
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE ${name}`);
    const database = await openDatabase({ databaseUrl: serverUrl(name), dataDir: '' });
    await database.runScript('CREATE EXTENSION IF NOT EXISTS postgis');
    await migrate(database);
    await loadDemo(database.db);
    await database.close();
    return () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  return async () => undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    templateFile: string;
  }
}
