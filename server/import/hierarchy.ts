import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import { runNamedQuery, type Database } from '../db/database.ts';
import { namedQuery } from '../db/sql-files.ts';
import { loadCog, type CogReference } from './cog.ts';
import { ImportError } from './errors.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { runImport } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export interface HierarchyOptions {
  /** A CSV hierarchy of another country or vintage instead of the current French COG. */
  from?: string;
}

interface Unit {
  code: string;
  name: string;
  population: number | null;
}

/** A whole hierarchy: base units with their direct parents at every coarser level. */
interface Hierarchy {
  /** Coarser levels, finest first (e.g. epci, departement, region). */
  levels: { id: string; labelFr: string; labelEn: string }[];
  communes: Unit[];
  parents: Map<string, Unit[]>;
  memberships: { level: string; code: string; commune: string }[];
  vintage: string | null;
  populationVintage: string | null;
}

/**
 * Imports communes → EPCI → département → région with populations, as direct memberships of communes,
 * from the current COG (@etalab/decoupage-administratif, the whole of France so that every aggregate knows
 * all its member communes) or from a CSV. Coarser outlines are dissolved from member communes.
 */
export async function importHierarchy(database: Database, options: HierarchyOptions = {}): Promise<ImportReport> {
  const hierarchy = options.from ? await readCsvHierarchy(options.from) : cogHierarchy(loadCog());
  const file = options.from ?? loadCog().version;
  const report = emptyReport('import hierarchy', options.from ? path.basename(options.from) : file);
  report.read = hierarchy.communes.length;
  return runImport(
    database,
    {
      kind: 'hierarchy',
      name: options.from ? path.basename(options.from) : '@etalab/decoupage-administratif',
      fileName: options.from ? path.basename(options.from) : null,
      sha256: options.from ? await sha256File(options.from) : null,
      vintage: hierarchy.vintage,
      publisher: options.from ? null : 'INSEE (COG) via Etalab, @etalab/decoupage-administratif',
      licence: options.from ? null : 'Licence Ouverte / Open Licence 2.0',
    },
    report,
    async ({ trx, sourceId }) => {
      for (const [rank, level] of hierarchy.levels.entries()) {
        await trx
          .insertInto('level')
          .values({ id: level.id, label_fr: level.labelFr, label_en: level.labelEn, rank: rank + 1 })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
      const upsert = (level: string, units: Unit[]) =>
        runNamedQuery(trx, namedQuery('upsert_territories'), [
          JSON.stringify(units.map((u) => ({ ...u, geometry: null }))),
          level,
          sourceId,
          hierarchy.populationVintage,
          false,
        ]);
      await upsert('commune', hierarchy.communes);
      for (const level of hierarchy.levels) await upsert(level.id, hierarchy.parents.get(level.id) ?? []);
      // Memberships are replaced whole: a commune that changed EPCI must leave the old one.
      await trx.deleteFrom('territory_member').execute();
      await runNamedQuery(trx, namedQuery('upsert_memberships'), [JSON.stringify(hierarchy.memberships)]);
      await runNamedQuery(trx, namedQuery('dissolve_territories'));
      report.imported = hierarchy.communes.length + [...hierarchy.parents.values()].reduce((n, units) => n + units.length, 0);
      report.notes.push(
        `${hierarchy.communes.length} communes, ${hierarchy.levels.map((l) => `${hierarchy.parents.get(l.id)?.length ?? 0} ${l.id}`).join(', ')}`,
      );
    },
    { replacesDemo: true, territoriesChanged: true },
  );
}

function cogHierarchy(cog: CogReference): Hierarchy {
  const communes = [...cog.communes.values()];
  const sum = (members: string[]) => members.reduce((total, code) => total + (cog.communes.get(code)?.population ?? 0), 0);
  const byDepartement = new Map<string, string[]>();
  const byRegion = new Map<string, string[]>();
  for (const c of communes) {
    byDepartement.set(c.departement, [...(byDepartement.get(c.departement) ?? []), c.code]);
    byRegion.set(c.region, [...(byRegion.get(c.region) ?? []), c.code]);
  }
  const memberships = communes.flatMap((c) => [
    ...(c.epci ? [{ level: 'epci', code: c.epci, commune: c.code }] : []),
    { level: 'departement', code: c.departement, commune: c.code },
    { level: 'region', code: c.region, commune: c.code },
  ]);
  return {
    levels: [
      { id: 'epci', labelFr: 'Intercommunalité (EPCI)', labelEn: 'Inter-municipality (EPCI)' },
      { id: 'departement', labelFr: 'Département', labelEn: 'Département' },
      { id: 'region', labelFr: 'Région', labelEn: 'Region' },
    ],
    communes: communes.map((c) => ({ code: c.code, name: c.name, population: c.population })),
    parents: new Map([
      ['epci', [...cog.epcis.values()].map((e) => ({ code: e.code, name: e.name, population: sum(e.members) }))],
      ['departement', [...cog.departements.values()].filter((d) => byDepartement.has(d.code)).map((d) => ({ code: d.code, name: d.name, population: sum(byDepartement.get(d.code)!) }))],
      ['region', [...cog.regions.values()].filter((r) => byRegion.has(r.code)).map((r) => ({ code: r.code, name: r.name, population: sum(byRegion.get(r.code)!) }))],
    ]),
    memberships,
    vintage: cog.version.replace(/^.* /, 'decoupage-administratif-'),
    populationVintage: null,
  };
}

/**
 * A CSV hierarchy (comma or semicolon): `code,name,population` of the base units, then one pair of columns
 * `<level>,<level>_name` per coarser level, finest first, e.g. `code,name,population,district,district_name`.
 */
async function readCsvHierarchy(file: string): Promise<Hierarchy> {
  checkInputFile(file);
  const fileName = path.basename(file);
  const firstLine = fs.readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
  const parser = fs.createReadStream(file).pipe(parse({ delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: false }));
  let header: string[] | null = null;
  let levelIds: string[] = [];
  const communes: Unit[] = [];
  const parents = new Map<string, Map<string, Unit>>();
  const memberships: Hierarchy['memberships'] = [];
  let line = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line += 1;
      if (!header) {
        header = record.map((h) => h.toLowerCase());
        for (const required of ['code', 'name']) {
          if (!header.includes(required)) throw new ImportError({ file: fileName, line, column: required }, `missing column "${required}"; expected code,name,population then <level>,<level>_name pairs`);
        }
        levelIds = header.filter((h) => !['code', 'name', 'population'].includes(h) && !h.endsWith('_name'));
        for (const level of levelIds) {
          if (!/^[a-z][a-z0-9_-]*$/.test(level)) throw new ImportError({ file: fileName, line, column: level }, 'level names are lower-case letters, digits, - and _');
          if (!header.includes(`${level}_name`)) throw new ImportError({ file: fileName, line, column: `${level}_name` }, `missing column "${level}_name" for level "${level}"`);
          parents.set(level, new Map());
        }
        continue;
      }
      const get = (column: string) => record[header!.indexOf(column)] ?? '';
      const code = get('code');
      if (!code) throw new ImportError({ file: fileName, line, column: 'code' }, 'expected a code, found an empty cell');
      const populationText = header.includes('population') ? get('population').replace(/[\s\u00a0\u202f]/g, '') : '';
      if (populationText && !/^\d+$/.test(populationText)) throw new ImportError({ file: fileName, line, column: 'population' }, `expected a whole number, found "${get('population')}"`);
      communes.push({ code, name: get('name') || code, population: populationText ? Number(populationText) : null });
      for (const level of levelIds) {
        const parent = get(level);
        if (!parent) continue;
        const units = parents.get(level)!;
        const unit = units.get(parent) ?? { code: parent, name: get(`${level}_name`) || parent, population: 0 };
        unit.population = (unit.population ?? 0) + (populationText ? Number(populationText) : 0);
        units.set(parent, unit);
        memberships.push({ level, code: parent, commune: code });
      }
    }
  } catch (error) {
    if (error instanceof ImportError) throw error;
    throw new ImportError({ file: fileName, line: line + 1 }, `not a readable CSV: ${(error as Error).message}`);
  }
  if (communes.length === 0) throw new ImportError({ file: fileName }, 'no data rows after the header');
  return {
    levels: levelIds.map((id) => ({ id, labelFr: id, labelEn: id })),
    communes,
    parents: new Map([...parents].map(([level, units]) => [level, [...units.values()]])),
    memberships,
    vintage: null,
    populationVintage: null,
  };
}
