import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAggregates } from '../server/analysis/aggregate.ts';
import type { Running } from '../server/main.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { backends } from './helpers/db.ts';
import { getJson, startDemoServer } from './helpers/server.ts';

const demo = generateDemo();

describe.each(backends())('GET /api/territories/{level}/{code} on %s', (backend) => {
  let app: Running;
  beforeAll(async () => {
    app = await startDemoServer(backend);
  });
  afterAll(() => app?.close());

  it('a commune: names, parents, neighbours, every indicator over every vintage', async () => {
    const commune = demo.communes[17]!;
    const { status, body } = await getJson(app, `/api/territories/commune/${commune.code}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ level: 'commune', code: commune.code, name: commune.name, population: commune.population, synthetic: true, members: null });
    expect(body.bbox).toHaveLength(4);
    expect(body.parents.map((p: any) => `${p.level}:${p.code}`)).toEqual([`epci:${commune.epci}`, `departement:${demo.departement.code}`, `region:${demo.region.code}`]);
    expect(body.neighbours.length).toBeGreaterThan(0);

    // every fibre quarter, with the same numbers /api/stats serves
    const fibre = body.indicators.find((i: any) => i.id === 'fibre_coverage');
    expect(fibre.values.map((v: any) => v.vintage)).toEqual(demo.quarters);
    for (const quarter of [demo.quarters[0]!, demo.quarters.at(-1)!]) {
      const stats = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${quarter}&codes=${commune.code}`);
      const { code: _c, name: _n, vintage, value, numerator, denominator, communes, communes_expected, partial, display_value } = stats.body.rows[0];
      expect(fibre.values.find((v: any) => v.vintage === vintage)).toMatchObject({ value, numerator, denominator, communes, communes_expected, partial, display_value });
    }
    for (const usage of demo.usageIndicators) expect(body.indicators.find((i: any) => i.id === usage.id).values.map((v: any) => v.vintage)).toEqual(['2023', '2024']);
    // sources of the values are listed
    const sourceIds = new Set(body.sources.map((s: any) => s.id));
    for (const v of fibre.values) for (const id of v.source_ids) expect(sourceIds.has(id)).toBe(true);
    // LISA and trend rows of the commune
    expect(body.lisa.some((l: any) => l.indicator === 'fibre_coverage')).toBe(true);
    expect(body.access.distance_m).toBeGreaterThanOrEqual(0);
  });

  it('ranks against every commune and those of its département, as the sorted stats list says', async () => {
    const commune = demo.communes[42]!;
    const latest = demo.quarters.at(-1)!;
    const { body } = await getJson(app, `/api/territories/commune/${commune.code}`);
    const fibre = body.indicators.find((i: any) => i.id === 'fibre_coverage');
    const stats = await getJson(app, `/api/stats/commune?indicator=fibre_coverage&vintage=${latest}`);
    const withValue = stats.body.rows.filter((r: any) => r.value !== null);
    const mine = withValue.find((r: any) => r.code === commune.code).value;
    const expected = 1 + withValue.filter((r: any) => r.value > mine).length;
    expect(fibre.rank).toMatchObject({ vintage: latest, national: { rank: expected, of: withValue.length } });
    // a single département in the demo: the same rank among its communes
    expect(fibre.rank.parent).toMatchObject({ level: 'departement', code: demo.departement.code, rank: expected, of: withValue.length });
  });

  it('an EPCI: its communes as members, its parents, neighbouring EPCI and the disparity of its communes', async () => {
    const epci = demo.truth.splitEpci;
    const members = demo.communes.filter((c) => c.epci === epci);
    const { body } = await getJson(app, `/api/territories/epci/${epci}`);
    expect(body.members.count).toBe(members.length);
    expect(body.members.communes.map((c: any) => c.code)).toEqual(members.map((c) => c.code).sort());
    expect(body.parents).toEqual([
      { level: 'departement', code: demo.departement.code, name: demo.departement.name, communes: members.length },
      { level: 'region', code: demo.region.code, name: demo.region.name, communes: members.length },
    ]);
    expect(body.neighbours.length).toBeGreaterThan(0);
    expect(body.neighbours.map((n: any) => n.code)).not.toContain(epci);
    const latest = demo.quarters.at(-1)!;
    expect(body.disparity.find((d: any) => d.indicator === 'fibre_coverage' && d.vintage === latest)).toMatchObject({ multispeed: true });
    // an aggregate has no source of its own: those of its communes' values
    const fibre = body.indicators.find((i: any) => i.id === 'fibre_coverage');
    expect(fibre.values.at(-1).source_ids.length).toBeGreaterThan(0);
    // ranked among the EPCI
    expect(fibre.rank.national.of).toBe(demo.epcis.length);
  });

  it('a région is ranked nationally only and lists all its communes', async () => {
    const { body } = await getJson(app, `/api/territories/region/${demo.region.code}`);
    expect(body.parents).toEqual([]);
    expect(body.members.count).toBe(demo.communes.length);
    expect(body.indicators.find((i: any) => i.id === 'fibre_coverage').rank).toMatchObject({ national: { rank: 1, of: 1 }, parent: null });
  });

  // last: it changes the database
  it('leaves a partial aggregate out of rankings, its own and its peers\'', async () => {
    const epci = demo.truth.splitEpci;
    const latest = demo.quarters.at(-1)!;
    const member = demo.communes.find((c) => c.epci === epci)!;
    const { db } = app.database;
    await db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('indicator_value')
        .where('indicator_id', '=', 'fibre_coverage')
        .where('vintage', '=', latest)
        .where('territory_id', '=', (qb) => qb.selectFrom('territory').select('id').where('level', '=', 'commune').where('code', '=', member.code))
        .execute();
      await recomputeAggregates(trx, 'fibre_coverage');
      await sql`UPDATE data_version SET version = version + 1`.execute(trx);
    });
    // answers are cached per data version, read at most once a second
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const partial = (await getJson(app, `/api/territories/epci/${epci}`)).body.indicators.find((i: any) => i.id === 'fibre_coverage');
    expect(partial.values.at(-1)).toMatchObject({ vintage: latest, partial: true });
    expect(partial.rank).toBeNull();
    const other = demo.epcis.find((e) => e.code !== epci)!;
    const complete = (await getJson(app, `/api/territories/epci/${other.code}`)).body.indicators.find((i: any) => i.id === 'fibre_coverage');
    expect(complete.rank.national.of).toBe(demo.epcis.length - 1);
  });

  it.each([
    ['/api/territories/commune/X9999', 404, 'code'],
    ['/api/territories/canton/X0001', 404, 'level'],
    [`/api/territories/commune/${'9'.repeat(30)}`, 400, 'code'],
    ['/api/territories/COMMUNE/X0001', 400, 'level'],
  ])('answers %s with %i naming %s', async (path, status, parameter) => {
    const response = await getJson(app, path);
    expect(response.status).toBe(status);
    expect(response.type).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status, parameter });
  });
});
