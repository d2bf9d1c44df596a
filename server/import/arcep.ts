import fs from 'node:fs';
import path from 'node:path';
import type { Transaction } from 'kysely';
import { runNamedQuery, type Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { createCommunePlacer, type Placement } from './cog.ts';
import { ImportError } from './errors.ts';
import { silentProgress, type Progress } from './progress.ts';
import { csvLines, readArcepTable, sniffCsvHeader, type ArcepLevel, type ArcepTable, type DeploymentRow, type PremisesRow } from './readers/arcep-table.ts';
import { xlsxSheets } from './readers/xlsx.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { replaceSource, runImport, type SourceMeta } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export interface ArcepOptions {
  /** Keep commune codes that cannot be placed on a current commune as rejects instead of failing. */
  keepUnplaced?: boolean;
}

const INDICATOR = 'fibre_coverage';
const NOT_ARCEP =
  'not an ARCEP FttH deployment table: expected title lines ("Réseaux en fibre optique jusqu\'à l\'abonné (FttH)"…) ' +
  'then a header with "Code commune", "Siren EPCI", "Code département" or "Code région"';
const CHUNK = 10_000;

/** One input file and the ARCEP tables it holds: one for a CSV export, one per recognised sheet of a workbook. */
interface ArcepFile {
  path: string;
  name: string;
  tables: ArcepTable[];
}

/** A deployment table with where its denominators come from. */
interface Plan {
  file: ArcepFile;
  table: ArcepTable;
  /** Its own premises column (current layout) or the premises table of the same level it pairs with. */
  premises: ArcepTable | null;
  /** EPCI tables: the commune table whose "Siren EPCI" column lists each EPCI's member communes. */
  members: ArcepTable | null;
}

/**
 * Imports ARCEP's "Le marché du haut et très haut débit fixe (déploiements)" observatory: a CSV export of one
 * sheet, an .xlsx workbook, or a folder of them, in one transaction. Commune Locaux Raccordables per quarter ÷
 * (Logements + Établissements) (or the current "meilleure estimation des locaux") become `fibre_coverage`
 * commune values, codes of an older COG folded into their current commune; ARCEP's own EPCI, département and
 * région rows go to `published_value`, for cross-checks only.
 */
export async function importArcep(database: Database, input: string, options: ArcepOptions = {}, progress: Progress = silentProgress): Promise<ImportReport> {
  const report = emptyReport('import arcep', input);
  const { files, skipped } = await collectInput(input, progress);
  progress.done();
  const plans = planTables(files);
  const vintages = fileVintages(files, plans);
  const hashes = new Map<ArcepFile, string>();
  for (const file of files) hashes.set(file, await sha256File(file.path));
  const meta = (file: ArcepFile): SourceMeta => ({
    kind: 'arcep',
    name: file.name,
    fileName: file.name,
    sha256: hashes.get(file)!,
    vintage: vintages.get(file) ?? null,
    publisher: 'ARCEP',
    licence: 'Licence Ouverte / Open Licence 2.0',
  });
  // The framework's own source row goes to the file holding commune deployments; the other files get theirs below.
  const primary = files.find((f) => f.tables.some((t) => t.level === 'commune' && t.deployments.size > 0)) ?? files[0]!;
  report.read = files.reduce((n, f) => n + f.tables.reduce((m, t) => m + t.rows, 0), 0);
  report.notes.push(`tables: ${files.flatMap((f) => f.tables.map(describeTable)).join('; ')}`);
  if (skipped.length) report.notes.push(`not recognised as ARCEP tables, skipped: ${skipped.join(', ')}`);

  return runImport(database, meta(primary), report, async ({ trx, sourceId, touchedIndicators }) => {
    const sourceIds = new Map<ArcepFile, number>([[primary, sourceId]]);
    for (const file of files) {
      if (file === primary) continue;
      sourceIds.set(file, await replaceSource(trx, meta(file), file.tables.reduce((n, t) => n + t.rows, 0)));
    }
    const present = new Set((await trx.selectFrom('territory').select('code').where('level', '=', 'commune').execute()).map((r) => r.code));
    if (present.size === 0) throw new ImportError({ file: primary.name }, 'the database holds no communes: run `terrinum import hierarchy` first');
    const place = createCommunePlacer(present);
    const categories = new CategoryCheck();

    // Commune values: every plan first, so that unplaceable codes are all listed before anything is written.
    const unplaced: { label: string; line: number; code: string }[] = [];
    const reconciled = new Map<string, string>();
    const batches: { plan: Plan; values: CommuneValue[] }[] = [];
    for (const plan of plans.filter((p) => p.table.level === 'commune')) {
      batches.push({ plan, values: foldCommunes(plan, place, categories, unplaced, reconciled) });
    }
    if (unplaced.length && !options.keepUnplaced) {
      const first = unplaced[0]!;
      throw new ImportError(
        { file: first.label, line: first.line, column: plans.find((p) => p.table.label === first.label)?.table.keyColumn },
        `${unplaced.length} commune code(s) are neither communes in the database nor older codes of one: ` +
          `${unplaced.map((u) => `${u.code} (${u.label} line ${u.line})`).join(', ')}; import the hierarchy first, or pass --keep-unplaced to keep them aside`,
      );
    }
    for (const u of unplaced) report.rejects.push({ line: u.line, code: u.code, reason: `${u.label}: not a current commune, and no successor in the COG` });
    report.rejected = unplaced.length;
    report.reconciled = reconciled.size;
    for (const { plan, values } of batches) {
      for (let start = 0; start < values.length; start += CHUNK) {
        await runNamedQuery(trx, namedQuery('upsert_indicator_values'), [INDICATOR, JSON.stringify(values.slice(start, start + CHUNK)), sourceIds.get(plan.file)]);
      }
      report.imported += values.length;
      if (values.length) touchedIndicators.add(INDICATOR);
    }
    if (reconciled.size) {
      report.notes.push(
        `${reconciled.size} commune codes of an older COG folded into their current commune (counts summed, rates recomputed): ` +
          [...reconciled].map(([old, current]) => `${old}→${current}`).join(' '),
      );
    }

    // ARCEP's own aggregates, kept aside for cross-checks.
    const coarse = plans.filter((p) => p.table.level !== 'commune');
    const epciOf = coarse.some((p) => p.table.level === 'epci') ? await currentEpcis(trx) : new Map<string, string[]>();
    for (const plan of coarse) {
      const reconcile = plan.table.level === 'epci' ? epciReconciler(plan, place, epciOf, report.notes) : (code: string) => code;
      const values = publishedValues(plan, reconcile, categories);
      for (let start = 0; start < values.length; start += CHUNK) {
        await runNamedQuery(trx, namedQuery('insert_published_values'), [INDICATOR, JSON.stringify(values.slice(start, start + CHUNK)), sourceIds.get(plan.file)]);
      }
      report.imported += values.length;
    }
    for (const plan of plans) {
      if (!plan.premises) report.notes.push(`${plan.table.label}: no ${plan.table.level} premises table found, its published values have no denominator`);
      else if (plan.premises !== plan.table) report.notes.push(`denominators of ${plan.table.label}: ${plan.premises.premisesColumns.join(' + ')} from ${plan.premises.label}, the same for every quarter`);
    }
    if (categories.checked) report.notes.push(categories.summary());
  });
}

// ---------------------------------------------------------------------------------------------------------
// Input: files and folders

async function collectInput(input: string, progress: Progress): Promise<{ files: ArcepFile[]; skipped: string[] }> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(input);
  } catch {
    throw new ImportError({ file: input }, 'file or folder not found');
  }
  if (stat.isDirectory()) return collectFolder(input, progress);
  checkInputFile(input);
  const main = await readInputFile(input, progress);
  if (main.file.tables.length === 0) throw new ImportError({ file: main.file.name }, main.skipped.length ? `no ARCEP sheet in this workbook (sheets: ${main.skipped.join(', ')})` : NOT_ARCEP);
  return { files: [main.file, ...(await findCompanions(main.file, progress))], skipped: main.skipped.map((sheet) => `${main.file.name} [${sheet}]`) };
}

/** Every recognised file of a folder, in name order; the others are listed. */
async function collectFolder(folder: string, progress: Progress): Promise<{ files: ArcepFile[]; skipped: string[] }> {
  const files: ArcepFile[] = [];
  const skipped: string[] = [];
  for (const name of fs.readdirSync(folder).sort()) {
    const file = path.join(folder, name);
    if (name.startsWith('.') || !fs.statSync(file).isFile()) continue;
    if (!isWorkbook(name) && (!isCsv(name) || !(await sniffCsvHeader(file, name).catch(() => null)))) {
      skipped.push(name);
      continue;
    }
    const read = await readInputFile(file, progress);
    if (read.file.tables.length) files.push(read.file);
    else skipped.push(name);
    skipped.push(...read.skipped.map((sheet) => `${name} [${sheet}]`));
  }
  if (files.length === 0) throw new ImportError({ file: folder }, `no ARCEP table in this folder (${skipped.length ? `found ${skipped.join(', ')}` : 'it is empty'}); ${NOT_ARCEP}`);
  return { files, skipped };
}

async function readInputFile(file: string, progress: Progress): Promise<{ file: ArcepFile; skipped: string[] }> {
  const name = path.basename(file);
  const tables: ArcepTable[] = [];
  const skipped: string[] = [];
  const tick = () => progress.tick();
  if (isWorkbook(name)) {
    for await (const sheet of xlsxSheets(file, name)) {
      const table = await readArcepTable(`${name} [${sheet.name}]`, sheet.name, sheet.lines, tick);
      if (table) tables.push(table);
      else skipped.push(sheet.name);
    }
  } else {
    const table = await readArcepTable(name, null, csvLines(file, name), tick);
    if (table) tables.push(table);
  }
  return { file: { path: file, name, tables }, skipped };
}

/**
 * A single CSV export needs its siblings: the premises table of the same level (denominators, required for
 * communes) and, for EPCI rows, the commune table listing their members. They are looked for in its folder.
 */
async function findCompanions(main: ArcepFile, progress: Progress): Promise<ArcepFile[]> {
  const needed = new Set<ArcepLevel>();
  for (const table of main.tables) {
    if (table.deployments.size && !table.premises.size) needed.add(table.level);
    if (table.level === 'epci' && table.deployments.size) needed.add('commune');
  }
  if (isWorkbook(main.name)) for (const table of main.tables) if (table.premises.size && !table.deployments.size) needed.delete(table.level);
  if (needed.size === 0) return [];
  const folder = path.dirname(main.path);
  const candidates: { name: string; sheet: null; level: ArcepLevel; path: string }[] = [];
  for (const name of fs.readdirSync(folder).sort()) {
    const file = path.join(folder, name);
    if (name === main.name || !isCsv(name) || !fs.statSync(file).isFile()) continue;
    const header = await sniffCsvHeader(file, name).catch(() => null);
    if (header && header.premises && header.quarters.length === 0 && needed.has(header.level)) candidates.push({ name, sheet: null, level: header.level, path: file });
  }
  const chosen = new Set<string>();
  for (const table of main.tables) {
    if (!table.deployments.size) continue;
    for (const level of [table.level, ...(table.level === 'epci' ? (['commune'] as const) : [])]) {
      if (!needed.has(level)) continue;
      const pick = chooseCompanion(main.name, table.sheet, null, candidates.filter((c) => c.level === level));
      if (pick) chosen.add(pick.path);
    }
  }
  const companions: ArcepFile[] = [];
  for (const file of [...chosen].sort()) companions.push((await readInputFile(file, progress)).file);
  return companions;
}

const isWorkbook = (name: string) => /\.xlsx$/i.test(name);
const isCsv = (name: string) => /\.(csv|txt)$/i.test(name);

/** `ftth-communes-02-62.csv` → `communes-02-62.csv`, `ftthCommunes.csv` → `communes.csv`: ARCEP's naming of a pair. */
const companionName = (name: string) => name.replace(/ftth[-_ ]?/i, '').toLowerCase();

/**
 * The premises table a deployment table pairs with: the only one of its workbook, else the one named like it
 * without "ftth", else the only one there is; null when there is none or the choice is ambiguous.
 */
function chooseCompanion<T extends { name: string; sheet: string | null }>(fileName: string, sheet: string | null, sameFile: T[] | null, candidates: T[]): T | null {
  if (sameFile && sameFile.length === 1) return sameFile[0]!;
  const wanted = companionName(sheet ?? fileName);
  const named = candidates.filter((c) => (c.sheet ?? c.name).toLowerCase() === wanted);
  if (named.length === 1) return named[0]!;
  return candidates.length === 1 ? candidates[0]! : null;
}

// ---------------------------------------------------------------------------------------------------------
// Pairing and vintages

function planTables(files: ArcepFile[]): Plan[] {
  const premisesTables = files.flatMap((file) => file.tables.filter((t) => t.premises.size && !t.deployments.size).map((table) => ({ file, table, name: file.name, sheet: table.sheet })));
  const companion = (file: ArcepFile, table: ArcepTable, level: ArcepLevel) => {
    const candidates = premisesTables.filter((c) => c.table.level === level);
    return chooseCompanion(file.name, table.sheet, candidates.filter((c) => c.file === file && file.tables.length > 1), candidates)?.table ?? null;
  };
  const plans: Plan[] = [];
  for (const file of files) {
    for (const table of file.tables) {
      if (!table.deployments.size) continue;
      const premises = table.premises.size ? table : companion(file, table, table.level);
      if (!premises && table.level === 'commune') {
        const found = premisesTables.filter((c) => c.table.level === 'commune').map((c) => c.table.label);
        throw new ImportError(
          { file: table.label },
          found.length
            ? `needs one commune table (Code commune, Logements, Établissements) for its denominators; found several: ${found.join(', ')} — expected ${companionName(table.sheet ?? file.name)}`
            : `needs the commune table (Code commune, Logements, Établissements) for its denominators: expected ${companionName(table.sheet ?? file.name)} next to it`,
        );
      }
      const members = table.level === 'epci' ? companion(file, table, 'commune') : null;
      plans.push({ file, table, premises, members: members && [...members.premises.values()].some((p) => p.epci) ? members : null });
    }
  }
  return plans;
}

const latest = (vintages: string[]) => vintages.reduce<string | null>((max, v) => (max === null || v > max ? v : max), null);

/** A file's vintage is the latest quarter of its publication: its own quarters, else those of the tables it serves. */
function fileVintages(files: ArcepFile[], plans: Plan[]): Map<ArcepFile, string | null> {
  const overall = latest(files.flatMap((f) => f.tables.flatMap((t) => t.quarters.map((q) => q.vintage))));
  return new Map(
    files.map((file) => {
      const own = latest(file.tables.flatMap((t) => t.quarters.map((q) => q.vintage)));
      const served = latest(plans.filter((p) => file.tables.some((t) => t === p.premises || t === p.members)).flatMap((p) => p.table.quarters.map((q) => q.vintage)));
      return [file, own ?? served ?? overall];
    }),
  );
}

function describeTable(table: ArcepTable): string {
  const quarters = table.quarters.length ? `${table.quarters[0]!.vintage} to ${table.quarters.at(-1)!.vintage}` : '';
  const kind = [table.deployments.size ? `deployments ${quarters}` : '', table.premises.size ? `premises (${table.premisesColumns.join(' + ')})` : ''].filter(Boolean).join(' and ');
  return `${table.label}: ${table.level} ${kind}, ${table.rows} rows`;
}

// ---------------------------------------------------------------------------------------------------------
// Commune values

interface CommuneValue {
  code: string;
  vintage: string;
  numerator: number;
  denominator: number | null;
}

/**
 * Commune values of one table, placed on current communes: an absorbed commune's counts are added to the
 * absorbing commune's (numerators and denominators separately), so its rate is recomputed from the sums.
 */
function foldCommunes(
  plan: Plan,
  place: (code: string) => Placement | null,
  categories: CategoryCheck,
  unplaced: { label: string; line: number; code: string }[],
  reconciled: Map<string, string>,
): CommuneValue[] {
  const { table } = plan;
  const sums = new Map<string, { numerators: (number | null)[]; denominator: number | null }>();
  for (const row of table.deployments.values()) {
    const premises = plan.premises!.premises.get(row.code);
    if (!premises) {
      throw new ImportError(
        { file: table.label, line: row.line, column: table.keyColumn },
        `commune ${row.code} has no row in ${plan.premises!.label} (${plan.premises!.premisesColumns.join(', ')}), which gives its denominator`,
      );
    }
    categories.check(table, row, premises.premises);
    const placement = place(row.code);
    if (!placement) {
      unplaced.push({ label: table.label, line: row.line, code: row.code });
      continue;
    }
    if (placement.reconciled) reconciled.set(row.code, placement.code);
    const sum = sums.get(placement.code) ?? { numerators: table.quarters.map(() => 0), denominator: 0 };
    // A quarter missing for one part of a merged commune is missing for the whole.
    sum.numerators = sum.numerators.map((n, i) => (n === null || row.connectable![i] === null ? null : n + row.connectable![i]!));
    sum.denominator = sum.denominator === null || premises.premises === null ? null : sum.denominator + premises.premises;
    sums.set(placement.code, sum);
  }
  return [...sums].flatMap(([code, sum]) =>
    table.quarters.flatMap((q, i) => (sum.numerators[i] === null ? [] : [{ code, vintage: q.vintage, numerator: sum.numerators[i]!, denominator: sum.denominator }])),
  );
}

// ---------------------------------------------------------------------------------------------------------
// ARCEP's own EPCI, département and région rows

interface PublishedRow {
  level: string;
  code: string;
  published_code: string;
  vintage: string;
  numerator: number;
  denominator: number | null;
}

function publishedValues(plan: Plan, reconcile: (code: string) => string, categories: CategoryCheck): PublishedRow[] {
  const { table } = plan;
  return [...table.deployments.values()].flatMap((row) => {
    const denominator = plan.premises?.premises.get(row.code)?.premises ?? null;
    categories.check(table, row, denominator);
    const code = reconcile(row.code);
    return table.quarters.flatMap((q, i) =>
      row.connectable![i] === null ? [] : [{ level: table.level, code, published_code: row.code, vintage: q.vintage, numerator: row.connectable![i]!, denominator }],
    );
  });
}

/** Current EPCI(s) of every commune, from the database's memberships. */
async function currentEpcis(trx: Transaction<DB>): Promise<Map<string, string[]>> {
  const rows = await trx
    .selectFrom('territory_member as m')
    .innerJoin('territory as e', 'e.id', 'm.territory_id')
    .innerJoin('territory as c', 'c.id', 'm.commune_id')
    .where('e.level', '=', 'epci')
    .select(['e.code as epci', 'c.code as commune'])
    .execute();
  const epciOf = new Map<string, string[]>();
  for (const { epci, commune } of rows) epciOf.set(commune, [...(epciOf.get(commune) ?? []), epci]);
  return epciOf;
}

/**
 * EPCI SIRENs of the publication's vintage → current EPCI, only when the members say so unambiguously: every
 * member commune of the commune table, placed on a current commune, lies in one and the same current EPCI, and
 * those members hold all of the EPCI's premises (else some members lie outside the file). Otherwise the code
 * is kept as published, with a note.
 */
function epciReconciler(plan: Plan, place: (code: string) => Placement | null, epciOf: Map<string, string[]>, notes: string[]): (code: string) => string {
  const members = new Map<string, PremisesRow[]>();
  for (const row of plan.members?.premises.values() ?? []) if (row.epci) members.set(row.epci, [...(members.get(row.epci) ?? []), row]);
  const mapped: string[] = [];
  const kept: string[] = [];
  const decided = new Map<string, string>();
  for (const code of plan.table.deployments.keys()) {
    const own = members.get(code);
    if (!own) {
      kept.push(`${code} (no member commune listed)`);
      continue;
    }
    const where = new Map<string, number>();
    for (const m of own) {
      const placed = place(m.code);
      const epcis = placed ? (epciOf.get(placed.code) ?? []) : [];
      const key = !placed ? 'unplaced' : epcis.length === 1 ? epcis[0]! : epcis.length ? 'several' : 'no EPCI';
      where.set(key, (where.get(key) ?? 0) + 1);
    }
    const [only] = where.keys();
    if (where.size !== 1 || !/^\d{9}$/.test(only!)) {
      kept.push(`${code} (its ${own.length} communes are now in ${[...where].map(([k, n]) => `${k} ×${n}`).join(', ')})`);
      continue;
    }
    const published = plan.premises?.premises.get(code)?.premises ?? null;
    const known = own.every((m) => m.premises !== null) ? own.reduce((sum, m) => sum + m.premises!, 0) : null;
    // Commune Logements are rounded INSEE counts: their sum may differ from the EPCI's by half a unit per commune.
    if (published !== null && known !== null && Math.abs(published - known) > 0.5 * own.length + 0.5) {
      kept.push(`${code} (members outside this file: its ${own.length} communes here hold ${known} of its ${published} premises)`);
      continue;
    }
    decided.set(code, only!);
    if (only !== code) mapped.push(`${code}→${only}`);
  }
  const total = plan.table.deployments.size;
  notes.push(
    `${plan.table.label}: ${decided.size} of ${total} EPCI codes confirmed as current EPCIs by their member communes` +
      (mapped.length ? ` (${mapped.length} replaced: ${mapped.join(' ')})` : '') +
      (kept.length ? `; kept as published: ${kept.slice(0, 20).join(', ')}${kept.length > 20 ? `, … ${kept.length - 20} more` : ''}` : ''),
  );
  return (code) => decided.get(code) ?? code;
}

// ---------------------------------------------------------------------------------------------------------
// Catégorie: ARCEP's coverage class, checked against the computed ratio

// Class → ratio band; bounds inclusive on both sides (a ratio exactly on a bound fits either class).
const BANDS = new Map<number, [number, number]>([
  [5, [0, 0.1]],
  [10, [0.1, 0.25]],
  [25, [0.25, 0.5]],
  [50, [0.5, 0.8]],
  [80, [0.8, Number.POSITIVE_INFINITY]],
]);

class CategoryCheck {
  checked = 0;
  disagreements: string[] = [];

  check(table: ArcepTable, row: DeploymentRow, denominator: number | null): void {
    if (!row.category || !denominator) return;
    for (const [i, q] of table.quarters.entries()) {
      const numerator = row.connectable![i];
      const category = row.category.values[i];
      if (numerator === null || numerator === undefined || category === null || category === undefined) continue;
      this.checked += 1;
      const ratio = numerator / denominator;
      const band = BANDS.get(category);
      const fits = category === 0 ? numerator === 0 : band !== undefined && numerator > 0 && ratio >= band[0] - 1e-9 && ratio <= band[1] + 1e-9;
      if (!fits) this.disagreements.push(`${row.code} ${q.label}: Catégorie ${category}, ratio ${(ratio * 100).toFixed(1)} % (${table.label} line ${row.category.line})`);
    }
  }

  summary(): string {
    if (this.disagreements.length === 0) return `Catégorie agrees with Locaux Raccordables ÷ premises for all ${this.checked} values checked`;
    return `Catégorie disagrees with Locaux Raccordables ÷ premises for ${this.disagreements.length} of ${this.checked} values: ${this.disagreements.slice(0, 10).join('; ')}${this.disagreements.length > 10 ? '; …' : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
