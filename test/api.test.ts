import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../server/main.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { backends } from './helpers/db.ts';
import { getJson, startDemoServer } from './helpers/server.ts';

const demo = generateDemo();
const latest = demo.quarters.at(-1)!;

describe.each(backends())('HTTP API on %s', (backend) => {
  let app: Running;
  beforeAll(async () => {
    app = await startDemoServer(backend);
  });
  afterAll(() => app?.close());

  it('GET /api/health names the backend and its PostGIS', async () => {
    const { status, body } = await getJson(app, '/api/health');
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', database: { backend, postgis: expect.stringMatching(/^3\.\d+\.\d+/) } });
  });

  it('GET /api/indicators lists fibre_coverage with its quarters, and the synthetic usage indicators', async () => {
    const { body } = await getJson<any[]>(app, '/api/indicators');
    const fibre = body.find((i) => i.id === 'fibre_coverage');
    expect(fibre).toMatchObject({ label: { fr: 'Couverture fibre (FttH)', en: 'Fibre coverage (FttH)' }, theme: 'infrastructure', unit: 'ratio', vintages: demo.quarters });
    for (const usage of demo.usageIndicators) {
      expect(body.find((i) => i.id === usage.id)).toMatchObject({ theme: usage.theme, synthetic: true, vintages: ['2023', '2024'] });
    }
  });

  it('GET /api/meta labels the demonstration territory as synthetic', async () => {
    const { body } = await getJson(app, '/api/meta');
    expect(body.synthetic).toBe(true);
    expect(body.attribution.join(' ')).toMatch(/synthétiques/);
    expect(body.bbox).toHaveLength(4);
  });

  it('each EPCI value equals the sum of its communes’ numerators over the sum of their denominators', async () => {
    const epci = await getJson(app, `/api/stats/epci?indicator=fibre_coverage&vintage=${latest}`);
    const communes = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    expect(epci.body).toMatchObject({ level: 'epci', indicator: 'fibre_coverage', vintage: latest, synthetic: true });
    expect(epci.body.rows).toHaveLength(demo.epcis.length);
    const byCode = new Map<string, any>(communes.body.rows.map((r: any) => [r.code, r]));
    for (const row of epci.body.rows) {
      const members = demo.communes.filter((c) => c.epci === row.code).map((c) => byCode.get(c.code));
      const numerator = members.reduce((s, m) => s + m.numerator, 0);
      const denominator = members.reduce((s, m) => s + m.denominator, 0);
      expect(row).toMatchObject({ numerator, denominator, communes: members.length, communes_expected: members.length, partial: false });
      expect(row.value).toBeCloseTo(numerator / denominator, 12);
    }
  });

  it('commune numerators are the generated deployments over logements + établissements', async () => {
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    const commune = demo.communes[17]!;
    const deployed = demo.deployments.find((d) => d.commune === commune.code && d.vintage === latest)!;
    expect(body.rows.find((r: any) => r.code === commune.code)).toMatchObject({
      name: commune.name,
      numerator: deployed.locauxRaccordables,
      denominator: commune.logements + commune.etablissements,
      communes: 1,
      communes_expected: 1,
      partial: false,
    });
  });

  it('keeps raw ratios above 100 % and caps only display_value; commune rows carry LISA and trend fields', async () => {
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    const above = body.rows.filter((r: any) => r.value > 1);
    expect(above.length).toBeGreaterThan(0);
    for (const row of above) expect(row.display_value).toBe(1);
    const below = body.rows.find((r: any) => r.value !== null && r.value < 1);
    expect(below.display_value).toBe(below.value);
    expect(Object.keys(body.rows[0])).toEqual(
      expect.arrayContaining(['vintage', 'display_value', 'lisa_i', 'lisa_p', 'lisa_class', 'trend_per_quarter', 'projected_full']),
    );
    const epci = await getJson(app, `/api/stats/epci?indicator=fibre_coverage&vintage=${latest}`);
    expect(epci.body.rows[0]).not.toHaveProperty('lisa_class');
  });

  it('serves the stored LISA classes: the planted low-usage cluster is a LL cluster', async () => {
    const { body } = await getJson(app, '/api/stats/commune?indicator=ftth_takeup&vintage=2024');
    const cluster = body.rows.filter((r: any) => demo.truth.usageGapCluster.includes(r.code));
    expect(cluster.length).toBe(demo.truth.usageGapCluster.length);
    expect(cluster.filter((r: any) => r.lisa_class === 'LL').length / cluster.length).toBeGreaterThanOrEqual(0.6);
    for (const row of body.rows) {
      if (row.value === null) expect(row.lisa_class).toBeNull();
      else expect(['HH', 'LL', 'HL', 'LH', 'ns', 'island']).toContain(row.lisa_class);
    }
  });

  it('ranks multi-speed EPCI: the planted split EPCI is first and flagged', async () => {
    const { status, body } = await getJson(app, `/api/multispeed?level=epci&indicator=fibre_coverage&vintage=${latest}`);
    expect(status).toBe(200);
    expect(body.rows).toHaveLength(demo.epcis.length);
    expect(body.rows[0]).toMatchObject({ code: demo.truth.splitEpci, rank: 1, multispeed: true, partial: false });
    expect(Object.keys(body.rows[0])).toEqual(
      expect.arrayContaining(['code', 'name', 'value', 'gini', 'theil', 'cv', 'interdecile_ratio', 'share_population_below', 'multispeed', 'rank', 'partial']),
    );
    expect(body.rows.filter((r: any) => r.multispeed).map((r: any) => r.code)).toEqual([demo.truth.splitEpci]);
    const epci = await getJson(app, `/api/stats/epci?indicator=fibre_coverage&vintage=${latest}`);
    expect(body.rows[0].value).toBe(epci.body.rows.find((r: any) => r.code === demo.truth.splitEpci).value);
  });

  it('classes coverage × usage: the planted cluster is fracture-usage, with both vintages returned', async () => {
    const { status, body } = await getJson(app, '/api/bivariate/commune?x=fibre_coverage&y=ftth_takeup&vintage=2024-Q4');
    expect(status).toBe(200);
    const cluster = body.rows.filter((r: any) => demo.truth.usageGapCluster.includes(r.code));
    expect(cluster.length).toBe(demo.truth.usageGapCluster.length);
    expect(cluster.every((r: any) => r.typology === 'fracture-usage')).toBe(true);
    expect(cluster[0]).toMatchObject({ x_vintage: '2024-Q4', y_vintage: '2024', bivariate_class: expect.stringMatching(/^[1-3]-[1-3]$/) });
    const bad = await getJson(app, '/api/bivariate/commune?x=fibre_coverage&y=ftth_takeup&thresholds=abc');
    expect(bad).toMatchObject({ status: 400, body: { parameter: 'thresholds' } });
    const unknown = await getJson(app, '/api/bivariate/commune?x=fibre_coverage&y=nope');
    expect(unknown).toMatchObject({ status: 404, body: { parameter: 'y' } });
  });

  it('serves access to mediation: every commune has a distance; EPCI shares of population beyond 10/20 km', async () => {
    const communes = await getJson(app, '/api/access/commune?sort=-distance_m');
    expect(communes.body.rows).toHaveLength(demo.communes.length);
    expect(communes.body.rows.every((r: any) => r.distance_m >= 0)).toBe(true);
    const far = communes.body.rows[0];
    expect(far.distance_m).toBeGreaterThan(communes.body.rows.at(-1).distance_m);
    const epci = await getJson(app, '/api/access/epci');
    for (const row of epci.body.rows) {
      const members = demo.communes.filter((c) => c.epci === row.code);
      const population = members.reduce((s, c) => s + c.population, 0);
      const beyond = (km: number) =>
        members.filter((c) => communes.body.rows.find((r: any) => r.code === c.code).distance_m > km * 1000).reduce((s, c) => s + c.population, 0) / population;
      expect(row.share_population_beyond_10km).toBeCloseTo(beyond(10), 12);
      expect(row.share_population_beyond_20km).toBeCloseTo(beyond(20), 12);
    }
  });

  it('sorts and pages rows, with the total before paging', async () => {
    const all = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}&sort=-value&limit=5&offset=2`);
    const expected = [...all.body.rows].sort((a: any, b: any) => b.value - a.value).slice(2, 7).map((r: any) => r.value);
    expect(body.total).toBe(demo.communes.length);
    expect(body.rows.map((r: any) => r.value)).toEqual(expected);
  });

  it('filters with within=LEVEL:CODE and defaults to the latest vintage', async () => {
    const epci = demo.truth.splitEpci;
    const { body } = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&within=epci:${epci}`);
    expect(body.vintage).toBe(latest);
    expect(body.rows.map((r: any) => r.code).sort()).toEqual(demo.communes.filter((c) => c.epci === epci).map((c) => c.code).sort());
  });

  it('serves outlines as GeoJSON', async () => {
    const { type, body } = await getJson(app, '/api/geometries/epci');
    expect(type).toMatch(/application\/geo\+json/);
    expect(body.features).toHaveLength(demo.epcis.length);
    expect(body.features[0].properties).toEqual({ code: expect.stringMatching(/^XE\d\d$/), name: expect.any(String) });
    expect(body.features[0].geometry.type).toBe('MultiPolygon');
  });

  it.each([
    ['/api/stats/canton?indicator=fibre_coverage', 404, 'level'],
    ['/api/stats/commune', 400, 'indicator'],
    ['/api/stats/commune?indicator=nope', 404, 'indicator'],
    ['/api/stats/commune?indicator=fibre_coverage&vintage=2018Q1', 400, 'vintage'],
    ['/api/stats/commune?indicator=fibre_coverage&vintage=1999-Q1', 404, 'vintage'],
    ['/api/stats/commune?indicator=fibre_coverage&within=epci', 400, 'within'],
    ['/api/stats/commune?indicator=fibre_coverage&within=epci:000000000', 404, 'within'],
    // a misspelt parameter is refused, not ignored (it would answer the latest vintage)
    ['/api/stats/commune?indicator=fibre_coverage&vintge=2018-Q1', 400, 'vintge'],
    // a commune contains no territory (membership links communes to coarser levels): refused, not an empty list
    [`/api/stats/epci?indicator=fibre_coverage&within=commune:${demo.communes[0]!.code}`, 400, 'within'],
    [`/api/export/commune.csv?within=commune:${demo.communes[0]!.code}`, 400, 'within'],
    ['/api/stats/commune?indicator=fibre_coverage&indicator=x', 400, 'indicator'],
    ["/api/stats/commune?indicator=fibre_coverage'--", 404, 'indicator'],
    ['/api/stats/commune?indicator=fibre_coverage&sort=password', 400, 'sort'],
    ['/api/stats/commune?indicator=fibre_coverage&limit=0', 400, 'limit'],
    ['/api/stats/commune?indicator=fibre_coverage&offset=-1', 400, 'offset'],
    ['/api/multispeed?level=commune&indicator=fibre_coverage', 400, 'level'],
    ['/api/multispeed?level=epci&indicator=fibre_coverage&vintage=2024-13', 400, 'vintage'],
    ['/api/bivariate/commune?x=fibre_coverage&y=ftth_takeup&vintage=yesterday', 400, 'vintage'],
  ])('answers %s with a %i problem naming the %s parameter', async (path, status, parameter) => {
    const response = await getJson(app, path);
    expect(response.status).toBe(status);
    expect(response.type).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status, parameter });
  });

  it('answers an unknown API route with a 404 problem', async () => {
    const response = await getJson(app, '/api/nothing-here');
    expect(response).toMatchObject({ status: 404, body: { status: 404 } });
  });
});
