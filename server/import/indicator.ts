import path from 'node:path';
import type { Kysely, Transaction } from 'kysely';
import { runNamedQuery, type Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { createCommunePlacer, padCode } from './cog.ts';
import { ImportError } from './errors.ts';
import { silentProgress, type Progress } from './progress.ts';
import { createNullTest, DEFAULT_NULL_VALUES, parseLocaleNumber } from './readers/numbers.ts';
import { openTable, resolveColumn } from './readers/table.ts';
import { datesToVintages, parseVintageCell, VINTAGE_PATTERN } from './readers/vintage.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { runImport } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export type IndicatorUnit = 'ratio' | 'index' | 'count';

export interface IndicatorOptions {
  id: string;
  /** commune, iris (with aggregateTo commune), or a coarser level of the hierarchy (epci, departement, region…). */
  level: string;
  codeColumn: string;
  valueColumn?: string;
  numeratorColumn?: string;
  denominatorColumn?: string;
  vintage?: string;
  vintageColumn?: string;
  theme: string;
  /** `COLUMN=VALUE`, all must hold (long format: one row per indicator and date). */
  filters?: string[];
  aggregateTo?: 'commune';
  /** Cells meaning "missing" besides empty ones; replaces DEFAULT_NULL_VALUES. */
  nullValues?: string[];
  labelFr?: string;
  labelEn?: string;
  unit?: IndicatorUnit;
  publisher?: string;
  licence?: string;
  higherIsBetter?: boolean;
  /** Import what can be placed and record the rest as rejects, instead of failing. */
  keepUnplaced?: boolean;
  /** Values are percentages: stored divided by 100, as a ratio. */
  percent?: boolean;
}

/** One input row, parsed. */
interface InputRow {
  line: number;
  code: string;
  vintage: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

interface OutputValue {
  code: string;
  level: string;
  vintage: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
}

const UNITS: IndicatorUnit[] = ['ratio', 'index', 'count'];
const BATCH = 5000;

/**
 * Imports one indicator from a CSV or a JSON array, wide (one row per territory) or long (rows selected with
 * filters), at commune level, IRIS level averaged per commune, or a coarser level (the publisher's own figures,
 * stored as they are). Creates or updates the indicator's catalogue row. One transaction.
 */
export async function importIndicator(database: Database, file: string, options: IndicatorOptions, progress: Progress = silentProgress): Promise<ImportReport> {
  const fileName = path.basename(file);
  checkOptions(fileName, options);
  checkInputFile(file);
  const report = emptyReport('import indicator', fileName);
  // theme and level first: a wrong option is reported before the file is read
  const { isBase, targetLevel } = await checkThemeAndLevel(database.db, fileName, options);
  const rows = await readRows(file, options, report);
  progress.tick(rows.length);
  if ((options.unit ?? 'ratio') === 'ratio' && !options.percent && !options.numeratorColumn) {
    const largest = rows.reduce<InputRow | null>((max, row) => (row.value !== null && (max === null || row.value > max.value!) ? row : max), null);
    // ARCEP ratios may exceed 1 a little; 10 times is a percentage or an index
    if (largest && largest.value! > 10) {
      throw new ImportError(
        { file: fileName, line: largest.line, column: options.valueColumn },
        `found ${largest.value} for a ratio (unit ratio, a share in [0, 1]): pass --percent if the values are percentages, or --unit index|count`,
      );
    }
  }
  const vintages = [...new Set(rows.map((r) => r.vintage))].sort(compareVintages);
  const name = `${options.id}:${fileName}`;
  const aggregation = options.numeratorColumn ? 'ratio_of_sums' : options.unit === 'count' ? 'sum' : 'population_weighted_mean';

  try {
    return await runImport(
      database,
      {
        kind: 'indicator',
        name,
        fileName,
        sha256: await sha256File(file),
        vintage: options.vintage ?? (vintages.length === 1 ? vintages[0]! : `${vintages[0]}/${vintages.at(-1)}`),
        publisher: options.publisher ?? null,
        licence: options.licence ?? null,
      },
      report,
      async ({ trx, sourceId, touchedIndicators }) => {
        if (options.vintageColumn) {
          // a time series supersedes earlier imports of the same file for the same indicator, whatever their range
          await trx.deleteFrom('source').where('kind', '=', 'indicator').where('name', '=', name).where('id', '!=', sourceId).execute();
        }
        await checkNoMixedLevels(trx, fileName, options.id, isBase);

        await trx
          .insertInto('indicator')
          .values({
            id: options.id,
            label_fr: options.labelFr ?? options.id,
            label_en: options.labelEn ?? options.labelFr ?? options.id,
            theme: options.theme,
            unit: options.unit ?? 'ratio',
            description_fr: null,
            description_en: null,
            higher_is_better: options.higherIsBetter ?? true,
            aggregation,
            publisher: options.publisher ?? null,
            licence: options.licence ?? null,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              theme: options.theme,
              unit: options.unit ?? 'ratio',
              aggregation,
              ...(options.labelFr !== undefined && { label_fr: options.labelFr }),
              ...(options.labelEn !== undefined && { label_en: options.labelEn }),
              ...(options.higherIsBetter !== undefined && { higher_is_better: options.higherIsBetter }),
              ...(options.publisher !== undefined && { publisher: options.publisher }),
              ...(options.licence !== undefined && { licence: options.licence }),
            }),
          )
          .execute();

        const present = new Set((await trx.selectFrom('territory').select('code').where('level', '=', targetLevel).execute()).map((t) => t.code));
        const values = placeAndFold(fileName, options, rows, present, isBase, targetLevel, report);
        for (let start = 0; start < values.length; start += BATCH) {
          await runNamedQuery(trx, namedQuery('upsert_indicator_values'), [options.id, JSON.stringify(values.slice(start, start + BATCH)), sourceId]);
        }
        report.imported = values.length;
        report.notes.push(
          `${options.id}: ${values.length} values for ${new Set(values.map((v) => v.code)).size} ${targetLevel} territories, vintage${vintages.length > 1 ? `s ${vintages[0]} to ${vintages.at(-1)} (${vintages.length})` : ` ${vintages[0]}`}; ` +
            (isBase ? `coarser levels aggregated as ${aggregation.replace(/_/g, ' ')}` : 'stored as published (no aggregate is computed above them)'),
        );
        if (isBase) touchedIndicators.add(options.id);
      },
    );
  } finally {
    progress.done();
  }
}

async function checkThemeAndLevel(db: Kysely<DB>, fileName: string, options: IndicatorOptions): Promise<{ isBase: boolean; targetLevel: string }> {
  const theme = await db.selectFrom('theme').select('id').where('id', '=', options.theme).executeTakeFirst();
  if (!theme) {
    const themes = (await db.selectFrom('theme').select('id').orderBy('position').execute()).map((t) => t.id);
    throw new ImportError({ file: fileName }, `unknown theme "${options.theme}" (--theme); expected one of ${themes.join(', ')}`);
  }
  const targetLevel = options.level === 'iris' ? 'commune' : options.level;
  const level = await db.selectFrom('level').select(['id', 'rank']).where('id', '=', targetLevel).executeTakeFirst();
  if (!level) {
    const levels = (await db.selectFrom('level').select('id').orderBy('rank').execute()).map((l) => l.id);
    throw new ImportError({ file: fileName }, `unknown level "${options.level}" (--level); expected iris or one of ${levels.join(', ')}`);
  }
  return { isBase: level.rank === 0, targetLevel };
}

function checkOptions(fileName: string, options: IndicatorOptions): void {
  const fail = (problem: string) => {
    throw new ImportError({ file: fileName }, problem);
  };
  if (!/^[a-z][a-z0-9_]*$/.test(options.id)) fail(`--id must be lower-case letters, digits and _ starting with a letter, got "${options.id}"`);
  const counts = options.numeratorColumn !== undefined || options.denominatorColumn !== undefined;
  if (counts && (options.numeratorColumn === undefined || options.denominatorColumn === undefined)) fail('--numerator-column and --denominator-column go together');
  if (counts === (options.valueColumn !== undefined)) fail('give either --value-column, or --numerator-column and --denominator-column');
  if ((options.vintage === undefined) === (options.vintageColumn === undefined)) fail('give either --vintage or --vintage-column');
  if (options.vintage !== undefined && !VINTAGE_PATTERN.test(options.vintage)) fail(`--vintage must be YYYY, YYYY-Qn or YYYY-MM, got "${options.vintage}"`);
  if (options.unit !== undefined && !UNITS.includes(options.unit)) fail(`--unit must be one of ${UNITS.join(', ')}, got "${options.unit}"`);
  if (options.percent && counts) fail('--percent applies to --value-column; numerator and denominator are counts');
  if (options.percent && options.unit !== undefined && options.unit !== 'ratio') fail(`--percent stores a ratio; it cannot go with --unit ${options.unit}`);
  if (options.level === 'iris' && options.aggregateTo !== 'commune') fail('IRIS values are stored per commune: add --aggregate-to commune');
  if (options.aggregateTo !== undefined && options.level !== 'iris') fail(`--aggregate-to commune applies to --level iris, not --level ${options.level}`);
  for (const filter of options.filters ?? []) if (!/^[^=]+=/.test(filter)) fail(`--filter must be COLUMN=VALUE, got "${filter}"`);
}

/** Reads and parses the selected rows; cells are checked here, codes are placed later (inside the transaction). */
async function readRows(file: string, options: IndicatorOptions, report: ImportReport): Promise<InputRow[]> {
  const table = await openTable(file);
  const { fileName } = table;
  const column = (name: string, option: string) => ({ name, index: resolveColumn(table, name, option) });
  const code = column(options.codeColumn, '--code-column');
  const value = options.valueColumn !== undefined ? column(options.valueColumn, '--value-column') : null;
  const numerator = options.numeratorColumn !== undefined ? column(options.numeratorColumn, '--numerator-column') : null;
  const denominator = options.denominatorColumn !== undefined ? column(options.denominatorColumn, '--denominator-column') : null;
  const vintage = options.vintageColumn !== undefined ? column(options.vintageColumn, '--vintage-column') : null;
  const filters = (options.filters ?? []).map((filter) => {
    const at = filter.indexOf('=');
    return { ...column(filter.slice(0, at), '--filter'), expected: filter.slice(at + 1) };
  });
  const isNull = createNullTest(options.nullValues ?? DEFAULT_NULL_VALUES);
  const pad = codePadding(options.level);

  const rows: InputRow[] = [];
  const dated: { row: InputRow; date: { year: number; month: number; day: number } }[] = [];
  const seenFilterValues = new Set<string>();
  let nulls = 0;
  for await (const { line, cells } of table.rows) {
    report.read += 1;
    const cell = (index: number) => cells[index] ?? null;
    const text = (index: number) => String(cell(index) ?? '').trim();
    if (filters.some((f) => text(f.index) !== f.expected)) {
      if (filters.length) seenFilterValues.add(filters.map((f) => text(f.index)).join(', '));
      continue;
    }
    const number = (col: { name: string; index: number } | null): number | null => {
      if (col === null || isNull(cell(col.index))) return null;
      const raw = cell(col.index)!;
      const parsed = parseLocaleNumber(options.percent && typeof raw === 'string' ? raw.replace(/%\s*$/, '') : raw);
      if (parsed === null) throw new ImportError({ file: fileName, line, column: col.name }, `expected a number, found "${raw}"`);
      return parsed;
    };
    const codeText = text(code.index);
    if (codeText === '') throw new ImportError({ file: fileName, line, column: code.name }, `expected a ${options.level} code, found an empty cell`);
    const row: InputRow = { line, code: pad(codeText), vintage: options.vintage ?? '', value: number(value), numerator: number(numerator), denominator: number(denominator) };
    if (value ? row.value === null : row.numerator === null || row.denominator === null) {
      nulls += 1;
      continue;
    }
    if (options.percent && row.value !== null) row.value /= 100;
    if (vintage) {
      const parsed = parseVintageCell(text(vintage.index));
      if (!parsed) throw new ImportError({ file: fileName, line, column: vintage.name }, `expected a vintage (YYYY, YYYY-Qn, YYYY-MM) or a date (YYYY-MM-DD), found "${text(vintage.index)}"`);
      if ('vintage' in parsed) row.vintage = parsed.vintage;
      else dated.push({ row, date: parsed.date });
    }
    rows.push(row);
  }
  const converted = datesToVintages(dated.map((d) => d.date));
  dated.forEach((d, i) => (d.row.vintage = converted[i]!));

  if (report.read === 0) throw new ImportError({ file: fileName }, 'no data rows after the header');
  if (filters.length && rows.length + nulls === 0) {
    const found = [...seenFilterValues].slice(0, 8).map((v) => `"${v}"`).join('; ');
    throw new ImportError({ file: fileName, column: filters.map((f) => f.name).join(', ') }, `no row matches --filter ${options.filters!.join(' --filter ')}; values found: ${found}`);
  }
  if (rows.length === 0) throw new ImportError({ file: fileName }, `every selected row (${nulls}) has a missing value`);
  if (filters.length) report.notes.push(`${rows.length + nulls} of ${report.read} rows match --filter ${options.filters!.join(' --filter ')}`);
  if (nulls) report.notes.push(`${nulls} rows with a missing value (empty or ${(options.nullValues ?? DEFAULT_NULL_VALUES).join(', ')}) skipped`);
  return rows;
}

/**
 * Codes lose their leading zeros in spreadsheets: communes pad to 5 (2553 → 02553), IRIS to 9,
 * départements and régions to 2 (2 → 02). Only all-digit codes are padded (2A stays).
 */
function codePadding(level: string): (code: string) => string {
  if (level === 'commune') return (code) => padCode(code, 5);
  if (level === 'iris') return (code) => padCode(code, 9);
  if (level === 'departement' || level === 'region') return (code) => (/^\d$/.test(code) ? `0${code}` : code);
  return (code) => code;
}

/**
 * Places each row on a territory of the database and folds rows landing on the same territory and vintage:
 * IRIS rows into their commune, older commune codes into the current commune. Counts are summed; values of
 * a count indicator are summed; other values take the mean of the rows (row-weighted: neither IRIS nor
 * former communes have a population in the database).
 */
function placeAndFold(
  fileName: string,
  options: IndicatorOptions,
  rows: InputRow[],
  present: ReadonlySet<string>,
  isBase: boolean,
  level: string,
  report: ImportReport,
): OutputValue[] {
  const placer = isBase ? createCommunePlacer(present) : (code: string) => (present.has(code) ? { code, reconciled: false } : null);
  const groups = new Map<string, InputRow[]>();
  const firstLine = new Map<string, number>();
  const unplaced: InputRow[] = [];
  for (const row of rows) {
    const key = `${row.code}\u0000${row.vintage}`;
    const previous = firstLine.get(key);
    if (previous !== undefined) {
      throw new ImportError({ file: fileName, line: row.line, column: options.codeColumn }, `${row.code} appears twice for vintage ${row.vintage} (lines ${previous} and ${row.line}); use --filter to select one row per territory`);
    }
    firstLine.set(key, row.line);
    let communeCode = row.code;
    if (options.level === 'iris') {
      if (!/^\d[\dAB]\d{7}$/.test(row.code)) throw new ImportError({ file: fileName, line: row.line, column: options.codeColumn }, `expected a 9-character IRIS code (commune code + 4 digits), found "${row.code}"`);
      communeCode = row.code.slice(0, 5);
    }
    const placement = placer(communeCode);
    if (!placement) {
      unplaced.push(row);
      continue;
    }
    if (placement.reconciled) report.reconciled += 1;
    const target = `${placement.code}\u0000${row.vintage}`;
    const group = groups.get(target);
    if (group) group.push(row);
    else groups.set(target, [row]);
  }
  if (unplaced.length && !options.keepUnplaced) {
    const listed = unplaced.slice(0, 10).map((r) => `${r.code} (line ${r.line})`).join(', ');
    throw new ImportError(
      { file: fileName, line: unplaced[0]!.line, column: options.codeColumn },
      `${unplaced.length} code${unplaced.length > 1 ? 's' : ''} not found among the ${level} territories of the database: ${listed}${unplaced.length > 10 ? ', …' : ''}; ` +
        'import the hierarchy of their vintage first, or pass --keep-unplaced to import the others and record these as rejects',
    );
  }
  for (const row of unplaced) report.rejects.push({ line: row.line, code: row.code, reason: `not found among the ${level} territories of the database` });
  report.rejected = unplaced.length;

  const sum = (values: (number | null)[]) => values.reduce<number>((total, v) => total + v!, 0);
  const folded: OutputValue[] = [];
  for (const [key, group] of groups) {
    const [code, vintage] = key.split('\u0000') as [string, string];
    const value = options.numeratorColumn ? null : options.unit === 'count' ? sum(group.map((r) => r.value)) : sum(group.map((r) => r.value)) / group.length;
    const numerator = options.numeratorColumn ? sum(group.map((r) => r.numerator)) : null;
    const denominator = options.numeratorColumn ? sum(group.map((r) => r.denominator)) : null;
    folded.push({ code, level, vintage, value, numerator, denominator });
  }
  if (options.level === 'iris') report.notes.push(`${rows.length - unplaced.length} IRIS rows averaged into ${folded.length} commune values (mean of the IRIS with a value)`);
  return folded.sort((a, b) => a.code.localeCompare(b.code) || compareVintages(a.vintage, b.vintage));
}

/**
 * An indicator is either computed from commune values (its coarser levels are aggregates) or published at a
 * coarser level (those figures are kept as they are): mixing both would let aggregation and the publisher's
 * figures overwrite each other.
 */
async function checkNoMixedLevels(trx: Transaction<DB>, fileName: string, id: string, isBase: boolean): Promise<void> {
  const other = await trx
    .selectFrom('indicator_value as v')
    .innerJoin('territory as t', 't.id', 'v.territory_id')
    .innerJoin('level as l', 'l.id', 't.level')
    .innerJoin('source as s', 's.id', 'v.source_id')
    .select(['t.level', 's.file_name', 's.name'])
    .where('v.indicator_id', '=', id)
    .where('l.rank', isBase ? '>' : '=', 0)
    .limit(1)
    .executeTakeFirst();
  if (other) {
    throw new ImportError(
      { file: fileName },
      `indicator "${id}" already has ${other.level} values imported from ${other.file_name ?? other.name}: ` +
        `${isBase ? 'commune values would be aggregated over them' : 'its coarser levels are aggregated from communes'}; import these under another --id`,
    );
  }
}

/** Orders vintages by the end of their period (2019-Q3 before 2019), then by text. */
function compareVintages(a: string, b: string): number {
  const end = (v: string) => {
    const year = Number(v.slice(0, 4));
    const month = v.length === 4 ? 12 : v[5] === 'Q' ? Number(v[6]) * 3 : Number(v.slice(5, 7));
    return year * 12 + month;
  };
  return end(a) - end(b) || a.localeCompare(b);
}
