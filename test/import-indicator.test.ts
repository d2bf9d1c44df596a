import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAllAggregates } from '../server/analysis/aggregate.ts';
import type { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { ImportError } from '../server/import/errors.ts';
import { importHierarchy } from '../server/import/hierarchy.ts';
import { importIndicator, type IndicatorOptions } from '../server/import/indicator.ts';
import { parseLocaleNumber } from '../server/import/readers/numbers.ts';
import { datesToVintages, parseVintageCell } from '../server/import/readers/vintage.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared/data');
const hasShared = fs.existsSync(SHARED);
if (!hasShared && process.env.CI) throw new Error(`the shared data sets are missing (${SHARED}): CI must run the real-data import tests`);
if (!hasShared) console.warn(`skipping real-data indicator imports: ${SHARED} not found`);

const fixture = (name: string) => path.resolve(import.meta.dirname, 'fixtures', name);
const usage = (name: string) => path.join(SHARED, 'usage', name);

async function valueOf(database: Database, indicator: string, level: string, code: string, vintage?: string) {
  let query = database.db
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .select(['v.vintage', 'v.value', 'v.numerator', 'v.denominator', 'v.communes', 'v.partial', 'v.source_id'])
    .where('v.indicator_id', '=', indicator)
    .where('t.level', '=', level)
    .where('t.code', '=', code);
  if (vintage) query = query.where('v.vintage', '=', vintage);
  return query.orderBy('v.vintage').execute();
}

/** Everything an indicator import may write, to compare before and after a failed import. */
async function snapshot(database: Database) {
  const { db } = database;
  return JSON.stringify([
    await db.selectFrom('source').select(['id', 'kind', 'name', 'vintage', 'rows']).orderBy('id').execute(),
    await db.selectFrom('indicator').selectAll().orderBy('id').execute(),
    await db.selectFrom('indicator_value').selectAll().orderBy('indicator_id').orderBy('territory_id').orderBy('vintage').execute(),
    await db.selectFrom('import_reject').selectAll().orderBy('id').execute(),
    await db.selectFrom('data_version').select('version').execute(),
  ]);
}

/** Runs a failing import and returns its error, checking that the database did not change. */
async function failure(database: Database, file: string, options: IndicatorOptions): Promise<ImportError> {
  const before = await snapshot(database);
  const error = await importIndicator(database, file, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportError);
  expect(await snapshot(database)).toBe(before);
  return error as ImportError;
}

describe('cells of French open data files', () => {
  it('reads numbers with a decimal comma or point and any space as thousands separator', () => {
    expect(parseLocaleNumber('18,7')).toBe(18.7);
    expect(parseLocaleNumber('3\u202f346')).toBe(3346);
    expect(parseLocaleNumber(' 1\u00a0234    ')).toBe(1234);
    expect(parseLocaleNumber('1.234,5')).toBe(1234.5);
    expect(parseLocaleNumber('1,234.5')).toBe(1234.5);
    expect(parseLocaleNumber('-0.25')).toBe(-0.25);
    expect(parseLocaleNumber('1,2,3')).toBeNull();
    expect(parseLocaleNumber('n/c')).toBeNull();
  });

  it('reads vintages, quarters and dates', () => {
    expect(parseVintageCell('2019')).toEqual({ vintage: '2019' });
    expect(parseVintageCell('T1 2018')).toEqual({ vintage: '2018-Q1' });
    expect(parseVintageCell('2018-T3')).toEqual({ vintage: '2018-Q3' });
    expect(parseVintageCell('31/03/2018')).toEqual({ date: { year: 2018, month: 3, day: 31 } });
    expect(parseVintageCell('2018-02-30')).toBeNull();
    const quarterEnds = [{ year: 2017, month: 12, day: 31 }, { year: 2018, month: 3, day: 31 }];
    expect(datesToVintages(quarterEnds)).toEqual(['2017-Q4', '2018-Q1']);
    expect(datesToVintages([...quarterEnds, { year: 2018, month: 4, day: 30 }])).toEqual(['2017-12', '2018-03', '2018-04']);
  });
});

describe.each(backends())('import indicator on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openEmptyDatabase(backend);
    await migrate(database);
    await importHierarchy(database);
  });
  afterAll(() => database?.close());

  const quirks: IndicatorOptions = {
    id: 'fibre_test',
    level: 'commune',
    codeColumn: 'code_insee',
    numeratorColumn: 'raccordables',
    denominatorColumn: 'locaux',
    vintage: '2018-Q1',
    theme: 'infrastructure',
  };

  it('reads a semicolon CSV with BOM, CRLF, spaces as thousands separators and lost leading zeros; folds a merged commune', async () => {
    const report = await importIndicator(database, fixture('indicator-commune-quirks.csv'), quirks);
    expect(report).toMatchObject({ read: 5, imported: 3, reconciled: 1, rejected: 0 });
    // 2553 → 02553: 120 / 200
    expect(await valueOf(database, 'fibre_test', 'commune', '02553')).toMatchObject([{ value: 0.6, numerator: 120, denominator: 200 }]);
    // "12 345" (U+00A0) / "15 000" (U+202F)
    expect(await valueOf(database, 'fibre_test', 'commune', '02408')).toMatchObject([{ value: 12345 / 15000, numerator: 12345, denominator: 15000 }]);
    // 02733 (Suzy) merged into 02153 (Cessières-Suzy): counts summed, (10 + 30) / (40 + 60)
    expect(await valueOf(database, 'fibre_test', 'commune', '02153')).toMatchObject([{ value: 0.4, numerator: 40, denominator: 100 }]);
    // Arras: NA → skipped
    expect(await valueOf(database, 'fibre_test', 'commune', '62041')).toEqual([]);
    expect(report.notes.join('\n')).toMatch(/1 rows with a missing value/);
  });

  it('recomputes the coarser levels of a commune indicator as ratios of sums', async () => {
    // CA du Pays de Laon (200043495) holds Laon and Cessières-Suzy: (12345 + 40) / (15000 + 100)
    const [epci] = await valueOf(database, 'fibre_test', 'epci', '200043495');
    expect(epci).toMatchObject({ numerator: 12385, denominator: 15100, communes: 2, partial: true, source_id: null });
    expect(epci!.value).toBeCloseTo(12385 / 15100, 12);
    const catalogue = await database.db.selectFrom('indicator').selectAll().where('id', '=', 'fibre_test').executeTakeFirstOrThrow();
    expect(catalogue).toMatchObject({ theme: 'infrastructure', unit: 'ratio', aggregation: 'ratio_of_sums', label_fr: 'fibre_test', higher_is_better: true });
  });

  it('stores percentages as ratios and folds values of merged communes as the mean of their rows', async () => {
    const options: IndicatorOptions = { id: 'taux_test', level: 'commune', codeColumn: 'code_insee', valueColumn: 'taux', vintage: '2018', theme: 'infrastructure', percent: true, labelFr: 'Taux', higherIsBetter: true };
    await importIndicator(database, fixture('indicator-commune-quirks.csv'), options);
    // "82,3" % → 0.823
    expect((await valueOf(database, 'taux_test', 'commune', '02408'))[0]!.value).toBeCloseTo(0.823, 12);
    // (25 % + 50 %) / 2
    expect((await valueOf(database, 'taux_test', 'commune', '02153'))[0]!.value).toBeCloseTo(0.375, 12);
    const catalogue = await database.db.selectFrom('indicator').selectAll().where('id', '=', 'taux_test').executeTakeFirstOrThrow();
    expect(catalogue).toMatchObject({ unit: 'ratio', aggregation: 'population_weighted_mean', label_fr: 'Taux', label_en: 'Taux' });
  });

  it('turns dates into quarters when every date is a quarter end, into months otherwise; pads département codes', async () => {
    const long = { level: 'departement', codeColumn: 'code_departement', valueColumn: 'valeur', vintageColumn: 'date', theme: 'infrastructure' } as const;
    const fibre = await importIndicator(database, fixture('indicator-long-dates.csv'), { ...long, id: 'fibre_dates', filters: ['id_indicateur=fibre'], percent: true });
    expect(fibre).toMatchObject({ read: 6, imported: 3 });
    expect((await valueOf(database, 'fibre_dates', 'departement', '02')).map((v) => [v.vintage, v.value])).toEqual([
      ['2017-Q4', 0.2],
      ['2018-Q1', 0.24],
    ]);
    await importIndicator(database, fixture('indicator-long-dates.csv'), { ...long, id: 'services_dates', filters: ['id_indicateur=services'], unit: 'count' });
    // 2020-01-31 and 2020-02-29: 2020-02-29 is no quarter end, so the series is monthly
    expect((await valueOf(database, 'services_dates', 'departement', '02')).map((v) => [v.vintage, v.value])).toEqual([
      ['2020-01', 4],
      ['2020-02', 5],
    ]);
    expect(await database.db.selectFrom('indicator').select('aggregation').where('id', '=', 'services_dates').executeTakeFirst()).toEqual({ aggregation: 'sum' });
  });

  describe('malformed inputs fail naming file, line and column, and change nothing', () => {
    const plain: IndicatorOptions = { id: 'bad_input', level: 'commune', codeColumn: 'code', valueColumn: 'valeur', vintage: '2019', theme: 'e-sante' };

    it('a missing column', async () => {
      const error = await failure(database, fixture('indicator-commune-quirks.csv'), { ...quirks, numeratorColumn: 'raccordable' });
      expect(error.location).toEqual({ file: 'indicator-commune-quirks.csv', line: 1, column: 'raccordable' });
      expect(error.message).toMatch(/missing column "raccordable".*"raccordables"/);
    });

    it('a value that is not a number', async () => {
      const error = await failure(database, fixture('indicator-non-numeric.csv'), plain);
      expect(error.location).toEqual({ file: 'indicator-non-numeric.csv', line: 3, column: 'valeur' });
      expect(error.message).toMatch(/expected a number, found "abc"/);
    });

    it('a value that is not a number, in JSON, by the line its object starts on', async () => {
      const error = await failure(database, fixture('indicator-epci-bad-value.json'), { ...plain, level: 'epci', codeColumn: 'Code EPCI', valueColumn: 'Taux (en %)', percent: true });
      expect(error.location).toEqual({ file: 'indicator-epci-bad-value.json', line: 6, column: 'Taux (en %)' });
    });

    it('an unknown commune code, unless --keep-unplaced', async () => {
      const error = await failure(database, fixture('indicator-unknown-commune.csv'), plain);
      expect(error.location).toEqual({ file: 'indicator-unknown-commune.csv', line: 3, column: 'code' });
      expect(error.message).toMatch(/99999 \(line 3\).*--keep-unplaced/);
      const report = await importIndicator(database, fixture('indicator-unknown-commune.csv'), { ...plain, keepUnplaced: true });
      expect(report).toMatchObject({ imported: 2, rejected: 1, rejects: [{ line: 3, code: '99999' }] });
      const rejects = await database.db.selectFrom('import_reject').select(['line', 'code']).where('source_id', '=', report.sourceId!).execute();
      expect(rejects).toEqual([{ line: 3, code: '99999' }]);
    });

    it('an empty file', async () => {
      const error = await failure(database, fixture('indicator-empty.csv'), plain);
      expect(error.message).toMatch(/indicator-empty\.csv.*empty/);
    });

    it('an unknown theme', async () => {
      const error = await failure(database, fixture('indicator-non-numeric.csv'), { ...plain, theme: 'sport' });
      expect(error.message).toMatch(/unknown theme "sport".*mediation-numerique/);
    });

    it('a bad vintage, given or in a column', async () => {
      expect((await failure(database, fixture('indicator-unknown-commune.csv'), { ...plain, vintage: '2019-13' })).message).toMatch(/--vintage must be YYYY, YYYY-Qn or YYYY-MM, got "2019-13"/);
      const error = await failure(database, fixture('indicator-bad-date.csv'), { ...plain, vintage: undefined, vintageColumn: 'date' });
      expect(error.location).toEqual({ file: 'indicator-bad-date.csv', line: 3, column: 'date' });
      expect(error.message).toMatch(/found "2019-13-31"/);
    });

    it('percentages imported as a ratio', async () => {
      const error = await failure(database, fixture('indicator-commune-quirks.csv'), { ...plain, codeColumn: 'code_insee', valueColumn: 'taux' });
      expect(error.location).toMatchObject({ line: 3, column: 'taux' });
      expect(error.message).toMatch(/found 82\.3 for a ratio.*--percent/);
    });
  });

  describe.skipIf(!hasShared)('real data (shared/data/usage)', () => {
    it('averages the IFN IRIS scores per current commune (semicolon, CRLF, lost zeros, COG 2019/2020)', async () => {
      const report = await importIndicator(database, usage('indice-fragilite-numerique-iris-02-62.csv'), {
        id: 'ifn_global',
        level: 'iris',
        codeColumn: 'Code Iris',
        valueColumn: 'SCORE GLOBAL region 1',
        vintage: '2020',
        theme: 'mediation-numerique',
        aggregateTo: 'commune',
        nullValues: ['0'],
        unit: 'index',
        higherIsBetter: false,
      });
      // 2,035 IRIS rows; 62461, 62549, 62743 → 62447 and 02077 → 02564, 02311 → 02589, 02695 → 02054
      expect(report).toMatchObject({ read: 2035, reconciled: 6, rejected: 0 });
      const perDepartement = await database.db
        .selectFrom('indicator_value as v')
        .innerJoin('territory as t', 't.id', 'v.territory_id')
        .select((eb) => [eb.fn<string>('left', ['t.code', eb.val(2)]).as('dep'), eb.fn.countAll<number>().as('communes')])
        .where('v.indicator_id', '=', 'ifn_global')
        .where('t.level', '=', 'commune')
        .groupBy('dep')
        .orderBy('dep')
        .execute();
      // every current commune of 02 (797) and 62 (887), SOURCES.md
      expect(perDepartement.map((r) => [r.dep, Number(r.communes)])).toEqual([
        ['02', 797],
        ['62', 887],
      ]);
      expect(report.imported).toBe(797 + 887);

      // independent computation from the raw file: the mean of a commune's IRIS scores
      const lines = fs.readFileSync(usage('indice-fragilite-numerique-iris-02-62.csv'), 'utf8').split('\r\n').filter(Boolean);
      const header = lines[0]!.split(';');
      const raw = lines.slice(1).map((l) => l.split(';')).map((c) => ({ commune: c[header.indexOf('Code Iris')]!.padStart(9, '0').slice(0, 5), score: Number(c[header.indexOf('SCORE GLOBAL region 1')]) }));
      const mean = (communes: string[]) => {
        const scores = raw.filter((r) => communes.includes(r.commune)).map((r) => r.score);
        return { n: scores.length, mean: scores.reduce((a, b) => a + b, 0) / scores.length };
      };
      const laon = mean(['02408']);
      expect(laon.n).toBe(12);
      expect((await valueOf(database, 'ifn_global', 'commune', '02408'))[0]!.value).toBeCloseTo(laon.mean, 9);
      // Hesdin-la-Forêt 62447 absorbed 62461, 62549 and 62743 (SOURCES.md): the mean of all their rows
      const hesdin = mean(['62447', '62461', '62549', '62743']);
      expect(hesdin.n).toBeGreaterThanOrEqual(4);
      expect((await valueOf(database, 'ifn_global', 'commune', '62447'))[0]!.value).toBeCloseTo(hesdin.mean, 9);
      // an index around 100 (the region's reference); the département aggregate is population-weighted
      const [aisne] = await valueOf(database, 'ifn_global', 'departement', '02');
      expect(aisne!.value).toBeGreaterThan(90);
      expect(aisne!.value).toBeLessThan(110);
    });

    const illectronisme: IndicatorOptions = {
      id: 'illectronisme',
      level: 'epci',
      codeColumn: 'Code EPCI',
      valueColumn: 'Taux (en %)',
      percent: true,
      vintage: '2019',
      theme: 'mediation-numerique',
      higherIsBetter: false,
      publisher: 'INSEE Hauts-de-France',
    };

    it('stores INSEE illectronisme per EPCI as published; the former CA du Calaisis fails unless kept aside', async () => {
      const error = await failure(database, usage('illectronisme-insee-epci-02-62.json'), illectronisme);
      expect(error.message).toMatch(/1 code not found among the epci territories of the database: 246201149 \(line \d+\)/);
      const report = await importIndicator(database, usage('illectronisme-insee-epci-02-62.json'), { ...illectronisme, keepUnplaced: true });
      expect(report).toMatchObject({ read: 40, imported: 39, rejected: 1, rejects: [{ code: '246201149' }] });
      // "18,7", "15,8", "20,0" in the file
      expect((await valueOf(database, 'illectronisme', 'epci', '200018083'))[0]!.value).toBeCloseTo(0.187, 12);
      expect((await valueOf(database, 'illectronisme', 'epci', '200033579'))[0]!.value).toBeCloseTo(0.158, 12);
      expect((await valueOf(database, 'illectronisme', 'epci', '200035442'))[0]!.value).toBeCloseTo(0.2, 12);
    });

    it('keeps imported EPCI figures when aggregates are recomputed, and computes none above them', async () => {
      await recomputeAllAggregates(database.db);
      expect((await valueOf(database, 'illectronisme', 'epci', '200018083'))[0]!.value).toBeCloseTo(0.187, 12);
      const levels = await database.db
        .selectFrom('indicator_value as v')
        .innerJoin('territory as t', 't.id', 'v.territory_id')
        .select(['t.level', (eb) => eb.fn.countAll<number>().as('n')])
        .where('v.indicator_id', '=', 'illectronisme')
        .groupBy('t.level')
        .execute();
      expect(levels.map((l) => [l.level, Number(l.n)])).toEqual([['epci', 39]]);
    });

    it('refuses to mix commune values and a publisher’s coarser figures in one indicator', async () => {
      const error = await failure(database, usage('illectronisme-insee-epci-02-62.json'), { ...illectronisme, id: 'ifn_global', keepUnplaced: true });
      expect(error.message).toMatch(/already has commune values/);
    });

    it('reads the Baromètre long format: fibre deployment per département and quarter', async () => {
      const options: IndicatorOptions = {
        id: 'fibre_barometre',
        level: 'departement',
        codeColumn: 'code_departement',
        valueColumn: 'valeur',
        vintageColumn: 'date',
        percent: true,
        filters: ['id_indicateur=taux-deploiement-fibre'],
        theme: 'infrastructure',
        licence: 'Licence Ouverte 2.0',
      };
      const report = await importIndicator(database, usage('barometre-numerique-departements-02-62.csv'), options);
      expect(report).toMatchObject({ read: 211, imported: 40 });
      // 24 % and 18 % on 2018-03-31 (SOURCES.md, section 2)
      expect((await valueOf(database, 'fibre_barometre', 'departement', '02', '2018-Q1'))[0]!.value).toBeCloseTo(0.24, 12);
      expect((await valueOf(database, 'fibre_barometre', 'departement', '62', '2018-Q1'))[0]!.value).toBeCloseTo(0.18, 12);
      expect((await valueOf(database, 'fibre_barometre', 'departement', '02')).map((v) => v.vintage)).toHaveLength(20);
      // a time series replaces its previous import
      await importIndicator(database, usage('barometre-numerique-departements-02-62.csv'), options);
      const sources = await database.db.selectFrom('source').select(['vintage', 'rows']).where('name', '=', 'fibre_barometre:barometre-numerique-departements-02-62.csv').execute();
      expect(sources).toEqual([{ vintage: '2017-Q4/2022-Q3', rows: 40 }]);
    });
  });
});
