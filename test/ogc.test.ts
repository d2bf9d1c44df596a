import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../server/demo/generate.ts';
import type { Running } from '../server/main.ts';
import { backends } from './helpers/db.ts';
import { startDemoServer } from './helpers/server.ts';

const run = promisify(execFile);
const demo = generateDemo();
const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
const EPSG2154 = 'http://www.opengis.net/def/crs/EPSG/0/2154';
const EPSG3857 = 'http://www.opengis.net/def/crs/EPSG/0/3857';
const LEVELS = ['commune', 'epci', 'departement', 'region'];

/** ogrinfo (gdal-bin, driver OAPIF = what QGIS's GDAL reads): under CI its absence fails the test. */
async function ogrinfo(...args: string[]): Promise<string | null> {
  const installed = await run('ogrinfo', ['--version']).then(
    () => true,
    () => false,
  );
  if (!installed) {
    if (process.env.CI) throw new Error('ogrinfo (gdal-bin) is required under CI to read the OGC API with GDAL');
    console.warn('skipping a GDAL check: ogrinfo is not installed');
    return null;
  }
  // asynchronous: the server answering GDAL runs in this process
  const { stdout, stderr } = await run('ogrinfo', ['-ro', ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  expect(stderr.replace(/^INFO:.*$/gm, '').trim()).toBe('');
  return stdout;
}

describe.each(backends())('OGC API – Features on %s', (backend) => {
  let app: Running;
  let root: string;
  const get = async (url: string) => {
    const response = await fetch(new URL(url, app.url));
    return { status: response.status, type: response.headers.get('content-type'), headers: response.headers, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    app = await startDemoServer(backend);
    root = new URL('/ogc', app.url).toString();
  });
  afterAll(() => app?.close());

  it('landing page links the API definition, conformance and collections with their media types', async () => {
    const { status, type, body } = await get('/ogc');
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/json/);
    expect(body.title).toMatch(/terrinum/);
    const link = (rel: string) => body.links.find((l: any) => l.rel === rel);
    expect(link('self')).toMatchObject({ href: root, type: 'application/json' });
    expect(link('service-desc')).toMatchObject({ href: new URL('/api/openapi.json', app.url).toString(), type: expect.stringMatching(/^application\/vnd\.oai\.openapi\+json;version=3\.\d$/) });
    expect(link('conformance')).toMatchObject({ href: `${root}/conformance`, type: 'application/json' });
    expect(link('data')).toMatchObject({ href: `${root}/collections`, type: 'application/json' });
  });

  it('conforms to Core, GeoJSON and CRS by reference', async () => {
    const { body } = await get('/ogc/conformance');
    expect(body.conformsTo).toEqual(
      expect.arrayContaining([
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
        'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
      ]),
    );
  });

  it('lists one collection per level with extents, CRS list, storage CRS, items link and indicator properties', async () => {
    const { body } = await get('/ogc/collections');
    expect(body.links).toEqual([expect.objectContaining({ rel: 'self', type: 'application/json', href: `${root}/collections` })]);
    expect(body.collections.map((c: any) => c.id)).toEqual(LEVELS);
    const { rows } = await sql<{ x0: number; y0: number; x1: number; y1: number }>`
      SELECT ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1 FROM (SELECT ST_Extent(geom)::geometry e FROM territory WHERE level = 'commune') s`.execute(app.database.db);
    for (const collection of body.collections) {
      expect(collection).toMatchObject({ itemType: 'feature', crs: [CRS84, EPSG2154, EPSG3857], storageCrs: CRS84 });
      expect(typeof collection.title).toBe('string');
      expect(collection.extent.spatial.crs).toBe(CRS84);
      expect(collection.extent.temporal.interval[0]).toEqual([`${demo.quarters[0]!.slice(0, 4)}-01-01T00:00:00Z`, '2024-12-31T23:59:59Z']);
      expect(collection.links).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ rel: 'self', type: 'application/json', href: `${root}/collections/${collection.id}` }),
          expect.objectContaining({ rel: 'items', type: 'application/geo+json', href: `${root}/collections/${collection.id}/items` }),
        ]),
      );
      expect(collection.indicators.map((i: any) => i.id)).toContain('fibre_coverage');
      expect(collection.indicators.find((i: any) => i.id === 'fibre_coverage')).toMatchObject({ vintage: demo.quarters.at(-1), properties: { value: 'fibre_coverage' } });
    }
    const [bbox] = body.collections[0].extent.spatial.bbox;
    expect(bbox).toHaveLength(4);
    expect(bbox[0]).toBeCloseTo(rows[0]!.x0, 6);
    expect(bbox[3]).toBeCloseTo(rows[0]!.y1, 6);
    const one = await get('/ogc/collections/epci');
    expect(one.body).toEqual(body.collections[1]);
    expect((await get('/ogc/collections/nope')).status).toBe(404);
  });

  it('pages items with numberMatched, numberReturned, timeStamp and next/prev links; values are /api/stats values', async () => {
    const first = await get('/ogc/collections/commune/items');
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/geo+json');
    expect(first.headers.get('content-crs')).toBe(`<${CRS84}>`);
    expect(first.body).toMatchObject({ type: 'FeatureCollection', numberMatched: demo.communes.length, numberReturned: 10 });
    expect(Date.now() - Date.parse(first.body.timeStamp)).toBeLessThan(60_000);
    expect(first.body.features).toHaveLength(10);
    const links = (page: any, rel: string) => page.links.filter((l: any) => l.rel === rel);
    expect(links(first.body, 'self')).toEqual([expect.objectContaining({ type: 'application/geo+json' })]);
    expect(links(first.body, 'prev')).toEqual([]);
    expect(links(first.body, 'next')[0]).toMatchObject({ type: 'application/geo+json', href: expect.stringContaining('offset=10') });

    // follow next links to the end
    const seen: any[] = [];
    let url: string | undefined = '/ogc/collections/commune/items?limit=70&indicators=fibre_coverage';
    let pages = 0;
    while (url) {
      const page = await get(url);
      expect(page.body.numberReturned).toBe(page.body.features.length);
      seen.push(...page.body.features);
      url = links(page.body, 'next')[0]?.href;
      if (pages++ > 0) expect(links(page.body, 'prev')).toHaveLength(1);
    }
    expect(pages).toBe(Math.ceil(demo.communes.length / 70));
    expect(new Set(seen.map((f) => f.id)).size).toBe(demo.communes.length);
    const stats = (await get(`/api/stats/commune?indicator=fibre_coverage&vintage=${demo.quarters.at(-1)}`)).body.rows;
    for (const feature of seen) {
      const expected = stats.find((r: any) => r.code === feature.id);
      expect(feature.properties).toEqual({
        code: feature.id,
        name: expected.name,
        fibre_coverage: expected.value,
        fibre_coverage_numerator: expected.numerator,
        fibre_coverage_denominator: expected.denominator,
      });
    }
    // a limit above the maximum is the maximum, not an error
    const big = await get('/ogc/collections/commune/items?limit=50000&offset=290');
    expect(big.status).toBe(200);
    expect(big.body.numberReturned).toBe(10);
    expect(links(big.body, 'prev')[0].href).toContain('limit=10000');
  });

  it('serves EPSG:2154 and EPSG:3857 coordinates (easting, northing) with Content-Crs, and bbox in any listed CRS', async () => {
    const code = demo.communes[42]!.code;
    const lambert = await get(`/ogc/collections/commune/items?code=${code}&crs=${encodeURIComponent(EPSG2154)}`);
    expect(lambert.headers.get('content-crs')).toBe(`<${EPSG2154}>`);
    expect(lambert.body.features).toHaveLength(1);
    const { rows } = await sql<{ x: number; y: number; x0: number; y0: number; x1: number; y1: number }>`
      SELECT ST_XMin(g) x0, ST_YMin(g) y0, ST_XMax(g) x1, ST_YMax(g) y1
      FROM (SELECT ST_Transform(geom, 2154) g FROM territory WHERE level = 'commune' AND code = ${code}) s`.execute(app.database.db);
    const xs = lambert.body.features[0].geometry.coordinates.flat(2).map((p: number[]) => p[0]);
    const ys = lambert.body.features[0].geometry.coordinates.flat(2).map((p: number[]) => p[1]);
    expect(Math.min(...xs)).toBeCloseTo(rows[0]!.x0, 1);
    expect(Math.max(...ys)).toBeCloseTo(rows[0]!.y1, 1);
    const mercator = await get(`/ogc/collections/commune/items/${code}?crs=${encodeURIComponent(EPSG3857)}`);
    expect(mercator.headers.get('content-crs')).toBe(`<${EPSG3857}>`);
    expect(mercator.body.geometry.coordinates[0][0][0][1]).toBeGreaterThan(5e6);

    // a Lambert-93 box inside that commune finds it; so does the same area in CRS84
    const { x0, y0, x1, y1 } = rows[0]!;
    const inner = [x0 + (x1 - x0) * 0.45, y0 + (y1 - y0) * 0.45, x0 + (x1 - x0) * 0.55, y0 + (y1 - y0) * 0.55];
    const byLambert = await get(`/ogc/collections/commune/items?bbox=${inner.join(',')}&bbox-crs=${encodeURIComponent(EPSG2154)}&limit=100`);
    expect(byLambert.status).toBe(200);
    const { rows: expected } = await sql<{ code: string }>`
      SELECT code FROM territory WHERE level = 'commune'
        AND ST_Intersects(ST_Transform(geom, 2154), ST_MakeEnvelope(${inner[0]}, ${inner[1]}, ${inner[2]}, ${inner[3]}, 2154)) ORDER BY code`.execute(app.database.db);
    expect(byLambert.body.features.map((f: any) => f.id)).toEqual(expected.map((r) => r.code));
    expect(byLambert.body.numberMatched).toBe(expected.length);
  });

  it('filters by property (code, name), reads one feature by id, and the values of a past date (datetime)', async () => {
    const commune = demo.communes[7]!;
    const byName = await get(`/ogc/collections/commune/items?name=${encodeURIComponent(commune.name)}`);
    expect(byName.body.features.map((f: any) => f.id)).toEqual(demo.communes.filter((c) => c.name === commune.name).map((c) => c.code));
    const epci = await get(`/ogc/collections/epci/items/${demo.epcis[2]!.code}`);
    expect(epci.type).toBe('application/geo+json');
    expect(epci.body).toMatchObject({ type: 'Feature', id: demo.epcis[2]!.code, properties: { code: demo.epcis[2]!.code, name: demo.epcis[2]!.name } });
    expect(epci.body.links).toEqual(
      expect.arrayContaining([expect.objectContaining({ rel: 'self', type: 'application/geo+json' }), expect.objectContaining({ rel: 'collection', type: 'application/json' })]),
    );
    const missing = await get('/ogc/collections/commune/items/NOPE');
    expect(missing).toMatchObject({ status: 404, type: expect.stringMatching(/^application\/problem\+json/), body: { parameter: 'featureId' } });

    // 2023-06-30 is the end of 2023-Q2: fibre values of that quarter
    const quarter = '2023-Q2';
    expect(demo.quarters).toContain(quarter);
    const past = await get(`/ogc/collections/commune/items/${commune.code}?datetime=2023-06-30&indicators=fibre_coverage`);
    const stats = (await get(`/api/stats/commune?indicator=fibre_coverage&vintage=${quarter}`)).body.rows.find((r: any) => r.code === commune.code);
    expect(past.body.properties.fibre_coverage).toBe(stats.value);
    expect(past.body.properties.fibre_coverage_numerator).toBe(stats.numerator);
    // the vintage read is said (foreign member), on one feature and on a page
    expect(past.body.terrinum).toEqual({ indicators: [{ id: 'fibre_coverage', vintage: quarter }] });
    const page = await get(`/ogc/collections/commune/items?datetime=2023-06-30&indicators=fibre_coverage&limit=1`);
    expect(page.body.terrinum).toEqual({ indicators: [{ id: 'fibre_coverage', vintage: quarter }] });
  });

  it('refuses unknown and malformed parameters with a 400 naming them', async () => {
    const cases: [string, number, string][] = [
      ['/ogc/collections/commune/items?foo=1', 400, 'foo'],
      ['/ogc/collections/commune/items?limit=0', 400, 'limit'],
      ['/ogc/collections/commune/items?limit=ten', 400, 'limit'],
      ['/ogc/collections/commune/items?offset=-1', 400, 'offset'],
      ['/ogc/collections/commune/items?bbox=1,2,3', 400, 'bbox'],
      ['/ogc/collections/commune/items?bbox=700000,6600000,710000,6610000', 400, 'bbox'],
      ['/ogc/collections/commune/items?bbox-crs=EPSG:4326', 400, 'bbox-crs'],
      ['/ogc/collections/commune/items?crs=http://www.opengis.net/def/crs/EPSG/0/4326', 400, 'crs'],
      ['/ogc/collections/commune/items?datetime=yesterday', 400, 'datetime'],
      ['/ogc/collections/commune/items?datetime=2018-13-45', 400, 'datetime'],
      ['/ogc/collections/commune/items?datetime=2023-02-30', 400, 'datetime'],
      ['/ogc/collections/commune/items?datetime=1990-01-01', 404, 'datetime'],
      ['/ogc/collections/commune/items?vintage=2024&datetime=2024-12-31', 400, 'datetime'],
      ['/ogc/collections/commune/items?f=html', 400, 'f'],
      ['/ogc/collections/commune/items?indicators=nope', 404, 'indicators'],
      ['/ogc/collections/nope/items', 404, 'collectionId'],
      ['/ogc/collections/Bad!/items', 400, 'collectionId'],
      ['/ogc/collections?limit=1', 400, 'limit'],
      ['/ogc?bbox=1', 400, 'bbox'],
    ];
    for (const [url, status, parameter] of cases) {
      const answer = await get(url);
      expect({ url, status: answer.status, type: answer.type, parameter: answer.body.parameter }).toEqual({ url, status, type: 'application/problem+json; charset=utf-8', parameter });
    }
    // an absurd projected box is clipped, not an error
    const huge = await get(`/ogc/collections/region/items?bbox=-1e300,-1e300,1e300,1e300&bbox-crs=${encodeURIComponent(EPSG2154)}`);
    expect(huge.status).toBe(200);
    expect(huge.body.numberMatched).toBe(1);
  });

  it('is read by GDAL (OAPIF driver, as QGIS does): collections, feature count, bbox reads', async () => {
    const list = await ogrinfo(`OAPIF:${root}`);
    if (list === null) return;
    for (const [index, level] of LEVELS.entries()) expect(list).toMatch(new RegExp(`^${index + 1}: ${level} \\(title: .+\\) \\(Multi Polygon\\)$`, 'm'));
    const summary = (await ogrinfo('-so', `OAPIF:${root}`, 'commune'))!;
    expect(summary).toMatch(new RegExp(`Feature Count: ${demo.communes.length}\\b`));
    expect(summary).toMatch(/^fibre_coverage: Real/m);
    expect(summary).toMatch(/^fibre_coverage_numerator: Real/m);
    expect(summary).toMatch(/ID\["EPSG",4326\]/);

    // -spat: GDAL sends bbox=; the features it reads are those the API matches
    const { rows } = await sql<{ x: number; y: number }>`
      SELECT ST_X(c) x, ST_Y(c) y FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c FROM territory WHERE level = 'commune') s`.execute(app.database.db);
    const { x, y } = rows[0]!;
    const box = [x - 0.05, y - 0.04, x + 0.05, y + 0.04];
    const api = await get(`/ogc/collections/commune/items?bbox=${box.join(',')}&limit=1000`);
    expect(api.body.numberMatched).toBeGreaterThan(3);
    const spat = (await ogrinfo(`OAPIF:${root}`, 'commune', '-spat', ...box.map(String)))!;
    const codes = [...spat.matchAll(/^ {2}code \(String\) = (\S+)$/gm)].map((m) => m[1]).sort();
    expect(codes).toEqual(api.body.features.map((f: any) => f.id).sort());
    const code = api.body.features[0].id;
    const feature = api.body.features[0].properties;
    const block = spat.split('OGRFeature(commune)').find((b) => b.includes(`code (String) = ${code}\n`))!;
    expect(Number(/fibre_coverage \(Real\) = (\S+)/.exec(block)![1])).toBeCloseTo(feature.fibre_coverage, 12);
  });
});
