import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { loadCog } from '../server/import/cog.ts';
import { ImportError } from '../server/import/errors.ts';
import { importHierarchy } from '../server/import/hierarchy.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

async function members(database: Database, level: string, code: string): Promise<string[]> {
  const rows = await database.db
    .selectFrom('territory_member as m')
    .innerJoin('territory as p', 'p.id', 'm.territory_id')
    .innerJoin('territory as c', 'c.id', 'm.commune_id')
    .select('c.code')
    .where('p.level', '=', level)
    .where('p.code', '=', code)
    .orderBy('c.code')
    .execute();
  return rows.map((r) => r.code);
}

describe.each(backends())('import hierarchy on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
  });
  afterAll(() => database?.close());

  it('imports the current COG with direct memberships and populations', async () => {
    const cog = loadCog();
    const report = await importHierarchy(database);
    expect(report.read).toBe(cog.communes.size);
    // CA du Pays de Laon
    const laon = cog.epcis.get('200043495')!;
    expect(await members(database, 'epci', '200043495')).toEqual([...laon.members].sort());
    const epci = await database.db.selectFrom('territory').select(['name', 'population']).where('level', '=', 'epci').where('code', '=', '200043495').executeTakeFirstOrThrow();
    expect(epci.name).toBe(laon.name);
    expect(epci.population).toBe(laon.members.reduce((s, c) => s + (cog.communes.get(c)!.population ?? 0), 0));
    // A commune belongs directly to its région, not through its département.
    const region = await members(database, 'region', '32');
    expect(region).toContain('02408');
    expect(region.length).toBe([...cog.communes.values()].filter((c) => c.region === '32').length);
  });

  it('knows an EPCI that spans two départements through its communes', async () => {
    // CC de l'Est de la Somme (02, 80) per SOURCES.md
    const communes = await members(database, 'epci', '200070985');
    const departements = new Set(communes.map((c) => c.slice(0, 2)));
    expect([...departements].sort()).toEqual(['02', '80']);
  });

  it('is idempotent', async () => {
    const count = async () => Number((await database.db.selectFrom('territory_member').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    await importHierarchy(database);
    expect(await count()).toBe(before);
    const sources = await database.db.selectFrom('source').select('id').where('kind', '=', 'hierarchy').execute();
    expect(sources).toHaveLength(1);
  });

  it('imports another country’s hierarchy from a CSV, creating its levels', async () => {
    const file = path.join(os.tmpdir(), `hierarchy-${process.pid}.csv`);
    fs.writeFileSync(file, 'code;name;population;canton;canton_name\r\nQ1;Quëbec-Nord;1 200;K1;Canton Un\r\nQ2;L\'Île;800;K1;Canton Un\r\n');
    const other = await openEmptyDatabase(backend);
    try {
      await migrate(other);
      const report = await importHierarchy(other, { from: file });
      expect(report.read).toBe(2);
      const canton = await other.db.selectFrom('territory').select(['name', 'population']).where('level', '=', 'canton').where('code', '=', 'K1').executeTakeFirstOrThrow();
      expect(canton).toEqual({ name: 'Canton Un', population: 2000 });
      expect(await members(other, 'canton', 'K1')).toEqual(['Q1', 'Q2']);
    } finally {
      await other.close();
    }
  });

  it('rejects a CSV hierarchy with a bad population, naming file, line and column, and writes nothing', async () => {
    const file = path.join(os.tmpdir(), `hierarchy-bad-${process.pid}.csv`);
    fs.writeFileSync(file, 'code,name,population\nQ1,Un,12\nQ2,Deux,douze\n');
    const before = await database.db.selectFrom('source').select('id').execute();
    const error = await importHierarchy(database, { from: file }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect(error.message).toBe(`${path.basename(file)}, line 3, column "population": expected a whole number, found "douze"`);
    expect(await database.db.selectFrom('source').select('id').execute()).toEqual(before);
  });
});
