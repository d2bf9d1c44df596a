import path from 'node:path';

/** Runtime configuration, read once from the environment at start. Every default lives here. */
export interface Config {
  /** HTTP port (PORT, default 3000). */
  port: number;
  /** Bind address (HOST, default 0.0.0.0). */
  host: string;
  /** PostgreSQL/PostGIS server URL (DATABASE_URL); unset → embedded PostGIS (PGlite). */
  databaseUrl: string | null;
  /** Embedded database directory (TERRINUM_DATA_DIR, default ./.terrinum/db); `memory://` keeps it in memory. */
  dataDir: string;
  /** Load the synthetic demonstration territory when the database holds no territory (TERRINUM_DEMO, default true). */
  demo: boolean;
  /** pino log level (LOG_LEVEL, default info). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Optional MapLibre basemap style URL for deployments that have one (TERRINUM_BASEMAP_STYLE). */
  basemapStyle: string | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 3000;
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`PORT must be a number between 0 and 65535, got "${value}"`);
  const port = Number(value);
  if (port > 65535) throw new ConfigError(`PORT must be a number between 0 and 65535, got "${value}"`);
  return port;
}

function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function parseDatabaseUrl(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`DATABASE_URL is not a valid URL (expected postgres://user@host:port/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  return value;
}

/** Reads and validates the configuration; throws ConfigError naming the variable at fault. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Readonly<Config> {
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const dataDir = env.TERRINUM_DATA_DIR?.trim() || path.join(cwd, '.terrinum', 'db');
  return Object.freeze({
    port: parsePort(env.PORT),
    host: env.HOST?.trim() || '0.0.0.0',
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    dataDir: dataDir === 'memory://' ? dataDir : path.resolve(cwd, dataDir),
    demo: parseBoolean('TERRINUM_DEMO', env.TERRINUM_DEMO, true),
    logLevel,
    basemapStyle: env.TERRINUM_BASEMAP_STYLE?.trim() || null,
  });
}
