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
  /**
   * `fetch-open-data`: URL template of a département's communes as GeoJSON (TERRINUM_COMMUNES_URL, default
   * geo.api.gouv.fr `/departements/{departement}/communes?format=geojson&geometry=contour`). Without a
   * `{departement}` placeholder the file is national (e.g. etalab contours-administratifs `communes-100m.geojson.gz`)
   * and is cut down to the département's communes.
   */
  communesUrl: string;
  /**
   * `fetch-open-data`: URL template of the ARCEP FttH deployment files, 2018 layout (TERRINUM_ARCEP_URL, default
   * data.gouv.fr's static resources of "Le marché du haut et très haut débit fixe (déploiements)"); `{file}` is one
   * of ftthCommunes.csv, communes.csv, ftthEpci.csv, epci.csv, ftthDepartements.csv, departements.csv. Without a
   * `{departement}` placeholder the files are national and are cut down to the département's rows.
   */
  arcepUrl: string;
  /** `fetch-open-data`: time allowed for each file, answer and body, in ms (TERRINUM_FETCH_TIMEOUT, in seconds, default 300). */
  fetchTimeoutMs: number;
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

const DEFAULT_COMMUNES_URL = 'https://geo.api.gouv.fr/departements/{departement}/communes?format=geojson&geometry=contour';
const DEFAULT_ARCEP_URL = 'https://static.data.gouv.fr/resources/le-marche-du-haut-et-tres-haut-debit-fixe-deploiements/{file}';

function parseUrlTemplate(name: string, value: string | undefined, fallback: string, required: string[]): string {
  const template = value?.trim() || fallback;
  for (const placeholder of required) {
    if (!template.includes(placeholder)) throw new ConfigError(`${name} must contain the placeholder ${placeholder}, got "${template}"`);
  }
  let url: URL;
  try {
    url = new URL(template.replaceAll('{departement}', '02').replaceAll('{file}', 'communes.csv'));
  } catch {
    throw new ConfigError(`${name} is not a valid URL template (expected https://…, with {departement} for the département code), got "${template}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http:// or https:// URL, got "${template}"`);
  return template;
}

function parseTimeout(name: string, value: string | undefined, fallbackSeconds: number): number {
  if (value === undefined || value.trim() === '') return fallbackSeconds * 1000;
  const seconds = Number(value.trim());
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds > 0)) throw new ConfigError(`${name} must be a positive number of seconds, got "${value}"`);
  return Math.round(seconds * 1000);
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
    communesUrl: parseUrlTemplate('TERRINUM_COMMUNES_URL', env.TERRINUM_COMMUNES_URL, DEFAULT_COMMUNES_URL, []),
    arcepUrl: parseUrlTemplate('TERRINUM_ARCEP_URL', env.TERRINUM_ARCEP_URL, DEFAULT_ARCEP_URL, ['{file}']),
    fetchTimeoutMs: parseTimeout('TERRINUM_FETCH_TIMEOUT', env.TERRINUM_FETCH_TIMEOUT, 300),
  });
}
