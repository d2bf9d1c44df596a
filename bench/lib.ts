/**
 * Helpers shared by the benchmarks: percentiles, formatting, a throw-away database on the server, a fresh HTTP
 * application on loopback, deterministic tile picking. Benchmarks are scripts (npm run bench:*), not tests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { loadConfig } from '../server/config.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { createApp } from '../server/http/app.ts';
import { createLogger } from '../server/log.ts';

// ---- Figures ------------------------------------------------------------------------------------------------

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Nearest-rank percentiles of a list of timings. */
export function percentiles(times: readonly number[]): Percentiles {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99) };
}

export const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const millis = (ms: number) => `${ms.toFixed(1)} ms`;
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Runs `work` over the items with `concurrency` workers pulling from one queue; returns each item's milliseconds. */
export async function timed<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const started = performance.now();
        await work(item);
        times.push(performance.now() - started);
      }
    }),
  );
  return times;
}

// ---- Tiles --------------------------------------------------------------------------------------------------

/** The XYZ tile holding a point at zoom z. */
export function tileOf(lon: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const sin = Math.sin((lat * Math.PI) / 180);
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor((0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * n) };
}

export interface TileId {
  z: number;
  x: number;
  y: number;
}

/** The zoom bands the tile benchmarks compare (two zooms each, as server/tiles/layers.ts bands them). */
export const BENCH_BANDS = [
  { name: 'z5–6', zooms: [5, 6] },
  { name: 'z8–9', zooms: [8, 9] },
  { name: 'z11–12', zooms: [11, 12] },
] as const;

/** Up to `count` tiles of band `index` over the box [west, south, east, north], the same ones in every run. */
export function bandTiles(index: number, [west, south, east, north]: readonly [number, number, number, number], count: number): TileId[] {
  const tiles = BENCH_BANDS[index]!.zooms.flatMap((z) => {
    const a = tileOf(west, north, z);
    const c = tileOf(east, south, z);
    const list: TileId[] = [];
    for (let x = a.x; x <= c.x; x++) for (let y = a.y; y <= c.y; y++) list.push({ z, x, y });
    return list;
  });
  return shuffled(tiles, 20240 + index).slice(0, count);
}

/** Deterministic shuffle (mulberry32), so every run and backend asks the same things in the same order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** GET with gzip accepted; the body is read and not decompressed (a browser's work, not the server's). */
export function fetchBody(agent: http.Agent, url: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }));
      })
      .on('error', reject);
  });
}

// ---- Databases and servers ----------------------------------------------------------------------------------

/** Runs one statement on a maintenance connection (CREATE/DROP DATABASE, CREATE EXTENSION). */
export async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A new database `<prefix>_<pid>` with PostGIS on the DATABASE_URL server, opened for `body`, dropped afterwards
 * (and on Ctrl-C).
 */
export async function withServerDatabase<T>(prefix: string, body: (database: Database, url: string) => Promise<T>): Promise<T> {
  if (!process.env.DATABASE_URL) throw new Error('the server backend needs DATABASE_URL');
  const url = new URL(process.env.DATABASE_URL);
  const name = `${prefix}_${process.pid}`;
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  await admin(url.toString(), `CREATE DATABASE ${name}`);
  const drop = () => admin(url.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  process.once('SIGINT', () => void drop().finally(() => process.exit(130)));
  try {
    await admin(databaseUrl.toString(), 'CREATE EXTENSION postgis');
    const database = await openDatabase({ databaseUrl: databaseUrl.toString(), dataDir: '' });
    try {
      return await body(database, databaseUrl.toString());
    } finally {
      // the body may have closed it already
      await database.close().catch(() => undefined);
    }
  } finally {
    await drop();
  }
}

export interface Listening {
  base: string;
  /** Keep-alive connections to this server only, closed with it. */
  agent: http.Agent;
  close(): Promise<void>;
}

/** A fresh terrinum application (empty tile cache) on a free loopback port: a restart of the HTTP layer. */
export async function listenApp(database: Database): Promise<Listening> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_DEMO: 'false' });
  const app = createApp({ config, database, logger: createLogger('silent') });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  // idle keep-alive sockets must outlive pauses between passes (Node's default closes them after 5 s)
  server.keepAliveTimeout = 60_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    agent,
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
