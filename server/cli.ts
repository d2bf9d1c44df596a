import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.ts';
import { registerImportCommands } from './import/commands.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_DIR = path.join(ROOT, 'dist', 'client');
/** Errors a user can fix by themselves: printed as one line, without a stack. */
const USER_ERRORS = new Set(['ConfigError', 'DatabaseError', 'ListenError', 'ImportError', 'InvalidArgumentError', 'DownloadError']);

/** Errors the user can fix are one clear line; anything else keeps its stack for a bug report. */
function fail(error: unknown): never {
  const known = error instanceof Error && USER_ERRORS.has(error.name);
  process.stderr.write(`terrinum: ${known ? (error as Error).message : ((error as Error)?.stack ?? String(error))}\n`);
  process.exit(1);
}

/** True when dist/client is missing or older than a client source file. */
function clientIsStale(): boolean {
  const built = path.join(CLIENT_DIR, 'index.html');
  if (!fs.existsSync(built)) return true;
  const builtAt = fs.statSync(built).mtimeMs;
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const full = path.join(dir, entry.name);
      return Math.max(max, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
    }, 0);
  return newest(path.join(ROOT, 'client')) > builtAt;
}

async function buildClient(): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new ConfigError('the map client is not built and Vite is not installed: run `npm install` then `npm run build`');
  }
  process.stdout.write('terrinum: building the map client…\n');
  await vite.build({ configFile: path.join(ROOT, 'client', 'vite.config.ts'), logLevel: 'warn' });
}

async function serve(options: { build: boolean }): Promise<void> {
  const config = loadConfig();
  if (options.build && clientIsStale()) await buildClient();
  // Loaded here so that --help answers without loading the database drivers.
  const { start } = await import('./main.ts');
  const running = await start(config);
  process.stdout.write(`terrinum: map ready at ${running.url} (database: ${running.database.backend})\n`);
  const shutdown = (signal: string) => {
    running.logger.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (error) => fail(error),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

const program = new Command();
program
  .name('terrinum')
  .description('Territoires numériques: fibre deployment vs digital usage, commune by commune ')
  .showHelpAfterError();

program
  .command('serve')
  .description('start the HTTP server (API and map) on PORT, with the database of DATABASE_URL or the embedded one')
  .action(() => serve({ build: false }));

program
  .command('start')
  .description('build the map client if needed, then serve (what `npm start` runs)')
  .action(() => serve({ build: true }));

registerImportCommands(program);

program.parseAsync(process.argv).catch(fail);
