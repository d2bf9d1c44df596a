/**
 * terrinum's vector tiles side by side with MapServer 8 (Debian `cgi-mapserver`, FastCGI behind Debian `lighttpd`)
 * serving the same commune layer as MVT from the same PostGIS database, on loopback (issue #5).
 * The synthetic national dataset of bench/national.ts (35,000 communes) is built in a throw-away database; both
 * servers answer the same tiles of three zoom bands (z5–6, z8–9, z11–12) with the same properties (code, name,
 * fibre_coverage at its latest vintage), 16 concurrent clients each, gzip accepted.
 *   MapServer  reads the full-resolution outlines (EPSG:4326, as a mapfile on the territory table is usually
 *              written) and clips, reprojects and simplifies them per request; it has no tile cache. Its first pass
 *              over a band warms the database's buffers and its processes and is not counted.
 *   terrinum   a new application per band ("cold": every tile asked for the first time, tile cache empty), then
 *              the same tiles again (cached).
 * Ratio = MapServer p95 ÷ terrinum cold p95 (> 1: terrinum is faster). Needs DATABASE_URL, /usr/lib/cgi-bin/mapserv
 * and /usr/sbin/lighttpd (apt-get install cgi-mapserver lighttpd).
 *
 *   npx tsx bench/mapserver.ts [--communes N] [--tiles N] [--processes N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { sql } from 'kysely';
import { PbfReader } from 'pbf';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import { migrate } from '../server/db/migrate.ts';
import { rebuildTileGeometry } from '../server/tiles/generalise.ts';
import { BENCH_BANDS, bandTiles, fetchBody, listenApp, percentiles, seconds, timed, withServerDatabase, type Percentiles } from './lib.ts';
import { EAST, NORTH, SOUTH, WEST, buildNational } from './national.ts';

const MAPSERV = '/usr/lib/cgi-bin/mapserv';
const LIGHTTPD = '/usr/sbin/lighttpd';
const { values: args } = parseArgs({ options: { communes: { type: 'string', default: '35000' }, tiles: { type: 'string', default: '40' }, processes: { type: 'string', default: '4' } } });
const COMMUNES = Number(args.communes);
const TILES = Number(args.tiles);
const PROCESSES = Number(args.processes);
for (const [name, value] of [['--communes', COMMUNES], ['--tiles', TILES], ['--processes', PROCESSES]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1`);
}
for (const file of [MAPSERV, LIGHTTPD]) if (!fs.existsSync(file)) throw new Error(`${file} is missing: apt-get install cgi-mapserver lighttpd`);
if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is needed (MapServer reads the server PostGIS)');

const CONCURRENCY = 16;
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });

/** The mapfile, MapServer's configuration and lighttpd's, in a temporary folder; lighttpd started in the foreground. */
async function startMapServer(databaseUrl: string, vintage: string): Promise<{ base: string; stop: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-mapserver-'));
  const url = new URL(databaseUrl);
  const connection = `host=${url.hostname} port=${url.port || 5432} dbname=${url.pathname.slice(1)} user=${decodeURIComponent(url.username) || 'postgres'}`;
  const data =
    'geom from (SELECT t.id, t.code, t.name, v.value AS fibre_coverage, t.geom FROM territory t ' +
    `LEFT JOIN indicator_value v ON v.territory_id = t.id AND v.indicator_id = 'fibre_coverage' AND v.vintage = '${vintage}' ` +
    "WHERE t.level = 'commune') AS c USING UNIQUE id USING SRID=4326";
  fs.writeFileSync(
    path.join(dir, 'commune.map'),
    `MAP
  NAME "terrinum"
  EXTENT -20037508 -20037508 20037508 20037508
  SIZE 256 256
  PROJECTION "init=epsg:3857" END
  OUTPUTFORMAT NAME "mvt" DRIVER MVT FORMATOPTION "EXTENT=4096" FORMATOPTION "EDGE_BUFFER=64" END
  LAYER
    NAME "commune"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "${connection}"
    DATA "${data}"
    PROJECTION "init=epsg:4326" END
    METADATA "gml_include_items" "code,name,fibre_coverage" "gml_types" "auto" END
  END
END
`,
  );
  fs.writeFileSync(path.join(dir, 'mapserver.conf'), `CONFIG\n  ENV\n    MS_MAP_PATTERN "^${dir}/"\n  END\nEND\n`);
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'lighttpd.conf'),
    `server.modules = ("mod_fastcgi")
server.bind = "127.0.0.1"
server.port = ${port}
server.document-root = "${dir}"
server.errorlog = "${dir}/error.log"
server.max-connections = 256
fastcgi.server = ("/mapserv" => ((
  "bin-path" => "${MAPSERV}",
  "socket" => "${dir}/mapserv.sock",
  "max-procs" => ${PROCESSES},
  "bin-environment" => ("MAPSERVER_CONFIG_FILE" => "${dir}/mapserver.conf"),
  "check-local" => "disable"
)))
`,
  );
  // its own process group, so that stopping it also stops the FastCGI processes it spawned
  const child = spawn(LIGHTTPD, ['-D', '-f', path.join(dir, 'lighttpd.conf')], { stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${port}/mapserv?map=${encodeURIComponent(path.join(dir, 'commune.map'))}&mode=tile&tilemode=gmap&layers=commune&map.imagetype=mvt&tile=`;
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) { this.destroy(); resolve(true); }).on('error', () => resolve(false)));
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop: () => {
      process.kill(-child.pid!, 'SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Features of the commune layer in a tile body (gzipped or not); 0 for an empty answer. */
function featureCount(body: Buffer, encoding: string | undefined): number {
  if (!body.length) return 0;
  const raw = encoding === 'gzip' ? zlib.gunzipSync(body) : body;
  return new VectorTile(new PbfReader(raw)).layers.commune?.length ?? 0;
}

interface BandResult {
  name: string;
  tiles: number;
  terrinumCold: Percentiles;
  terrinumCached: Percentiles;
  mapserver: Percentiles;
  features: { terrinum: number; mapserver: number };
  bytes: { terrinum: number; mapserver: number };
}

await withServerDatabase('terrinum_bench_mapserver', async (database, databaseUrl) => {
  const { db } = database;
  await migrate(database);
  const log = (text: string) => process.stderr.write(`mapserver bench: ${text}\n`);
  log(`building ${COMMUNES.toLocaleString('en')} communes…`);
  let started = performance.now();
  await buildNational(db, COMMUNES);
  await db.transaction().execute((trx) => recomputeAllAggregates(trx));
  await db.transaction().execute((trx) => rebuildTileGeometry(trx));
  await sql`ANALYZE`.execute(db);
  log(`built in ${seconds(performance.now() - started)}`);
  const { vintage } = (await sql<{ vintage: string }>`SELECT max(vintage) AS vintage FROM indicator_value WHERE indicator_id = 'fibre_coverage'`.execute(db)).rows[0]!;

  const mapserver = await startMapServer(databaseUrl, vintage);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const results: BandResult[] = [];
  try {
    for (const [b, band] of BENCH_BANDS.entries()) {
      const tiles = bandTiles(b, [WEST, SOUTH, EAST, NORTH], TILES);
      const features = { terrinum: 0, mapserver: 0 };
      const bytes = { terrinum: 0, mapserver: 0 };
      const askMapServer = async (t: { z: number; x: number; y: number }, count: boolean) => {
        const answer = await fetchBody(agent, `${mapserver.base}${t.x}+${t.y}+${t.z}`);
        if (answer.status !== 200) throw new Error(`MapServer answered ${answer.status} for ${t.z}/${t.x}/${t.y}: ${answer.body.toString().slice(0, 300)}`);
        if (count) {
          features.mapserver += featureCount(answer.body, answer.headers['content-encoding'] as string | undefined);
          bytes.mapserver += answer.body.length;
        }
      };
      log(`${band.name}: MapServer warm-up pass…`);
      await timed(tiles, CONCURRENCY, (t) => askMapServer(t, false));
      log(`${band.name}: terrinum cold, then cached…`);
      const app = await listenApp(database);
      const terrinumPath = (t: { z: number; x: number; y: number }) => `${app.base}/tiles/commune/${t.z}/${t.x}/${t.y}.mvt?indicators=fibre_coverage&vintage=${vintage}`;
      // the catalogue loaded first, as a client's TileJSON request does
      await fetchBody(app.agent, `${app.base}/tiles/commune.json?indicators=fibre_coverage&vintage=${vintage}`);
      const askTerrinum = async (t: { z: number; x: number; y: number }, count: boolean) => {
        const answer = await fetchBody(app.agent, terrinumPath(t));
        if (answer.status !== 200 && answer.status !== 204) throw new Error(`terrinum answered ${answer.status} for ${t.z}/${t.x}/${t.y}`);
        if (count) {
          features.terrinum += featureCount(answer.body, answer.headers['content-encoding'] as string | undefined);
          bytes.terrinum += answer.body.length;
        }
      };
      const cold = await timed(tiles, CONCURRENCY, (t) => askTerrinum(t, true));
      const cached = await timed(tiles, CONCURRENCY, (t) => askTerrinum(t, false));
      await app.close();
      log(`${band.name}: MapServer timed pass…`);
      const ms = await timed(tiles, CONCURRENCY, (t) => askMapServer(t, true));
      results.push({ name: band.name, tiles: tiles.length, terrinumCold: percentiles(cold), terrinumCached: percentiles(cached), mapserver: percentiles(ms), features, bytes });
    }
  } finally {
    agent.destroy();
    mapserver.stop();
  }

  const f = (v: number) => `${v.toFixed(1)}`.padStart(8);
  console.log(`\nterrinum vs MapServer 8.0 (FastCGI, ${PROCESSES} processes, lighttpd), commune layer as MVT, ${COMMUNES.toLocaleString('en')} synthetic communes, ${CONCURRENCY} concurrent clients, loopback, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}`);
  console.log('milliseconds; ratio = MapServer p95 ÷ terrinum cold p95 (> 1: terrinum faster)');
  console.log('band     tiles   terrinum cold p50/p95   cached p50/p95   MapServer p50/p95    ratio   features t/ms   KB per tile t/ms');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(8)} ${String(r.tiles).padStart(5)}   ${f(r.terrinumCold.p50)} ${f(r.terrinumCold.p95)}     ${f(r.terrinumCached.p50)} ${f(r.terrinumCached.p95)}   ${f(r.mapserver.p50)} ${f(r.mapserver.p95)}   ${(r.mapserver.p95 / r.terrinumCold.p95).toFixed(2).padStart(5)}×   ` +
        `${r.features.terrinum}/${r.features.mapserver}   ${(r.bytes.terrinum / r.tiles / 1024).toFixed(1)}/${(r.bytes.mapserver / r.tiles / 1024).toFixed(1)}`,
    );
  }
  console.log('MapServer clips and simplifies the full outlines per request; terrinum serves outlines generalised per zoom band at import (docs/tiles.md).');
});
