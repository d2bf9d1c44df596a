import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { importArcep } from '../server/import/arcep.ts';
import { ImportError } from '../server/import/errors.ts';
import { importHierarchy } from '../server/import/hierarchy.ts';
import type { ImportReport } from '../server/import/report.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared/data');
const ARCEP = path.join(SHARED, 'arcep');
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
const hasShared = fs.existsSync(ARCEP);
if (!hasShared && process.env.CI) throw new Error(`${ARCEP} is missing: the ARCEP import tests need ../shared/data under CI`);
if (!hasShared) console.warn(`skipping the ARCEP tests on real data: ${ARCEP} is absent`);

const FILES = ['communes-02-62.csv', 'departements-02-62.csv', 'epci-02-62.csv', 'ftth-communes-02-62.csv', 'ftth-departements-02-62.csv', 'ftth-epci-02-62.csv'];
const QUARTERS = ['2017-Q3', '2017-Q4', '2018-Q1'];

// The 2018 communes merged since, and the current commune that absorbed each (SOURCES.md; INSEE COG history).
const MERGED: Record<string, string> = {
  '02077': '02564', '02301': '02018', '02311': '02589', '02434': '02018', '02475': '02360', '02695': '02054',
  '02733': '02153', '62210': '62154', '62461': '62447', '62549': '62447', '62743': '62447',
};
const current = (code: string) => MERGED[code] ?? code;

/** An ARCEP CSV read independently of the importer: the data lines after the 4 title lines and the header. */
function arcepRows(name: string): string[][] {
  return parse(fs.readFileSync(path.join(ARCEP, name), 'utf8'), { relax_column_count: true, from_line: 6 }) as string[][];
}
const count = (text: string) => {
  const compact = text.replace(/[\s\u00a0]/g, '');
  return compact === '-' ? 0 : Number(compact);
};
/** Locaux Raccordables per quarter, by code, from an ftth-* file. */
function connectable(name: string): Map<string, number[]> {
  return new Map(arcepRows(name).filter((r) => r[1] === 'Locaux Raccordables').map((r) => [r[0]!, r.slice(2, 5).map(Number)]));
}

async function communeFigures(database: Database, vintages = QUARTERS) {
  return database.db
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .select(['t.code', 'v.vintage', 'v.numerator', 'v.denominator', 'v.value', 'v.source_id'])
    .where('v.indicator_id', '=', 'fibre_coverage')
    .where('t.level', '=', 'commune')
    .where('v.vintage', 'in', vintages)
    .orderBy('t.code')
    .orderBy('v.vintage')
    .execute();
}

async function value(database: Database, level: string, code: string, vintage: string) {
  return database.db
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .select(['v.value', 'v.numerator', 'v.denominator', 'v.communes', 'v.communes_expected', 'v.source_id'])
    .where('v.indicator_id', '=', 'fibre_coverage')
    .where('t.level', '=', level)
    .where('t.code', '=', code)
    .where('v.vintage', '=', vintage)
    .executeTakeFirst();
}

async function sourceId(database: Database, name: string) {
  const rows = await database.db.selectFrom('source').select('id').where('kind', '=', 'arcep').where('name', '=', name).execute();
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

/** Everything an import may touch, to show that a failed one changed nothing. */
async function snapshot(database: Database): Promise<string> {
  const { db } = database;
  return JSON.stringify({
    values: await db.selectFrom('indicator_value').selectAll().orderBy('indicator_id').orderBy('territory_id').orderBy('vintage').execute(),
    published: await db.selectFrom('published_value').selectAll().orderBy('level').orderBy('published_code').orderBy('vintage').orderBy('source_id').execute(),
    sources: await db.selectFrom('source').selectAll().orderBy('id').execute(),
    rejects: await db.selectFrom('import_reject').selectAll().orderBy('id').execute(),
    version: await db.selectFrom('data_version').selectAll().execute(),
  });
}

async function expectImportError(run: Promise<unknown>, expected: { file?: string; line?: number; column?: string; message: RegExp }) {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportError);
  const { location, message } = error as ImportError;
  if (expected.file !== undefined) expect(location.file).toBe(expected.file);
  if (expected.line !== undefined) expect(location.line).toBe(expected.line);
  if (expected.column !== undefined) expect(location.column).toBe(expected.column);
  expect(message).toMatch(expected.message);
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-arcep-'));
}

describe.each(backends())('import arcep (%s)', (backend) => {
  let database: Database;
  const temps: string[] = [];

  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await importHierarchy(database);
  });
  afterAll(async () => {
    await database?.close();
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe.skipIf(!hasShared)('the T1 2018 publication in ../shared/data/arcep', () => {
    let report: ImportReport;
    let firstImport: Awaited<ReturnType<typeof communeFigures>>;

    beforeAll(async () => {
      report = await importArcep(database, ARCEP);
      firstImport = await communeFigures(database);
    });

    it('keeps one source per file, with its hash, vintage, publisher and licence', async () => {
      const sources = await database.db.selectFrom('source').selectAll().where('kind', '=', 'arcep').orderBy('name').execute();
      expect(sources.map((s) => s.name)).toEqual(FILES);
      for (const source of sources) {
        expect(source.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(path.join(ARCEP, source.name))).digest('hex'));
        expect(source).toMatchObject({ vintage: '2018-Q1', publisher: 'ARCEP', licence: 'Licence Ouverte / Open Licence 2.0' });
      }
      // 3,390 + 1,695 + 80 + 40 + 4 + 2 data lines (SOURCES.md)
      expect(report.read).toBe(5211);
      // 1,684 current communes of 02 and 62 × 3 quarters, + ARCEP's 40 EPCI and 2 département rows × 3 quarters
      expect(report.imported).toBe(1684 * 3 + 42 * 3);
      expect(report.notes.join('\n')).toMatch(/Catégorie agrees .* for all \d+ values/);
    });

    it('gives 23.9 % for the Aisne and 18.1 % for the Pas-de-Calais on 2018-03-31, as ARCEP (Baromètre: 24 % and 18 %)', async () => {
      const departements = connectable('ftth-departements-02-62.csv');
      for (const [code, rate, barometre] of [['02', 0.239, 24], ['62', 0.181, 18]] as const) {
        const row = (await value(database, 'departement', code, '2018-Q1'))!;
        expect(Number(row.value!.toFixed(3))).toBe(rate);
        expect(Math.round(row.value! * 100)).toBe(barometre);
        // terrinum's sum over current communes = ARCEP's own département row, to the premise
        expect(row.numerator).toBe(departements.get(code)![2]);
        expect(row.communes).toBe(row.communes_expected);
        const published = await database.db.selectFrom('published_value').selectAll().where('level', '=', 'departement').where('code', '=', code).where('vintage', '=', '2018-Q1').executeTakeFirstOrThrow();
        expect(Number(published.value!.toFixed(3))).toBe(rate);
        expect(published.numerator).toBe(row.numerator);
      }
    });

    it("matches ARCEP's own EPCI rows for every EPCI unchanged since 2018 and wholly in 02/62", async () => {
      const members2018 = new Map<string, Set<string>>();
      for (const [code, , , , epci] of arcepRows('communes-02-62.csv')) {
        members2018.set(epci!, (members2018.get(epci!) ?? new Set()).add(current(code!)));
      }
      const rows = await database.db
        .selectFrom('territory_member as m')
        .innerJoin('territory as e', 'e.id', 'm.territory_id')
        .innerJoin('territory as c', 'c.id', 'm.commune_id')
        .where('e.level', '=', 'epci')
        .select(['e.code as epci', 'c.code as commune'])
        .execute();
      const membersNow = new Map<string, Set<string>>();
      for (const { epci, commune } of rows) membersNow.set(epci, (membersNow.get(epci) ?? new Set()).add(commune));
      const arcepEpci = connectable('ftth-epci-02-62.csv');
      const unchanged = [...members2018].filter(([epci, then]) => {
        const now = membersNow.get(epci);
        return now && now.size === then.size && [...now].every((c) => then.has(c) && /^(02|62)/.test(c));
      });
      // 40 EPCIs − 246201149 (gone) − 200071769 and 200072478 (communes moved) − 200069672, 200070985, 245900758 (reach outside)
      expect(unchanged.map(([epci]) => epci).sort()).not.toContain('200071769');
      expect(unchanged).toHaveLength(34);
      for (const [epci] of unchanged) {
        for (const [i, vintage] of QUARTERS.entries()) {
          const row = (await value(database, 'epci', epci, vintage))!;
          expect({ epci, vintage, numerator: row.numerator }).toEqual({ epci, vintage, numerator: arcepEpci.get(epci)![i] });
        }
      }
    });

    it('folds the 11 merged communes into the commune that absorbed them, summing counts', async () => {
      expect(report.reconciled).toBe(11);
      const deployed = connectable('ftth-communes-02-62.csv');
      const premises = new Map(arcepRows('communes-02-62.csv').map((r) => [r[0]!, count(r[5]!) + count(r[6]!)]));
      // 02153 (Cessières-Suzy) = ARCEP 02153 + ARCEP 02733 (Suzy)
      const cessieres = (await value(database, 'commune', '02153', '2018-Q1'))!;
      expect(cessieres.numerator).toBe(deployed.get('02153')![2]! + deployed.get('02733')![2]!);
      expect(cessieres.denominator).toBe(premises.get('02153')! + premises.get('02733')!);
      expect(cessieres.value).toBeCloseTo(cessieres.numerator! / cessieres.denominator!, 12);
      for (const absorbing of new Set(Object.values(MERGED))) {
        const parts = [...deployed.keys()].filter((code) => current(code) === absorbing);
        expect(parts.length).toBeGreaterThan(1);
        for (const [i, vintage] of QUARTERS.entries()) {
          const row = (await value(database, 'commune', absorbing, vintage))!;
          expect(row.numerator).toBe(parts.reduce((sum, code) => sum + deployed.get(code)![i]!, 0));
          expect(row.denominator).toBe(parts.reduce((sum, code) => sum + premises.get(code)!, 0));
        }
      }
      const merged = await database.db.selectFrom('territory').select('code').where('level', '=', 'commune').where('code', 'in', Object.keys(MERGED)).execute();
      expect(merged).toEqual([]);
    });

    it('keeps ARCEP EPCI codes unless their 2018 members all lie in one current EPCI', async () => {
      const published = await database.db.selectFrom('published_value').selectAll().where('level', '=', 'epci').where('vintage', '=', '2018-Q1').execute();
      expect(published).toHaveLength(40);
      const codeOf = new Map(published.map((p) => [p.published_code, p.code]));
      // CA du Calaisis: its 10 communes of 2018 are all in CA Grand Calais Terres et Mers now
      expect(codeOf.get('246201149')).toBe('200090751');
      // split between two current EPCIs: kept as published
      expect(codeOf.get('200071769')).toBe('200071769');
      expect(codeOf.get('200072478')).toBe('200072478');
      expect(published.filter((p) => p.code !== p.published_code)).toHaveLength(1);
      const arras = published.find((p) => p.published_code === '200033579')!;
      expect(arras).toMatchObject({ numerator: 19311, denominator: 52148 + 3082 });
    });

    it('reads the .xlsx workbook (one sheet per file, numbers as padded text) to exactly the same values', async () => {
      const workbook = new ExcelJS.Workbook();
      for (const name of FILES) {
        const sheet = workbook.addWorksheet(name.replace(/\.csv$/, ''));
        for (const cells of parse(fs.readFileSync(path.join(ARCEP, name), 'utf8'), { relax_column_count: true }) as string[][]) sheet.addRow(cells);
      }
      const dir = tempDir();
      temps.push(dir);
      const file = path.join(dir, 'arcep-02-62.xlsx');
      await workbook.xlsx.writeFile(file);

      const before = await database.db.selectFrom('published_value').select(['level', 'code', 'published_code', 'vintage', 'value', 'numerator', 'denominator']).orderBy('level').orderBy('published_code').orderBy('vintage').execute();
      const xlsxReport = await importArcep(database, file);
      expect(xlsxReport).toMatchObject({ read: report.read, imported: report.imported, reconciled: 11, rejected: 0 });
      const id = await sourceId(database, 'arcep-02-62.xlsx');
      const figures = await communeFigures(database);
      // every value was rewritten by the workbook import, to the same numbers
      expect(figures.every((f) => f.source_id === id)).toBe(true);
      expect(figures.map(({ source_id, ...rest }) => rest)).toEqual(firstImport.map(({ source_id, ...rest }) => rest));
      const fromWorkbook = await database.db
        .selectFrom('published_value')
        .select(['level', 'code', 'published_code', 'vintage', 'value', 'numerator', 'denominator'])
        .where('source_id', '=', id)
        .orderBy('level')
        .orderBy('published_code')
        .orderBy('vintage')
        .execute();
      expect(fromWorkbook).toEqual(before);
    });

    it('re-imports the same folder idempotently: same values, still one source per file', async () => {
      const again = await importArcep(database, ARCEP);
      expect(again.imported).toBe(report.imported);
      const figures = await communeFigures(database);
      expect(figures.map(({ source_id, ...rest }) => rest)).toEqual(firstImport.map(({ source_id, ...rest }) => rest));
      const names = (await database.db.selectFrom('source').select('name').where('kind', '=', 'arcep').execute()).map((s) => s.name).sort();
      expect(names).toEqual([...FILES, 'arcep-02-62.xlsx'].sort());
      const published = await database.db.selectFrom('published_value').select((eb) => eb.fn.countAll<number>().as('n')).where('source_id', 'in', [await sourceId(database, 'ftth-epci-02-62.csv'), await sourceId(database, 'ftth-departements-02-62.csv')]).executeTakeFirstOrThrow();
      expect(Number(published.n)).toBe(42 * 3);
    });

    it('imports a single ftth-communes file with the commune table found next to it', async () => {
      const single = await importArcep(database, path.join(ARCEP, 'ftth-communes-02-62.csv'));
      expect(single.notes.join('\n')).toMatch(/from communes-02-62\.csv/);
      const figures = await communeFigures(database);
      expect(figures.map(({ source_id, ...rest }) => rest)).toEqual(firstImport.map(({ source_id, ...rest }) => rest));
      expect(await sourceId(database, 'communes-02-62.csv')).toBeGreaterThan(0);
    });

    it('refuses a single ftth-communes file without its commune table, changing nothing', async () => {
      const dir = tempDir();
      temps.push(dir);
      fs.copyFileSync(path.join(ARCEP, 'ftth-communes-02-62.csv'), path.join(dir, 'ftth-communes-02-62.csv'));
      const before = await snapshot(database);
      await expectImportError(importArcep(database, path.join(dir, 'ftth-communes-02-62.csv')), { file: 'ftth-communes-02-62.csv', message: /needs the commune table .* communes-02-62\.csv/ });
      expect(await snapshot(database)).toBe(before);
    });
  });

  describe('hand-written fixtures', () => {
    it('reads the current layout: any number of quarters, premises from "Meilleure estimation des locaux à date"', async () => {
      const report = await importArcep(database, path.join(FIXTURES, 'arcep-current-layout.csv'));
      // 5 communes × 4 quarters (T3 2024 … T2 2025)
      expect(report).toMatchObject({ read: 5, imported: 20, reconciled: 0, rejected: 0 });
      const source = await database.db.selectFrom('source').selectAll().where('name', '=', 'arcep-current-layout.csv').executeTakeFirstOrThrow();
      expect(source.vintage).toBe('2025-Q2');
      const figures = await communeFigures(database, ['2024-Q3', '2024-Q4', '2025-Q1', '2025-Q2']);
      expect(figures.filter((f) => f.code === '02001').map((f) => [f.vintage, f.numerator, f.denominator])).toEqual([
        ['2024-Q3', 250, 262],
        ['2024-Q4', 252, 262],
        ['2025-Q1', 255, 262],
        ['2025-Q2', 258, 262],
      ]);
      // "-" is 0; U+00A0 thousands separators
      expect(figures.find((f) => f.code === '02002' && f.vintage === '2024-Q3')).toMatchObject({ numerator: 0, denominator: 290, value: 0 });
      expect(figures.find((f) => f.code === '02691' && f.vintage === '2025-Q2')).toMatchObject({ numerator: 32960, denominator: 33150 });
      // the EPCI aggregate knows it misses communes
      const chauny = (await value(database, 'epci', '200071785', '2025-Q2'))!;
      expect(chauny).toMatchObject({ numerator: 258 + 286, denominator: 262 + 290, communes: 2 });
      expect(chauny.communes_expected).toBeGreaterThan(2);
    });

    it('reads a workbook with numeric cells and a sheet that is not a table, as ARCEP publishes it', async () => {
      const csvFigures = await communeFigures(database, ['2024-Q3', '2024-Q4', '2025-Q1', '2025-Q2']);
      const workbook = new ExcelJS.Workbook();
      workbook.addWorksheet('Notice').addRow(['Source : Arcep, observatoire du haut et très haut débit']);
      const sheet = workbook.addWorksheet('Communes');
      for (const cells of parse(fs.readFileSync(path.join(FIXTURES, 'arcep-current-layout.csv'), 'utf8'), { relax_column_count: true }) as string[][]) {
        sheet.addRow(cells.map((cell, column) => (column >= 5 && /^[\d\s\u00a0-]+$/.test(cell) ? count(cell) : cell)));
      }
      const dir = tempDir();
      temps.push(dir);
      const file = path.join(dir, 'deploiements-t2-2025.xlsx');
      await workbook.xlsx.writeFile(file);
      const report = await importArcep(database, file);
      expect(report).toMatchObject({ read: 5, imported: 20 });
      expect(report.notes.join('\n')).toMatch(/skipped: deploiements-t2-2025\.xlsx \[Notice\]/);
      const id = await sourceId(database, 'deploiements-t2-2025.xlsx');
      const figures = await communeFigures(database, ['2024-Q3', '2024-Q4', '2025-Q1', '2025-Q2']);
      expect(figures.every((f) => f.source_id === id)).toBe(true);
      expect(figures.map(({ source_id, ...rest }) => rest)).toEqual(csvFigures.map(({ source_id, ...rest }) => rest));
    });

    it.each([
      ['arcep-ftth-communes-bad-count.csv', 8, 'T4 2017', /expected a count .* found "12a"/],
      ['arcep-ftth-communes-unknown-champ.csv', 7, 'Champ', /expected "Locaux Raccordables" or "Catégorie", found "Locaux raccordés"/],
      ['arcep-ftth-communes-duplicate.csv', 9, 'Code commune', /duplicated row for 02001 \(first at line 6\)/],
      ['arcep-ftth-communes-empty.csv', 6, undefined, /no data rows after the header/],
      ['arcep-communes-missing-column.csv', 5, 'Établissements', /missing column "Établissements"/],
    ])('rejects %s (line %s, column %s) and changes nothing', async (name, line, column, message) => {
      const before = await snapshot(database);
      await expectImportError(importArcep(database, path.join(FIXTURES, name)), { file: name, line, column, message });
      expect(await snapshot(database)).toBe(before);
    });

    it('rejects an empty file and a folder without ARCEP tables', async () => {
      const dir = tempDir();
      temps.push(dir);
      fs.writeFileSync(path.join(dir, 'ftth-communes.csv'), '');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'nothing here\n');
      const before = await snapshot(database);
      await expectImportError(importArcep(database, path.join(dir, 'ftth-communes.csv')), { message: /empty/ });
      await expectImportError(importArcep(database, dir), { file: dir, message: /no ARCEP table in this folder \(found ftth-communes\.csv, notes\.txt\)/ });
      expect(await snapshot(database)).toBe(before);
    });

    it('fails listing every unplaceable commune code, or keeps them aside with --keep-unplaced', async () => {
      const file = path.join(FIXTURES, 'arcep-ftth-communes-unplaced.csv');
      const before = await snapshot(database);
      await expectImportError(importArcep(database, file), { file: 'arcep-ftth-communes-unplaced.csv', line: 8, column: 'Code commune', message: /2 commune code\(s\) .*02999 .*line 8.*62999 .*line 14/ });
      expect(await snapshot(database)).toBe(before);

      const report = await importArcep(database, file, { keepUnplaced: true });
      expect(report).toMatchObject({ rejected: 2, reconciled: 1 });
      expect(report.rejects.map((r) => [r.code, r.line])).toEqual([['02999', 8], ['62999', 14]]);
      const rejects = await database.db.selectFrom('import_reject').select(['code', 'line']).where('source_id', '=', report.sourceId!).orderBy('line').execute();
      expect(rejects).toEqual([{ code: '02999', line: 8 }, { code: '62999', line: 14 }]);
      // 02153 = 02153 (150 of 260 + 10) + 02733 (40 of 70 + 0)
      expect(await value(database, 'commune', '02153', '2018-Q1')).toMatchObject({ numerator: 190, denominator: 340 });

      // a failing re-import of the same source rolls back, its earlier import included
      const kept = await snapshot(database);
      await expectImportError(importArcep(database, file), { message: /02999/ });
      expect(await snapshot(database)).toBe(kept);
    });

    it('notes Catégorie values that disagree with Locaux Raccordables ÷ premises', async () => {
      const report = await importArcep(database, path.join(FIXTURES, 'arcep-ftth-communes-category-mismatch.csv'));
      expect(report.notes.join('\n')).toMatch(/Catégorie disagrees .* for 1 of 6 values: 02002 T1 2018: Catégorie 25, ratio 95\.5 %/);
    });
  });
});
