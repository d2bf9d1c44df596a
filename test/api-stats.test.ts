import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../server/main.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { backends } from './helpers/db.ts';
import { getJson, startDemoServer } from './helpers/server.ts';

const demo = generateDemo();
const latest = demo.quarters.at(-1)!;

describe.each(backends())('GET /api/stats filters and metric fields on %s', (backend) => {
  let app: Running;
  beforeAll(async () => {
    app = await startDemoServer(backend);
  });
  afterAll(() => app?.close());

  it('codes= keeps the listed territories only', async () => {
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&codes=X0003,X0001,X9999`);
    expect(body.total).toBe(2);
    expect(body.rows.map((r: any) => r.code)).toEqual(['X0001', 'X0003']);
  });

  it('bbox= keeps the territories whose outline intersects the box, as PostGIS says', async () => {
    const all = await getJson(app, `/api/geometries/commune`);
    // a box around the first commune's outline: it and its neighbours intersect it, far communes do not
    const first = all.body.features[0];
    const points = first.geometry.coordinates.flat(2) as [number, number][];
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    const { status, body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&bbox=${box.join(',')}`);
    expect(status).toBe(200);
    const codes = body.rows.map((r: any) => r.code);
    expect(codes).toContain(first.properties.code);
    expect(codes.length).toBeGreaterThan(1);
    expect(codes.length).toBeLessThan(30);
    // every returned commune has a vertex near the box, every other one is further away than the box is wide
    const inBox = (p: [number, number]) => p[0] >= box[0]! && p[0] <= box[2]! && p[1] >= box[1]! && p[1] <= box[3]!;
    const outside = all.body.features.filter((f: any) => !codes.includes(f.properties.code));
    for (const f of outside) expect((f.geometry.coordinates.flat(2) as [number, number][]).some(inBox)).toBe(false);
    // an empty area of the world
    const none = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&bbox=-60,-60,-59,-59`);
    expect(none.body).toMatchObject({ total: 0, rows: [] });
  });

  it('combines within=, codes=, sort and paging', async () => {
    const members = demo.communes.filter((c) => c.epci === demo.truth.splitEpci).map((c) => c.code);
    const other = demo.communes.find((c) => c.epci !== demo.truth.splitEpci)!.code;
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&within=epci:${demo.truth.splitEpci}&codes=${[members[0], members[1], other].join(',')}&sort=-code&limit=1`);
    expect(body.total).toBe(2);
    expect(body.rows.map((r: any) => r.code)).toEqual([[members[0], members[1]].sort().at(-1)]);
  });

  it('EPCI rows carry the disparity of their communes, as /api/multispeed serves it', async () => {
    const stats = await getJson(app, `/api/stats/epci?indicator=fibre_coverage&vintage=${latest}`);
    const multispeed = await getJson(app, `/api/multispeed?level=epci&indicator=fibre_coverage&vintage=${latest}`);
    expect(stats.body.rows).toHaveLength(demo.epcis.length);
    for (const row of stats.body.rows) {
      const ranked = multispeed.body.rows.find((r: any) => r.code === row.code);
      for (const field of ['gini', 'theil', 'cv', 'interdecile_ratio', 'share_population_below', 'multispeed']) expect(row[field]).toBe(ranked[field]);
    }
    expect(stats.body.rows.find((r: any) => r.code === demo.truth.splitEpci).multispeed).toBe(true);
    const communes = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&limit=1`);
    expect(communes.body.rows[0]).not.toHaveProperty('gini');
  });

  it('rows carry access to mediation as /api/access serves it: distance, and shares beyond 10/20 km above communes', async () => {
    for (const level of ['commune', 'epci']) {
      const stats = await getJson(app, `/api/stats/${level}?indicator=fibre_coverage`);
      const access = await getJson(app, `/api/access/${level}`);
      for (const row of stats.body.rows) {
        const a = access.body.rows.find((r: any) => r.code === row.code);
        expect(row.distance_m).toBe(a.distance_m);
        if (level === 'epci') {
          expect(row.share_population_beyond_10km).toBe(a.share_population_beyond_10km);
          expect(row.share_population_beyond_20km).toBe(a.share_population_beyond_20km);
        } else {
          expect(row).not.toHaveProperty('share_population_beyond_10km');
        }
      }
    }
  });

  it('y= adds the bivariate fields, identical to /api/bivariate for the same territories', async () => {
    const stats = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=2024-Q4&y=ftth_takeup`);
    const bivariate = await getJson(app, `/api/bivariate/commune?x=fibre_coverage&y=ftth_takeup&vintage=2024-Q4`);
    expect(stats.body.y).toBe('ftth_takeup');
    expect(bivariate.body.rows.length).toBeGreaterThan(100);
    for (const b of bivariate.body.rows) {
      const row = stats.body.rows.find((r: any) => r.code === b.code);
      expect(row).toMatchObject({ value: b.x, y: b.y, y_vintage: b.y_vintage, x_class: b.x_class, y_class: b.y_class, bivariate_class: b.bivariate_class, typology: b.typology, gap: b.gap });
    }
    // within= classes among the territories of the EPCI, as /api/bivariate does
    const epci = demo.truth.splitEpci;
    const inside = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=2024-Q4&y=ftth_takeup&within=epci:${epci}`);
    const insideBivariate = await getJson(app, `/api/bivariate/commune?x=fibre_coverage&y=ftth_takeup&vintage=2024-Q4&within=epci:${epci}`);
    for (const b of insideBivariate.body.rows) expect(inside.body.rows.find((r: any) => r.code === b.code).bivariate_class).toBe(b.bivariate_class);
    // sortable by the added fields
    const sorted = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&y=ftth_takeup&sort=-gap&limit=3`);
    const gaps = sorted.body.rows.map((r: any) => r.gap);
    expect(gaps).toEqual([...gaps].sort((a, b) => b - a));
  });

  it('fields= sends the fields asked for (and code), with the values of the full answer; sorting reads them', async () => {
    for (const level of ['commune', 'epci']) {
      const full = await getJson(app, `/api/stats/${level}?indicator=fibre_coverage&vintage=${latest}`);
      const fields = ['name', 'value', 'numerator', 'partial', 'lisa_class', 'gini', 'distance_m'];
      const picked = await getJson(app, `/api/stats/${level}?indicator=fibre_coverage&vintage=${latest}&fields=${fields.join(',')}`);
      expect(picked.status).toBe(200);
      expect(picked.body).toMatchObject({ level, indicator: 'fibre_coverage', vintage: latest, total: full.body.total });
      // a field the level does not carry (LISA above communes, disparity at communes) is left out, not null
      const expected = ['code', ...fields.filter((f) => f in full.body.rows[0])].sort();
      expect(expected.length).toBeGreaterThan(5);
      for (const [i, row] of picked.body.rows.entries()) {
        expect(Object.keys(row).sort()).toEqual(expected);
        expect(row).toEqual(Object.fromEntries(expected.map((f) => [f, full.body.rows[i][f]])));
      }
    }
    // the metrics not asked for are not read: a value-only answer still has every value
    const values = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&fields=value&sort=-value&limit=5`);
    expect(values.body.rows.map((r: any) => Object.keys(r).sort())).toEqual(Array(5).fill(['code', 'value']));
    const top = (await getJson(app, `/api/stats/commune?indicator=fibre_coverage&sort=-value&limit=5`)).body.rows;
    expect(values.body.rows).toEqual(top.map((r: any) => ({ code: r.code, value: r.value })));
    // sorting by a field that is not sent is refused, naming the fields that are
    const refused = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&fields=value&sort=name`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ parameter: 'sort' });
  });

  it.each([
    ['/api/stats/commune?indicator=fibre_coverage&fields=value,nope', 400, 'fields'],
    ['/api/stats/commune?indicator=fibre_coverage&fields=,', 400, 'fields'],
    ['/api/stats/commune?indicator=fibre_coverage&fields=value&fields=name', 400, 'fields'],
    ['/api/stats/commune?indicator=fibre_coverage&bbox=1,2,3', 400, 'bbox'],
    ['/api/stats/commune?indicator=fibre_coverage&bbox=10,50,5,40', 400, 'bbox'],
    ['/api/stats/commune?indicator=fibre_coverage&bbox=a,b,c,d', 400, 'bbox'],
    ['/api/stats/commune?indicator=fibre_coverage&codes=', 200, undefined],
    ['/api/stats/commune?indicator=fibre_coverage&codes=,,', 400, 'codes'],
    ['/api/stats/commune?indicator=fibre_coverage&y=nope', 404, 'y'],
    ['/api/stats/commune?indicator=fibre_coverage&y=a&y=b', 400, 'y'],
  ])('answers %s with %i naming %s', async (path, status, parameter) => {
    const response = await getJson(app, path);
    expect(response.status).toBe(status);
    if (parameter) expect(response.body).toMatchObject({ status, parameter });
  });
  // last: it changes the database
  it('replays an answer until the next import, with an ETag that revalidates to 304', async () => {
    const path = `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}&codes=X0001`;
    const first = await fetch(new URL(path, app.url), { headers: { 'accept-encoding': 'gzip' } });
    const firstBody = await first.json();
    expect(first.status).toBe(200);
    const again = await fetch(new URL(path, app.url), { headers: { 'accept-encoding': 'gzip' } });
    expect(again.headers.get('x-answer-cache')).toBe('hit');
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await again.json()).toEqual(firstBody);
    const revalidated = await fetch(new URL(path, app.url), { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(revalidated.status).toBe(304);

    // an import (the data version bumps) retires the answer: the new value is served within the version's TTL
    const { db } = app.database;
    await sql`
      UPDATE indicator_value SET value = 0.123, numerator = 123, denominator = 1000
      WHERE indicator_id = 'fibre_coverage' AND vintage = ${latest}
        AND territory_id = (SELECT id FROM territory WHERE level = 'commune' AND code = 'X0001')`.execute(db);
    await sql`UPDATE data_version SET version = version + 1`.execute(db);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await fetch(new URL(path, app.url));
    expect(after.headers.get('x-answer-cache')).toBe('miss');
    expect(after.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect((await after.json()).rows[0]).toMatchObject({ code: 'X0001', value: 0.123, numerator: 123, denominator: 1000 });
    expect((await fetch(new URL(path, app.url), { headers: { 'if-none-match': first.headers.get('etag')! } })).status).toBe(200);
  });
});
