import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { isEmpty, loadDemo } from './demo/load.ts';
import { createApp } from './http/app.ts';
import { createLogger, type Logger } from './log.ts';

export interface Running {
  url: string;
  server: Server;
  database: Database;
  logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  /** An already opened database (tests pass one restored from a template). */
  database?: Database;
  logger?: Logger;
}

/** Opens and migrates the database, loads the demo territory into an empty one, and listens. */
export async function start(config: Readonly<Config>, options: StartOptions = {}): Promise<Running> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const startedAt = Date.now();
  const database = options.database ?? (await openDatabase(config));
  try {
    const applied = await migrate(database);
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    if (config.demo && (await isEmpty(database.db))) {
      logger.info('empty database: loading the synthetic demonstration territory (Territoire de démonstration)');
      await loadDemo(database.db);
    }
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  const app = createApp({ config, database, logger });
  const server = await listen(app, config.port, config.host).catch(async (error) => {
    await database.close().catch(() => undefined);
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/`;
  logger.info({ url, backend: database.backend, ms: Date.now() - startedAt }, 'terrinum is ready');
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    database,
    logger,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await database.close();
      })();
      return closing;
    },
  };
}

export class ListenError extends Error {
  override name = 'ListenError';
}

function listen(app: ReturnType<typeof createApp>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new ListenError(
          error.code === 'EADDRINUSE' ? `port ${port} is already in use (set PORT to another port)` : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      );
    });
  });
}
