import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { VectorTile, type VectorTileFeature } from '@mapbox/vector-tile';
import { sql } from 'kysely';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../server/http/validation.ts';
import { tileGeometryStep } from '../server/tiles/generalise.ts';
import { bandOf, bandTolerance } from '../server/tiles/layers.ts';
import { PRECUT_MAX_ZOOM } from '../server/tiles/precut.ts';
import { renderTile } from '../server/tiles/render.ts';
import { importIndicator } from '../server/import/indicator.ts';
import type { Running } from '../server/main.ts';
import { backends, openDemoDatabase } from './helpers/db.ts';
import { getJson, startDemoServer } from './helpers/server.ts';

const MVT = 'application/vnd.mapbox-vector-tile';
const TERRITORY_LAYERS = ['commune', 'epci', 'departement', 'region'];
const WORLD_METRES = 2 * Math.PI * 6378137;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET that leaves the body as sent (fetch would decompress it). */
function get(running: Running, pathname: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(new URL(pathname, running.url), { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** The features of a tile's layer, decoded; none for a 204. */
async function features(running: Running, pathname: string, layer: string): Promise<VectorTileFeature[]> {
  const answer = await get(running, pathname);
  if (answer.status === 204) return [];
  expect(answer.status, `${pathname}: ${answer.body.toString()}`).toBe(200);
  expect(answer.headers['content-type']).toBe(MVT);
  return decode(answer.body, layer);
}

function decode(body: Buffer, layer: string): VectorTileFeature[] {
  const tile = new VectorTile(new PbfReader(body));
  const found = tile.layers[layer];
  if (!found) return [];
  expect(found.extent).toBe(4096);
  return Array.from({ length: found.length }, (_, i) => found.feature(i));
}

/** Tile column and row of a WGS84 point (XYZ scheme). */
function tileOf(lon: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const sin = Math.sin((lat * Math.PI) / 180);
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor((0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * n) };
}

type Bbox = [number, number, number, number];

/** The deepest zoom whose one tile holds the whole box, and the tiles covering the box at deeper zooms. */
function coverage(bbox: Bbox) {
  let fit = 0;
  for (let z = 0; z <= 14; z++) {
    const a = tileOf(bbox[0], bbox[3], z);
    const b = tileOf(bbox[2], bbox[1], z);
    if (a.x === b.x && a.y === b.y) fit = z;
  }
  const tiles = (z: number) => {
    const a = tileOf(bbox[0], bbox[3], z);
    const b = tileOf(bbox[2], bbox[1], z);
    const list: { z: number; x: number; y: number }[] = [];
    for (let x = a.x; x <= b.x; x++) for (let y = a.y; y <= b.y; y++) list.push({ z, x, y });
    return list;
  };
  return { fit, tiles, single: { z: fit, ...tileOf(bbox[0], bbox[3], fit) } };
}

const at = (t: { z: number; x: number; y: number }) => `${t.z}/${t.x}/${t.y}`;

/** Bounding box of a feature's geometry in tile units. */
function tileBbox(feature: VectorTileFeature): Bbox {
  const points = feature.loadGeometry().flat();
  return [Math.min(...points.map((p) => p.x)), Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.x)), Math.max(...points.map((p) => p.y))];
}

/** Signed area (exterior rings positive in tile coordinates) and perimeter of a feature, in tile units. */
function measure(feature: VectorTileFeature): { area: number; perimeter: number } {
  let area = 0;
  let perimeter = 0;
  for (const ring of feature.loadGeometry()) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      area += (ring[j]!.x * ring[i]!.y - ring[i]!.x * ring[j]!.y) / 2;
      perimeter += Math.hypot(ring[i]!.x - ring[j]!.x, ring[i]!.y - ring[j]!.y);
    }
  }
  return { area, perimeter };
}

describe.each(backends())('vector tiles (%s)', (backend) => {
  let running: Running;
  let bbox: Bbox;
  let cover: ReturnType<typeof coverage>;

  beforeAll(async () => {
    running = await startDemoServer(backend);
    bbox = (await getJson(running, '/api/meta')).body.bbox;
    cover = coverage(bbox);
  });
  afterAll(() => running?.close());

  it('registers both operations in the OpenAPI registry', () => {
    const paths = operations().map((o) => o.path);
    expect(paths).toContain('/tiles/{layer}/{z}/{x}/{y}.mvt');
    expect(paths).toContain('/tiles/{layer}.json');
  });

  it('holds every territory of the demo in the one tile that covers it, and nothing where there is no data (204)', async () => {
    for (const layer of TERRITORY_LAYERS) {
      const expected = (await getJson(running, `/api/stats/${layer}?indicator=fibre_coverage&limit=100000`)).body.rows.map((r: { code: string }) => r.code);
      const found = await features(running, `/tiles/${layer}/${at(cover.single)}.mvt`, layer);
      expect(found.map((f) => f.properties.code).sort(), layer).toEqual([...expected].sort());
      expect(found.every((f) => f.type === 3), 'polygons').toBe(true);
    }
    const places = await running.database.db.selectFrom('place').select(['id', 'name', 'kind']).orderBy('id').execute();
    const found = await features(running, `/tiles/places/${at(cover.single)}.mvt`, 'places');
    expect(found.map((f) => f.properties).sort((a, b) => Number(a.id) - Number(b.id))).toEqual(places);
    expect(found.every((f) => f.type === 1), 'points').toBe(true);
    // the antipode of the demo territory
    const far = tileOf(bbox[0] - 180, -bbox[1], 8);
    const empty = await get(running, `/tiles/commune/8/${far.x}/${far.y}.mvt`);
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
  });

  it('carries the values of /api/stats for the vintage asked, each indicator at its latest otherwise', async () => {
    const indicators = (await getJson(running, '/api/indicators')).body as { id: string; vintages: string[] }[];
    const fibre = indicators.find((i) => i.id === 'fibre_coverage')!;
    const other = indicators.find((i) => i.id !== 'fibre_coverage' && i.vintages.length)!;
    const older = fibre.vintages.at(-3)!;
    const cases = [
      { query: `indicators=fibre_coverage&vintage=${older}`, vintages: { fibre_coverage: older } },
      { query: `indicators=fibre_coverage,${other.id}`, vintages: { fibre_coverage: fibre.vintages.at(-1)!, [other.id]: other.vintages.at(-1)! } },
    ];
    for (const layer of ['commune', 'epci']) {
      for (const { query, vintages } of cases) {
        const stats = new Map<string, Map<string, { value: number | null; partial: boolean }>>();
        for (const [id, vintage] of Object.entries(vintages)) {
          const rows = (await getJson(running, `/api/stats/${layer}?indicator=${id}&vintage=${vintage}&limit=100000`)).body.rows;
          stats.set(id, new Map(rows.map((r: { code: string; value: number | null; partial: boolean }) => [r.code, r])));
        }
        const tiles = cover.tiles(cover.fit + 1);
        let checked = 0;
        for (const t of tiles) {
          for (const feature of await features(running, `/tiles/${layer}/${at(t)}.mvt?${query}`, layer)) {
            const code = String(feature.properties.code);
            let partial = false;
            for (const [id, rows] of stats) {
              const row = rows.get(code)!;
              expect(row, `${layer} ${code} in /api/stats`).toBeDefined();
              // a territory without a value has no property (MVT has no null)
              expect(feature.properties[id], `${layer} ${code} ${id}`).toBe(row.value ?? undefined);
              partial ||= row.partial;
            }
            expect(feature.properties.partial, `${layer} ${code} partial`).toBe(partial);
            expect(typeof feature.properties.name).toBe('string');
            checked++;
          }
        }
        expect(checked, `${layer} ${query}: features checked`).toBeGreaterThanOrEqual(stats.values().next().value!.size);
      }
    }
  });

  it('places outlines where they are: tile geometry matches the territory outlines', async () => {
    const outlines = await running.database.db
      .selectFrom('territory')
      .where('level', '=', 'commune')
      .select(['code', (eb) => eb.fn<string>('ST_AsGeoJSON', [eb.fn('ST_Envelope', ['geom'])]).as('envelope')])
      .execute();
    const envelope = new Map(outlines.map((o) => [o.code, JSON.parse(o.envelope).coordinates[0] as [number, number][]]));
    const t = cover.tiles(cover.fit + 2)[0]!;
    const found = await features(running, `/tiles/commune/${at(t)}.mvt`, 'commune');
    expect(found.length).toBeGreaterThan(0);
    const n = 2 ** t.z;
    // one tile unit at this zoom, in degrees of longitude; latitudes compare through the tile row
    for (const feature of found) {
      const [minX, minY, maxX, maxY] = tileBbox(feature);
      if (minX <= 0 || minY <= 0 || maxX >= 4096 || maxY >= 4096) continue; // clipped: its bbox is the tile's
      const corners = envelope.get(String(feature.properties.code))!;
      const lons = corners.map((c) => c[0]);
      const lats = corners.map((c) => c[1]);
      const west = ((t.x + minX / 4096) / n) * 360 - 180;
      const east = ((t.x + maxX / 4096) / n) * 360 - 180;
      const toleranceDegrees = (360 / n) * (40 / 4096); // the band's simplification (≤ 1 pixel of 512) plus rounding
      expect(Math.abs(west - Math.min(...lons)), `${feature.properties.code} west`).toBeLessThan(toleranceDegrees);
      expect(Math.abs(east - Math.max(...lons)), `${feature.properties.code} east`).toBeLessThan(toleranceDegrees);
      const north = tileOf(0, Math.max(...lats), t.z + 12); // 4096 = 2^12 units per tile
      expect(Math.abs(north.y - (t.y * 4096 + minY)), `${feature.properties.code} north`).toBeLessThan(40);
    }
    // MVT 2.1 §4.3.4.4: the first ring is exterior, positive by the surveyor's formula in tile coordinates
    for (const feature of found) expect(measure({ loadGeometry: () => feature.loadGeometry().slice(0, 1) } as VectorTileFeature).area).toBeGreaterThan(0);
  });

  it('revalidates with ETag (304), compresses when asked, and caches', async () => {
    const url = `/tiles/commune/${at(cover.single)}.mvt?indicators=fibre_coverage`;
    const first = await get(running, url, { 'accept-encoding': 'identity' });
    expect(first.status).toBe(200);
    expect(first.headers.etag).toMatch(/^W\/".+"$/);
    expect(first.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(first.headers['content-encoding']).toBeUndefined();
    const again = await get(running, url, { 'if-none-match': first.headers.etag! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers['x-tile-cache']).toBe('hit');
    const other = await get(running, url, { 'if-none-match': 'W/"something-else"' });
    expect(other.status).toBe(200);
    const gzipped = await get(running, url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gzipped.headers.etag).toBe(first.headers.etag);
    expect(gzipped.body.length).toBeLessThan(first.body.length);
    expect(zlib.gunzipSync(gzipped.body).equals(first.body)).toBe(true);
  });

  it('answers a cached tile (the fast path of hits) with the headers of its first answer, to GET and HEAD', async () => {
    const url = `/tiles/epci/${at(cover.single)}.mvt?indicators=fibre_coverage`;
    const asked = { 'accept-encoding': 'gzip', origin: 'https://collectivite.example.fr' };
    const first = await get(running, url, asked);
    expect(first.status).toBe(200);
    expect(first.headers['x-tile-cache']).toBe('miss');
    const hit = await get(running, url, asked);
    expect(hit.headers['x-tile-cache']).toBe('hit');
    const comparable = (headers: http.IncomingHttpHeaders) => {
      const { date, 'x-tile-cache': _cache, ...rest } = headers;
      return rest;
    };
    // security headers (helmet), CORS, ETag, Cache-Control, Vary, gzip: all there, all the same
    expect(comparable(hit.headers)).toEqual(comparable(first.headers));
    expect(hit.headers['content-security-policy']).toBeDefined();
    expect(hit.headers['x-content-type-options']).toBe('nosniff');
    expect(hit.body.equals(first.body)).toBe(true);
    const head = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(new URL(url, running.url), { method: 'HEAD', headers: asked }, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      });
      req.on('error', reject).end();
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['x-tile-cache']).toBe('hit');
    expect(comparable(head.headers)).toEqual(comparable(first.headers));
    // other methods are refused as before, cached or not
    const post = await new Promise<number>((resolve, reject) => {
      const req = http.request(new URL(url, running.url), { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject).end();
    });
    expect(post).toBe(405);
  });

  it('answers 4xx naming the parameter for bad tile requests, never 5xx', async () => {
    const cases: [string, number, string | undefined][] = [
      ['/tiles/commune/15/0/0.mvt', 400, 'z'],
      ['/tiles/commune/-1/0/0.mvt', 400, 'z'],
      ['/tiles/commune/1.5/0/0.mvt', 400, 'z'],
      ['/tiles/commune/3/8/0.mvt', 400, 'x'],
      ['/tiles/commune/3/0/8.mvt', 400, 'y'],
      ['/tiles/commune/3/0/abc.mvt', 400, 'y'],
      ['/tiles/commune/3/99999999999/0.mvt', 400, 'x'],
      ['/tiles/Commune/3/0/0.mvt', 400, 'layer'],
      ['/tiles/nowhere/3/0/0.mvt', 404, 'layer'],
      ['/tiles/commune/3/0/0.mvt?indicators=nope', 404, 'indicators'],
      ['/tiles/commune/3/0/0.mvt?indicators=Bad%20Id', 400, 'indicators'],
      ['/tiles/commune/3/0/0.mvt?indicators=fibre_coverage&vintage=1999', 404, 'vintage'],
      ['/tiles/commune/3/0/0.mvt?indicators=fibre_coverage&vintage=2024-Q5', 400, 'vintage'],
      ['/tiles/commune/3/0/0.mvt?vintage=2024-Q1&vintage=2024-Q2', 400, 'vintage'],
      ['/tiles/places/3/0/0.mvt?indicators=fibre_coverage', 400, 'indicators'],
      ['/tiles/nowhere.json', 404, 'layer'],
      ['/tiles/commune.json?indicators=nope', 404, 'indicators'],
      ['/tiles/commune/3/0/0.pbf', 404, undefined],
    ];
    for (const [url, status, parameter] of cases) {
      const answer = await get(running, url);
      expect(answer.status, url).toBe(status);
      expect(answer.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body.toString()).parameter, url).toBe(parameter);
    }
  });

  it('describes each layer in TileJSON 3.0.0, its tile URL keeping the query', async () => {
    const fibre = (await getJson(running, '/api/indicators')).body.find((i: { id: string }) => i.id === 'fibre_coverage');
    for (const layer of [...TERRITORY_LAYERS, 'places']) {
      const query = layer === 'places' ? '' : `?indicators=fibre_coverage&vintage=${fibre.vintages.at(-1)}`;
      const { status, body } = await getJson(running, `/tiles/${layer}.json${query}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ tilejson: '3.0.0', minzoom: 0, maxzoom: 14 });
      expect(body.tiles).toEqual([`${new URL(running.url).origin}/tiles/${layer}/{z}/{x}/{y}.mvt${query}`]);
      expect(body.bounds).toHaveLength(4);
      // the territories' extent is the demo's; the places lie inside it
      const [inner, outer] = layer === 'places' ? [body.bounds, bbox] : [bbox, body.bounds];
      expect(outer[0]).toBeLessThanOrEqual(inner[0] + 1e-9);
      expect(outer[1]).toBeLessThanOrEqual(inner[1] + 1e-9);
      expect(outer[2]).toBeGreaterThanOrEqual(inner[2] - 1e-9);
      expect(outer[3]).toBeGreaterThanOrEqual(inner[3] - 1e-9);
      expect(body.attribution).toMatch(/Synthetic demonstration data/);
      expect(body.vector_layers).toHaveLength(1);
      const [vectorLayer] = body.vector_layers;
      expect(vectorLayer.id).toBe(layer);
      expect(vectorLayer.fields).toEqual(
        layer === 'places' ? { id: 'Number', name: 'String', kind: 'String' } : { code: 'String', name: 'String', partial: 'Boolean', fibre_coverage: 'Number' },
      );
      // the template answers
      const tileUrl = body.tiles[0].replace('{z}', cover.single.z).replace('{x}', cover.single.x).replace('{y}', cover.single.y);
      expect((await fetch(tileUrl)).status).toBe(200);
    }
  });

  it('is read by GDAL (ogrinfo, MVT driver)', async () => {
    let ogrinfo = true;
    try {
      execFileSync('ogrinfo', ['--version']);
    } catch {
      ogrinfo = false;
    }
    if (!ogrinfo) {
      if (process.env.CI) throw new Error('ogrinfo (gdal-bin) is required under CI to check the tiles');
      console.warn('skipping the GDAL check: ogrinfo not installed');
      return;
    }
    const { z, x, y } = cover.single;
    const answer = await get(running, `/tiles/commune/${z}/${x}/${y}.mvt?indicators=fibre_coverage`);
    const decoded = decode(answer.body, 'commune');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-tiles-'));
    try {
      // the driver reads z/x/y from a z/x/y.pbf path and georeferences the tile with them
      const file = path.join(dir, String(z), String(x), `${y}.pbf`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, answer.body);
      const out = execFileSync('ogrinfo', ['-ro', '-al', '-so', `MVT:${file}`], { encoding: 'utf8' });
      expect(out).toMatch(/Layer name: commune/);
      expect(out).toMatch(new RegExp(`Feature Count: ${decoded.length}\\b`));
      expect(out).toMatch(/Geometry: Multi Polygon|Geometry: Polygon/);
      for (const field of ['code', 'name', 'partial', 'fibre_coverage']) expect(out).toMatch(new RegExp(`^${field}: `, 'm'));
      // georeferenced: the layer extent is in EPSG:3857 metres around the demo territory
      const extent = /Extent: \((-?[\d.]+), (-?[\d.]+)\) - \((-?[\d.]+), (-?[\d.]+)\)/.exec(out);
      expect(extent).not.toBeNull();
      const lon = (Number(extent![1]) / 6378137) * (180 / Math.PI);
      expect(lon).toBeGreaterThan(bbox[0] - 0.1);
      expect(lon).toBeLessThan(bbox[2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // last: it changes the data
  it('serves the new values after an import (the data version empties the cache)', async () => {
    const latest = (await getJson(running, '/api/indicators')).body.find((i: { id: string }) => i.id === 'fibre_coverage').vintages.at(-1);
    const url = `/tiles/commune/${at(cover.single)}.mvt?indicators=fibre_coverage&vintage=${latest}`;
    const before = await get(running, url);
    expect(before.status).toBe(200);
    const codes = decode(before.body, 'commune').map((f) => String(f.properties.code)).slice(0, 5);
    // and a shallower tile, of the zooms cut beforehand (embedded: their values read once per data version)
    const lowZoom = Math.min(cover.fit, PRECUT_MAX_ZOOM) - 1;
    const low = `/tiles/commune/${lowZoom}/${tileOf(bbox[0], bbox[3], lowZoom).x}/${tileOf(bbox[0], bbox[3], lowZoom).y}.mvt?indicators=fibre_coverage&vintage=${latest}`;
    const lowBefore = await get(running, low);
    expect(lowBefore.status).toBe(200);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-tiles-'));
    try {
      const file = path.join(dir, 'fibre.csv');
      fs.writeFileSync(file, ['code,raccordables,locaux', ...codes.map((c, i) => `${c},${i + 1},8`)].join('\n'));
      await importIndicator(running.database, file, {
        id: 'fibre_coverage',
        level: 'commune',
        codeColumn: 'code',
        numeratorColumn: 'raccordables',
        denominatorColumn: 'locaux',
        vintage: latest,
        theme: 'infrastructure',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // the server reads data_version at most once a second
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await get(running, url, { 'if-none-match': before.headers.etag! });
    expect(after.status).toBe(200);
    expect(after.headers['x-tile-cache']).toBe('miss');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const values = new Map(decode(after.body, 'commune').map((f) => [String(f.properties.code), f.properties.fibre_coverage]));
    codes.forEach((code, i) => expect(values.get(code), code).toBe((i + 1) / 8));
    const lowAfter = await get(running, low);
    expect(lowAfter.headers['x-tile-cache']).toBe('miss');
    const lowValues = new Map(decode(lowAfter.body, 'commune').map((f) => [String(f.properties.code), f.properties.fibre_coverage]));
    codes.forEach((code, i) => expect(lowValues.get(code), code).toBe((i + 1) / 8));
    expect(lowAfter.body.equals(lowBefore.body)).toBe(false);
  });
});

describe.each(backends())('generalised outlines (%s)', (backend) => {
  it('are rebuilt when an outline changes, and only then', async () => {
    const database = await openDemoDatabase(backend);
    try {
      const { db } = database;
      const state = async () =>
        (
          await sql<{ xmin: string; x: number }>`SELECT g.xmin::text AS xmin, ST_XMin(g.geom) AS x FROM tile_geometry g JOIN territory t ON t.id = g.territory_id
            WHERE t.code = 'X0001' AND g.band = 5`.execute(db)
        ).rows[0]!;
      const precut = async () => (await sql<{ features: Uint8Array }>`SELECT features FROM tile_precut WHERE level = 'commune' AND z = 6 ORDER BY x, y`.execute(db)).rows.map((r) => Buffer.from(r.features).toString('base64'));
      const before = await state();
      const precutBefore = await precut();
      // values or points changed, outlines not: nothing rewritten
      await db.transaction().execute((trx) => tileGeometryStep.run(trx, ['fibre_coverage']));
      await db.transaction().execute((trx) => tileGeometryStep.run(trx, null));
      expect(await state()).toEqual(before);
      expect(await precut()).toEqual(precutBefore);
      // an outline moves 0.01° east: its generalised outlines follow (Web Mercator x = R × longitude)
      await sql`UPDATE territory SET geom = ST_Translate(geom, 0.01, 0) WHERE code = 'X0001'`.execute(db);
      await db.transaction().execute((trx) => tileGeometryStep.run(trx, null));
      const after = await state();
      expect(after.xmin).not.toBe(before.xmin);
      // so do the low-zoom tiles cut beforehand: their geometry, with the territory's
      expect(await precut()).not.toEqual(precutBefore);
      expect(after.x - before.x).toBeCloseTo((0.01 * Math.PI * 6378137) / 180, -1);
    } finally {
      await database.close();
    }
  });
});

describe.each(backends())('low-zoom tiles cut beforehand (%s)', (backend) => {
  /** Each feature of a tile as comparable text (properties, type, geometry), sorted. */
  const decoded = (body: Buffer, layer: string) => decode(body, layer).map((f) => JSON.stringify([f.properties, f.type, f.loadGeometry()])).sort();

  it('equal the tiles cut afresh, with the names and values of now', async () => {
    const database = await openDemoDatabase(backend);
    try {
      const { db } = database;
      const { rows: stored } = await sql<{ level: string; z: number; x: number; y: number; n: number }>`
        SELECT level, z, x, y, cardinality(territory_ids) AS n FROM tile_precut ORDER BY level, z, x, y`.execute(db);
      // every level with outlines, every zoom from 0 to PRECUT_MAX_ZOOM
      const { rows: levels } = await sql<{ level: string }>`SELECT DISTINCT level FROM territory WHERE geom IS NOT NULL ORDER BY level`.execute(db);
      expect([...new Set(stored.map((t) => t.level))].sort()).toEqual(levels.map((l) => l.level));
      expect([...new Set(stored.map((t) => t.z))].sort((a, b) => a - b)).toEqual(Array.from({ length: PRECUT_MAX_ZOOM + 1 }, (_, z) => z));
      const { rows: vintages } = await sql<{ id: string; vintages: string[] }>`
        SELECT indicator_id AS id, array_agg(DISTINCT vintage ORDER BY vintage) AS vintages FROM indicator_value
        WHERE indicator_id IN ('fibre_coverage', 'ftth_takeup') GROUP BY indicator_id ORDER BY 1`.execute(db);
      const [fibre, ftth] = vintages;
      const sets = [[], [{ id: 'fibre_coverage', vintage: fibre!.vintages[0]! }], [fibre, ftth].map((i) => ({ id: i!.id, vintage: i!.vintages.at(-1)! }))];
      // a renamed territory shows its new name: names are read per request, not stored with the geometry
      await sql`UPDATE territory SET name = 'Renommée' WHERE code = 'X0001'`.execute(db);
      let features = 0;
      for (const tile of stored) {
        for (const indicators of sets) {
          const request = { layer: tile.level, z: tile.z, x: tile.x, y: tile.y, indicators };
          // cut afresh by the same encoder (on the server, ST_AsMVT drops sub-pixel outlines that geojson-vt keeps)
          const [precut, fresh] = [await renderTile(database, request), await renderTile(database, request, { precut: false, javascript: true })];
          expect(decoded(precut, tile.level), `${tile.level} ${tile.z}/${tile.x}/${tile.y}`).toEqual(decoded(fresh, tile.level));
          features += decoded(precut, tile.level).length;
        }
      }
      expect(features).toBeGreaterThan(300);
      const { rows: holding } = await sql<{ z: number; x: number; y: number; n: number }>`
        SELECT z, x, y, cardinality(territory_ids) AS n FROM tile_precut
        WHERE level = 'commune' AND z = ${PRECUT_MAX_ZOOM} AND (SELECT id FROM territory WHERE code = 'X0001') = ANY(territory_ids)`.execute(db);
      const renamed = holding[0]!;
      const names = decode(await renderTile(database, { layer: 'commune', ...renamed, indicators: [] }), 'commune').map((f) => f.properties.name);
      expect(names).toContain('Renommée');
      // the stored geometry is what a request copies: emptied, the tile is empty (not cut afresh)
      await sql`UPDATE tile_precut SET territory_ids = '{}', features = ''::bytea WHERE level = 'commune' AND z = ${renamed.z} AND x = ${renamed.x} AND y = ${renamed.y}`.execute(db);
      expect((await renderTile(database, { layer: 'commune', ...renamed, indicators: [] })).length).toBe(0);
      // not stored (a database migrated since its last outline import): cut afresh
      await sql`DELETE FROM tile_precut`.execute(db);
      expect(decoded(await renderTile(database, { layer: 'commune', ...renamed, indicators: [] }, { javascript: true }), 'commune')).toHaveLength(renamed.n);
    } finally {
      await database.close();
    }
  });
});

describe.runIf(backends().includes('postgis'))('server and embedded tiles agree', () => {
  const running: Partial<Record<'embedded' | 'postgis', Running>> = {};
  beforeAll(async () => {
    [running.embedded, running.postgis] = await Promise.all([startDemoServer('embedded'), startDemoServer('postgis')]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(running).map((r) => r?.close()));
  });

  it('same features, same properties, nearly the same geometry, at every layer and several zooms', async () => {
    const embedded = running.embedded!;
    const server = running.postgis!;
    const cover = coverage((await getJson(embedded, '/api/meta')).body.bbox);
    let compared = 0;
    for (const layer of [...TERRITORY_LAYERS, 'places']) {
      const query = layer === 'places' ? '' : '?indicators=fibre_coverage,ftth_takeup';
      // the embedded backend answers z ≤ PRECUT_MAX_ZOOM from geometry cut beforehand, deeper zooms afresh
      for (const z of [...new Set([PRECUT_MAX_ZOOM - 1, PRECUT_MAX_ZOOM, cover.fit, cover.fit + 1, cover.fit + 3, cover.fit + 5])]) {
        // at the deepest zooms, the tiles along the box's diagonal (a full cover is hundreds of tiles)
        const tiles = cover.tiles(z).filter((t, i, all) => all.length < 40 || i % Math.ceil(all.length / 30) === 0);
        for (const t of tiles) {
          const url = `/tiles/${layer}/${at(t)}.mvt${query}`;
          const [a, b] = await Promise.all([features(embedded, url, layer), features(server, url, layer)]);
          const byCode = (list: VectorTileFeature[]) => new Map(list.map((f) => [String(f.properties.code ?? f.properties.id), f]));
          const [ea, sb] = [byCode(a), byCode(b)];
          expect([...ea.keys()].sort(), url).toEqual([...sb.keys()].sort());
          for (const [code, fe] of ea) {
            const fs_ = sb.get(code)!;
            expect(fe.properties, `${url} ${code}`).toEqual(fs_.properties);
            expect(fe.type, `${url} ${code}`).toBe(fs_.type);
            // Outlines agree within the rounding to tile units, and twice the band's tolerance (GEOS versions may
            // keep other vertices in ST_SimplifyPreserveTopology). Where a polygon is cut at the buffer's edge, the
            // cut point slides along edges nearly parallel to it (the server cuts after rounding, geojson-vt
            // before): there only the areas compare, within that distance along the perimeter.
            const tolerance = 2 + (2 * bandTolerance(bandOf(t.z))) / (WORLD_METRES / 2 ** t.z / 4096);
            const [ba, bb] = [tileBbox(fe), tileBbox(fs_)];
            const cut = [...ba, ...bb].some((v) => v <= -64 || v >= 4096 + 64);
            if (!cut) ba.forEach((v, i) => expect(Math.abs(v - bb[i]!), `${url} ${code} bbox`).toBeLessThanOrEqual(tolerance));
            const [aa, ab] = [measure(fe), measure(fs_)];
            expect(Math.abs(aa.area - ab.area), `${url} ${code} area`).toBeLessThanOrEqual(tolerance * aa.perimeter);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(300);
  });
});
