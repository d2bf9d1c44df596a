/**
 * Search benchmark: GET /api/search's service (services/search.service.ts) over the whole current COG — 34,969
 * communes, every EPCI, département and région, with their postal codes — imported with `importHierarchy`,
 * against a baseline measured in the same run on the same data: a plain `name ILIKE '%q%'` scan ordered by
 * population (no index can serve it; it is also accent-sensitive, so it finds less). Goal: p95 < 20 ms.
 * Queries (fixed seed): whole names typed without accents, 3–6 letter prefixes, words inside names, one-letter
 * typos, INSEE codes, postal codes, EPCI words. Embedded (in-memory PGlite) always; the server too when
 * DATABASE_URL is set (a fresh database terrinum_bench_search_<pid>, dropped at the end).
 *
 *   npx tsx bench/search.ts [--queries N] [--backend embedded|server]
 */
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { openDatabase, type Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import type { DB } from '../server/db/schema.ts';
import { loadCog } from '../server/import/cog.ts';
import { importHierarchy } from '../server/import/hierarchy.ts';
import { createSearchService } from '../server/services/search.service.ts';

const { values: args } = parseArgs({ options: { queries: { type: 'string', default: '400' }, backend: { type: 'string' } } });
const QUERIES = Number(args.queries);
if (!Number.isInteger(QUERIES) || QUERIES < 10) throw new Error(`--queries must be a whole number ≥ 10, got "${args.queries}"`);
if (args.backend && !['embedded', 'server'].includes(args.backend)) throw new Error(`--backend must be embedded or server, got "${args.backend}"`);
if (args.backend === 'server' && !process.env.DATABASE_URL) throw new Error('--backend server needs DATABASE_URL');

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const plain = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** The query mix: [kind, q]. */
function queries(count: number): [string, string][] {
  const cog = loadCog();
  const communes = [...cog.communes.values()];
  const epcis = [...cog.epcis.values()];
  const next = random(20_250_101);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)]!;
  const kinds: [string, () => string][] = [
    ['whole name', () => plain(pick(communes).name)],
    ['prefix', () => plain(pick(communes).name).slice(0, 3 + Math.floor(next() * 4))],
    ['word', () => pick(plain(pick(communes).name).split(/[^a-z]+/).filter((w) => w.length >= 4)) ?? 'saint'],
    [
      'typo',
      () => {
        const name = plain(pick(communes).name);
        const at = 1 + Math.floor(next() * (name.length - 2));
        return name.slice(0, at) + name.slice(at + 1);
      },
    ],
    ['INSEE code', () => pick(communes).code],
    ['postal code', () => pick(communes.filter((c) => c.postalCodes.length)).postalCodes[0]!],
    ['EPCI word', () => pick(plain(pick(epcis).name).split(/[^a-z]+/).filter((w) => w.length >= 5)) ?? 'pays'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [kind, make] = kinds[i % kinds.length]!;
    return [kind, make()];
  });
}

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Figures {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

async function time(list: [string, string][], run: (q: string) => Promise<unknown>): Promise<{ all: Figures; byKind: Map<string, Figures> }> {
  const samples: [string, number][] = [];
  for (const [kind, q] of list) {
    const started = performance.now();
    await run(q);
    samples.push([kind, performance.now() - started]);
  }
  const figures = (values: number[]): Figures => {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), mean: values.reduce((s, v) => s + v, 0) / values.length };
  };
  const kinds = [...new Set(samples.map(([k]) => k))];
  return { all: figures(samples.map(([, ms]) => ms)), byKind: new Map(kinds.map((k) => [k, figures(samples.filter(([x]) => x === k).map(([, ms]) => ms))])) };
}

function baseline(db: Kysely<DB>) {
  return (q: string) =>
    sql`SELECT level, code, name, population FROM territory WHERE name ILIKE ${`%${q}%`} OR code = ${q} ORDER BY population DESC NULLS LAST LIMIT 10`.execute(db);
}

const ms = (v: number) => `${v.toFixed(2).padStart(8)} ms`;

async function benchBackend(name: 'embedded' | 'server', database: Database): Promise<void> {
  process.stderr.write(`${name}: migrating and importing the COG hierarchy…\n`);
  await migrate(database);
  const started = performance.now();
  await importHierarchy(database);
  process.stderr.write(`${name}: hierarchy imported in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const counts = await sql<{ level: string; n: number }>`SELECT level, count(*)::int AS n FROM territory GROUP BY level ORDER BY level`.execute(database.db);
  const service = createSearchService(database.db);
  const fillStarted = performance.now();
  await service.ensurePostalCodes();
  const fillMs = performance.now() - fillStarted;
  const postal = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM postal_code`.execute(database.db)).rows[0]!.n;
  const list = queries(QUERIES);
  const search = (q: string) => service.search({ q, limit: 10, levels: null });
  const scan = baseline(database.db);
  // warm-up: plans, caches, the COG read once
  for (const [, q] of list.slice(0, 20)) {
    await search(q);
    await scan(q);
  }
  const ours = await time(list, search);
  const theirs = await time(list, scan);
  const found = await Promise.all(list.slice(0, 70).map(async ([, q]) => ((await search(q)).length > 0 ? 1 : 0) as number));
  console.log(`\n== ${name} — ${counts.rows.map((r) => `${r.n} ${r.level}`).join(', ')}; ${postal} postal code links (filled in ${fillMs.toFixed(0)} ms)`);
  console.log(`   ${QUERIES} queries, one at a time, limit 10 (search = ensure postal codes + key + ranked query)`);
  console.log(`   ${'kind'.padEnd(14)} ${'search p50'.padStart(11)} ${'search p95'.padStart(11)} ${'ILIKE p50'.padStart(11)} ${'ILIKE p95'.padStart(11)}`);
  for (const [kind, f] of ours.byKind) {
    const b = theirs.byKind.get(kind)!;
    console.log(`   ${kind.padEnd(14)} ${ms(f.p50)} ${ms(f.p95)} ${ms(b.p50)} ${ms(b.p95)}`);
  }
  console.log(`   all: search p50 ${ms(ours.all.p50)}, p95 ${ms(ours.all.p95)}, p99 ${ms(ours.all.p99)}, mean ${ms(ours.all.mean)}`);
  console.log(`        ILIKE  p50 ${ms(theirs.all.p50)}, p95 ${ms(theirs.all.p95)}, p99 ${ms(theirs.all.p99)}, mean ${ms(theirs.all.mean)}`);
  console.log(`   ratio search / ILIKE scan: p50 ${(ours.all.p50 / theirs.all.p50).toFixed(2)}×, p95 ${(ours.all.p95 / theirs.all.p95).toFixed(2)}×`);
  console.log(`   goal p95 < 20 ms: ${ours.all.p95 < 20 ? 'met' : 'NOT met'}; queries with a result (first 70): ${found.reduce((a, b) => a + b, 0)}/70`);
}

async function main(): Promise<void> {
  if (args.backend !== 'server') {
    const database = await openDatabase({ databaseUrl: null, dataDir: 'memory://' });
    try {
      await benchBackend('embedded', database);
    } finally {
      await database.close();
    }
  }
  if (process.env.DATABASE_URL && args.backend !== 'embedded') {
    const name = `terrinum_bench_search_${process.pid}`;
    const admin = async (text: string) => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      try {
        await client.query(text);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    const database = await openDatabase({ databaseUrl: url.toString(), dataDir: '' });
    try {
      await database.runScript('CREATE EXTENSION IF NOT EXISTS postgis');
      await benchBackend('server', database);
    } finally {
      await database.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }
}

await main();
