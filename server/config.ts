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
  /**
   * Multi-speed territories: a commune is "far below" its territory when more than this many points below the
   * territory's own rate (TERRINUM_DISPARITY_THRESHOLD, 0–100, default 30). Used by the stored recompute.
   */
  disparityThreshold: number;
  /** LISA pseudo p-values: how permutations equal to the observed value count (TERRINUM_LISA_TIES, default conservative). */
  lisaTies: LisaTies;
  /**
   * Who may frame terrinum's pages (the /embed widget on council websites): CSP `frame-ancestors` sources
   * (TERRINUM_FRAME_ANCESTORS, space- or comma-separated, e.g. `'self' https://www.ville-laon.fr`; default `'self'`).
   */
  frameAncestors: string[];
  /**
   * Origins allowed to call /api, /tiles and /ogc from a browser (TERRINUM_CORS_ORIGINS, space- or comma-separated
   * `https://host[:port]`, or `*` for any; default none). Never with credentials: the API needs no cookie.
   */
  corsOrigins: string[] | '*';
  /** Export requests (/api/export) allowed per minute per client address (TERRINUM_EXPORT_RATE_LIMIT, default 30; 0 = no limit). */
  exportRateLimit: number;
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

function listOf(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/** CSP frame-ancestors sources: 'self', 'none', *, a scheme (https:) or a host source (https://*.example.org:8443). */
function parseFrameAncestors(value: string | undefined): string[] {
  const sources = listOf(value).map((s) => (/^'?(self|none)'?$/i.test(s) ? `'${s.replace(/'/g, '').toLowerCase()}'` : s));
  if (sources.length === 0) return ["'self'"];
  for (const source of sources) {
    const valid = source === "'self'" || source === "'none'" || source === '*' || /^https?:$/.test(source) || /^(https?:\/\/)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?$/i.test(source);
    if (!valid) throw new ConfigError(`TERRINUM_FRAME_ANCESTORS: "${source}" is not a frame-ancestors source ('self', 'none', * or https://host[:port])`);
  }
  if (sources.includes("'none'") && sources.length > 1) throw new ConfigError(`TERRINUM_FRAME_ANCESTORS: 'none' cannot be combined with other sources`);
  return sources;
}

/** CORS allow-list: exact origins (scheme://host[:port], no path), or * alone. */
function parseCorsOrigins(value: string | undefined): string[] | '*' {
  const origins = listOf(value);
  if (origins.includes('*')) {
    if (origins.length > 1) throw new ConfigError('TERRINUM_CORS_ORIGINS: * cannot be combined with other origins');
    return '*';
  }
  return origins.map((origin) => {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '').toLowerCase()) {
      throw new ConfigError(`TERRINUM_CORS_ORIGINS: "${origin}" is not an origin (expected scheme://host[:port], e.g. https://www.ville-laon.fr)`);
    }
    return url.origin;
  });
}

function parseCount(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) > 1_000_000) throw new ConfigError(`${name} must be a whole number between 0 and 1000000, got "${value}"`);
  return Number(value);
}

/**
 * LISA tie rule. `conservative`: a permuted value equal to the observed one counts on both sides; `geoda`: as
 * "at least as extreme" only, as GeoDa and spdep do. See docs/metrics.md (pseudo p-values).
 */
export type LisaTies = 'conservative' | 'geoda';

const LISA_TIES = ['conservative', 'geoda'] as const;

function parseLisaTies(value: string | undefined): LisaTies {
  const ties = value?.trim() || 'conservative';
  if (!(LISA_TIES as readonly string[]).includes(ties)) throw new ConfigError(`TERRINUM_LISA_TIES must be one of ${LISA_TIES.join(', ')}, got "${value}"`);
  return ties as LisaTies;
}

function parseDisparityThreshold(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 30;
  const points = Number(value.trim());
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || points > 100) {
    throw new ConfigError(`TERRINUM_DISPARITY_THRESHOLD must be a number of points from 0 to 100, got "${value}"`);
  }
  return points;
}

/**
 * The settings of the stored analyses alone: the analysis steps read them when they run (after an import, from
 * the CLI or the server) without requiring the rest of the configuration to be valid.
 */
export function analysisSettings(env: Env = process.env): Pick<Config, 'disparityThreshold' | 'lisaTies'> {
  return { disparityThreshold: parseDisparityThreshold(env.TERRINUM_DISPARITY_THRESHOLD), lisaTies: parseLisaTies(env.TERRINUM_LISA_TIES) };
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
    ...analysisSettings(env),
    frameAncestors: parseFrameAncestors(env.TERRINUM_FRAME_ANCESTORS),
    corsOrigins: parseCorsOrigins(env.TERRINUM_CORS_ORIGINS),
    exportRateLimit: parseCount('TERRINUM_EXPORT_RATE_LIMIT', env.TERRINUM_EXPORT_RATE_LIMIT, 30),
  });
}
