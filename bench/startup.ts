/**
 * Start-up benchmark: time from process spawn to "map ready" for `terrinum serve`, cold (empty database:
 * migrations + demo territory) and warm (second start on the same database), on the embedded backend and,
 * when DATABASE_URL is set, on the server. Baselines measured in the same run: a bare PGlite start
 * (no PostGIS) and a bare `pg` connection with SELECT 1.
 *   npx tsx bench/startup.ts            (DATABASE_URL=postgres://… for the server rows)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'terrinum.js');

function timeServe(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env } });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('map ready')) {
        const elapsed = performance.now() - started;
        child.kill('SIGTERM');
        child.on('close', () => resolve(elapsed));
      }
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('exit', (code) => code && code !== 0 && reject(new Error(`terrinum serve exited with ${code}`)));
  });
}

function timeNode(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'inherit' });
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`baseline exited with ${code}`))));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rows: string[][] = [];

async function admin(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(text);
  await client.end();
}

async function repeat(times: number, run: () => Promise<number>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) runs.push(await run());
  return median(runs);
}

const embeddedBaseline = await repeat(3, () =>
  timeNode("import { PGlite } from '@electric-sql/pglite'; const db = new PGlite(); await db.query('select 1'); await db.close();"),
);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-bench-'));
const embeddedCold = await timeServe({ DATABASE_URL: '', TERRINUM_DATA_DIR: dir });
const embeddedWarm = await repeat(3, () => timeServe({ DATABASE_URL: '', TERRINUM_DATA_DIR: dir }));
fs.rmSync(dir, { recursive: true, force: true });
rows.push(['embedded', 'baseline: bare PGlite start', seconds(embeddedBaseline), '1.00×']);
rows.push(['embedded', 'cold start (migrations + demo)', seconds(embeddedCold), `${(embeddedCold / embeddedBaseline).toFixed(2)}×`]);
rows.push(['embedded', 'warm start (median of 3)', seconds(embeddedWarm), `${(embeddedWarm / embeddedBaseline).toFixed(2)}×`]);

if (process.env.DATABASE_URL) {
  const url = new URL(process.env.DATABASE_URL);
  const name = `terrinum_bench_${process.pid}`;
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  const serverBaseline = await repeat(3, () =>
    timeNode(`import pg from 'pg'; const c = new pg.Client({ connectionString: ${JSON.stringify(url.toString())} }); await c.connect(); await c.query('select 1'); await c.end();`),
  );
  await admin(url.toString(), `CREATE DATABASE ${name}`);
  await admin(benchUrl.toString(), 'CREATE EXTENSION postgis');
  try {
    const cold = await timeServe({ DATABASE_URL: benchUrl.toString() });
    const warm = await repeat(3, () => timeServe({ DATABASE_URL: benchUrl.toString() }));
    rows.push(['server', 'baseline: bare pg connect + SELECT 1', seconds(serverBaseline), '1.00×']);
    rows.push(['server', 'cold start (migrations + demo)', seconds(cold), `${(cold / serverBaseline).toFixed(2)}×`]);
    rows.push(['server', 'warm start (median of 3)', seconds(warm), `${(warm / serverBaseline).toFixed(2)}×`]);
    rows.push(['both', 'warm start embedded / server', '', `${(embeddedWarm / warm).toFixed(2)}×`]);
  } finally {
    await admin(url.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
} else {
  rows.push(['server', 'skipped: set DATABASE_URL to measure the server backend', '', '']);
}

console.log('\nterrinum start-up (process spawn → "map ready"), on', os.cpus().length, 'cores');
for (const row of rows) console.log(`${row[0]!.padEnd(9)} ${row[1]!.padEnd(42)} ${row[2]!.padStart(9)} ${row[3]!.padStart(8)}`);
