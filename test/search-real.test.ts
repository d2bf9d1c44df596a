import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { migrate } from '../server/db/migrate.ts';
import { importHierarchy } from '../server/import/hierarchy.ts';
import { start, type Running } from '../server/main.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';
import { getJson } from './helpers/server.ts';

/** Search over the real COG (every French commune, EPCI, département and région, with their postal codes). */
describe.each(backends())('GET /api/search over the current COG (%s)', (backend) => {
  let app: Running;
  beforeAll(async () => {
    const database = await openEmptyDatabase(backend);
    await migrate(database);
    await importHierarchy(database);
    app = await start(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://' }), { database });
    // the whole COG into embedded PostGIS: a minute and a half alone, longer on a busy machine
  }, 600_000);
  afterAll(() => app?.close());

  const search = async (q: string, extra = '') => (await getJson(app, `/api/search?q=${encodeURIComponent(q)}${extra}`)).body.results as any[];

  it('"Laon" finds Laon (Aisne) first, with its postal code', async () => {
    for (const q of ['Laon', 'laon', 'LAON', 'Lâon', ' laon ']) {
      expect((await search(q))[0]).toMatchObject({ level: 'commune', code: '02408', name: 'Laon', match: 'name', departement: { code: '02', name: 'Aisne' }, postal_codes: ['02000'] });
    }
  });

  it('"02000" finds the communes of that postal code, Laon (the most populous) first', async () => {
    const results = await search('02000', '&limit=50');
    expect(results[0]).toMatchObject({ code: '02408', match: 'postal_code' });
    expect(results.length).toBeGreaterThan(20);
    expect(results.every((r) => r.postal_codes.includes('02000'))).toBe(true);
    const populations = results.map((r) => r.population);
    expect(populations).toEqual([...populations].sort((a, b) => b - a));
  });

  it('finds by INSEE code and by SIREN', async () => {
    expect((await search('02408'))[0]).toMatchObject({ code: '02408', match: 'code' });
    expect((await search('200043495'))[0]).toMatchObject({ level: 'epci', code: '200043495', match: 'code' });
    expect((await search('2a'))[0]).toMatchObject({ level: 'departement', code: '2A', match: 'code' });
  });

  it('accents, hyphens and abbreviations: Château-Thierry, St-Quentin, Œuf-en-Ternois', async () => {
    expect((await search('chateau thierry'))[0]).toMatchObject({ code: '02168', name: 'Château-Thierry' });
    expect((await search('St-Quentin'))[0]).toMatchObject({ code: '02691', name: 'Saint-Quentin' });
    expect((await search('oeuf en ternois'))[0]).toMatchObject({ code: '62633', name: 'Œuf-en-Ternois' });
  });

  it('forgives a typo when nothing matches as typed', async () => {
    expect((await search('laom'))[0]).toMatchObject({ code: '02408', match: 'similar' });
    expect((await search('chateau thiery'))[0]).toMatchObject({ code: '02168', match: 'similar' });
    expect((await search('sant quentin', '&levels=commune'))[0]).toMatchObject({ code: '02691', match: 'similar' });
  });

  it('finds EPCI and départements by a word of their name', async () => {
    expect((await search('pays de laon', '&levels=epci'))[0]).toMatchObject({ code: '200043495' });
    expect((await search('aisne', '&levels=departement'))[0]).toMatchObject({ code: '02', match: 'name' });
    expect((await search('hauts de france'))[0]).toMatchObject({ level: 'region', code: '32' });
  });

  it('a name shared by many communes lists the most populous first', async () => {
    const results = await search('Saint-Martin', '&levels=commune&limit=20');
    const exact = results.filter((r) => r.match === 'name');
    expect(exact.length).toBeGreaterThan(1);
    const populations = exact.map((r) => r.population);
    expect(populations).toEqual([...populations].sort((a, b) => b - a));
    // told apart by their département
    expect(new Set(exact.map((r) => r.departement.code)).size).toBe(exact.length);
  });
});
