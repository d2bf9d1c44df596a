import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { parse } from 'csv-parse';
import { padCode } from '../cog.ts';
import { ImportError } from '../errors.ts';

/** One CSV line or worksheet row as text cells, numbered as a person sees it (1-based, title lines included). */
export interface CellLine {
  line: number;
  cells: string[];
}

export type ArcepLevel = 'commune' | 'epci' | 'departement' | 'region';

/** A quarter column: `T1 2018` → vintage `2018-Q1`. */
export interface QuarterColumn {
  index: number;
  label: string;
  vintage: string;
}

/** One territory of a deployment table: `Champ = Locaux Raccordables` (and `Catégorie` when published). */
export interface DeploymentRow {
  code: string;
  line: number;
  /** Premises connectable to FttH per quarter column; null for an empty cell. */
  connectable: (number | null)[] | null;
  /** ARCEP's coverage class per quarter (0, 5, 10, 25, 50, 80), when the table has a Catégorie row. */
  category: { line: number; values: (number | null)[] } | null;
}

/** One territory of a premises table: the coverage denominator. */
export interface PremisesRow {
  code: string;
  line: number;
  /** Logements + Établissements, or the current "meilleure estimation des locaux"; null when empty. */
  premises: number | null;
  /** SIREN of the commune's EPCI in the table's vintage (commune tables that have the column). */
  epci: string | null;
}

/** An ARCEP observatory table (one CSV export or one worksheet), checked and parsed. */
export interface ArcepTable {
  /** The file name, plus the sheet for a workbook: names the table in errors and notes. */
  label: string;
  /** The sheet name in a workbook, else null. */
  sheet: string | null;
  level: ArcepLevel;
  keyColumn: string;
  quarters: QuarterColumn[];
  /** Deployment rows by code (empty for a premises-only table). */
  deployments: Map<string, DeploymentRow>;
  /** Premises rows by code (empty for a deployment-only table). */
  premises: Map<string, PremisesRow>;
  /** The columns the premises come from, as written, e.g. ["Logements", "Établissements"]. */
  premisesColumns: string[];
  /** Data lines read. */
  rows: number;
}

/** Title lines before the header: 2 text lines + 2 lines of commas in the 2018 files; a few more are tolerated. */
const MAX_HEADER_LINE = 10;

// Finest key first: a commune table also has "Code département" and "Siren EPCI" columns.
const KEY_COLUMNS: [ArcepLevel, string][] = [
  ['commune', 'code commune'],
  ['epci', 'siren epci'],
  ['departement', 'code departement'],
  ['region', 'code region'],
];

const CODE_PATTERNS: Record<ArcepLevel, { pattern: RegExp; expected: string }> = {
  commune: { pattern: /^(\d{5}|2[AB]\d{3})$/, expected: 'a commune code (5 characters, e.g. 02001)' },
  epci: { pattern: /^\d{9}$/, expected: 'an EPCI SIREN (9 digits)' },
  departement: { pattern: /^(\d{2,3}|2[AB])$/, expected: 'a département code (e.g. 02, 2A, 971)' },
  region: { pattern: /^\d{2}$/, expected: 'a région code (2 digits)' },
};

/** Lower case, no accents, single spaces: header names compare whatever the export did to them. */
export function normalise(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim();
}

/** `T3 2017` → `2017-Q3`; null when the header is not a quarter. */
export function quarterVintage(header: string): string | null {
  const match = /^t([1-4]) ?(\d{4})$/.exec(normalise(header));
  return match ? `${match[2]}-Q${match[1]}` : null;
}

/**
 * A count as ARCEP writes it: text padded with spaces, U+00A0 (or U+202F) as thousands separator, `-` for 0,
 * e.g. `" 1 234    "` → 1234. Empty → null; anything else that is not a whole number → NaN.
 */
export function parseCount(text: string): number | null {
  const compact = text.replace(/[\s\u00a0\u202f]/g, '');
  if (compact === '') return null;
  if (compact === '-') return 0;
  return /^\d+$/.test(compact) ? Number(compact) : Number.NaN;
}

/** What the header line says about a table. */
export interface ArcepHeader {
  line: number;
  level: ArcepLevel;
  columns: string[];
  key: number;
  champ: number | null;
  quarters: QuarterColumn[];
  premises: { columns: number[] } | null;
  epci: number | null;
}

/**
 * Finds the header of an ARCEP table in its first lines: a line with a key column (Code commune, Siren EPCI,
 * Code département, Code région), under title lines naming FttH / fibre, or with columns only ARCEP uses
 * (quarters `T1 2018`, "Meilleure estimation des locaux"). Null when the lines are not an ARCEP table.
 */
export function findHeader(lines: CellLine[]): ArcepHeader | null {
  for (const [position, { line, cells }] of lines.entries()) {
    const names = cells.map(normalise);
    const keyed = KEY_COLUMNS.find(([, name]) => names.includes(name));
    if (!keyed) continue;
    const quarters = cells.flatMap((label, index) => {
      const vintage = quarterVintage(label);
      return vintage ? [{ index, label: label.trim(), vintage }] : [];
    });
    const estimate = names.findIndex((n) => n.includes('locaux') && n.includes('estimation'));
    const title = normalise(lines.slice(0, position).flatMap((l) => l.cells).join(' '));
    const titled = /ftth|fibre|tres haut debit|deploiement/.test(title);
    if (!titled && quarters.length === 0 && estimate < 0) return null;
    const logements = names.indexOf('logements');
    const etablissements = names.indexOf('etablissements');
    const champ = names.indexOf('champ');
    const epci = names.indexOf('siren epci');
    return {
      line,
      level: keyed[0],
      columns: cells.map((c) => c.trim()),
      key: names.indexOf(keyed[1]),
      champ: champ >= 0 ? champ : null,
      quarters,
      premises: estimate >= 0 ? { columns: [estimate] } : logements >= 0 || etablissements >= 0 ? { columns: [logements, etablissements] } : null,
      epci: keyed[0] === 'commune' && epci >= 0 ? epci : null,
    };
  }
  return null;
}

/**
 * Reads one ARCEP table: the header is found among the first lines, then every data line is checked.
 * Consumes all of `lines` (a worksheet must be read to its end before the next one). Null when the lines are
 * not an ARCEP table; an ImportError for a table that is one but is malformed.
 */
export async function readArcepTable(label: string, sheet: string | null, lines: AsyncIterable<CellLine>, onRow: () => void = () => {}): Promise<ArcepTable | null> {
  const head: CellLine[] = [];
  let header: ArcepHeader | null = null;
  let table: ArcepTable | null = null;
  let unrecognised = false;
  for await (const cellLine of lines) {
    if (unrecognised) continue;
    if (!header) {
      head.push(cellLine);
      header = findHeader(head);
      if (header) table = startTable(label, sheet, header);
      else if (head.length >= MAX_HEADER_LINE) unrecognised = true;
      continue;
    }
    if (cellLine.cells.every((c) => c.trim() === '')) continue;
    readRow(table!, header, cellLine);
    onRow();
  }
  if (!table || !header) return null;
  if (table.rows === 0) throw new ImportError({ file: label, line: header.line + 1 }, 'no data rows after the header');
  for (const row of table.deployments.values()) {
    if (!row.connectable) throw new ImportError({ file: label, line: row.category!.line, column: 'Champ' }, `${row.code} has a "Catégorie" row but no "Locaux Raccordables" row`);
  }
  return table;
}

function startTable(label: string, sheet: string | null, header: ArcepHeader): ArcepTable {
  const missing = (column: string) => new ImportError({ file: label, line: header.line, column }, `missing column "${column}"; found ${header.columns.filter(Boolean).map((c) => `"${c}"`).join(', ')}`);
  const seen = new Map<string, string>();
  for (const q of header.quarters) {
    if (seen.has(q.vintage)) throw new ImportError({ file: label, line: header.line, column: q.label }, `quarter ${q.vintage} appears twice ("${seen.get(q.vintage)}" and "${q.label}")`);
    seen.set(q.vintage, q.label);
  }
  if (header.champ !== null && header.quarters.length === 0) throw missing('T1 2018');
  if (header.quarters.length === 0 && !header.premises) {
    throw new ImportError(
      { file: label, line: header.line },
      `expected quarter columns ("T1 2018"…) with "Champ", or "Logements" and "Établissements", or "Meilleure estimation des locaux à date"; found ${header.columns.filter(Boolean).map((c) => `"${c}"`).join(', ')}`,
    );
  }
  if (header.premises) {
    const [first, second] = header.premises.columns;
    if (first! < 0) throw missing('Logements');
    if (second !== undefined && second < 0) throw missing('Établissements');
  }
  return {
    label,
    sheet,
    level: header.level,
    keyColumn: header.columns[header.key]!,
    quarters: header.quarters,
    deployments: new Map(),
    premises: new Map(),
    premisesColumns: header.premises ? header.premises.columns.map((i) => header.columns[i]!) : [],
    rows: 0,
  };
}

function readRow(table: ArcepTable, header: ArcepHeader, { line, cells }: CellLine): void {
  const { label, level } = table;
  const at = (column: number) => ({ file: label, line, column: header.columns[column] });
  table.rows += 1;
  const raw = (cells[header.key] ?? '').trim();
  const code = level === 'commune' ? padCode(raw, 5) : level === 'epci' ? raw : /^\d$/.test(raw) ? `0${raw}` : raw;
  if (!CODE_PATTERNS[level].pattern.test(code)) throw new ImportError(at(header.key), `expected ${CODE_PATTERNS[level].expected}, found "${raw}"`);
  const count = (column: number) => {
    const text = cells[column] ?? '';
    const value = parseCount(text);
    if (Number.isNaN(value)) throw new ImportError(at(column), `expected a count (digits, spaces, "-" for 0), found "${text.trim()}"`);
    return value;
  };

  let champ: 'connectable' | 'category' = 'connectable';
  if (header.champ !== null) {
    const text = (cells[header.champ] ?? '').trim();
    const name = normalise(text);
    if (name === 'locaux raccordables') champ = 'connectable';
    else if (name === 'categorie') champ = 'category';
    else throw new ImportError(at(header.champ), `expected "Locaux Raccordables" or "Catégorie", found "${text}"`);
  }

  if (header.quarters.length > 0) {
    const values = header.quarters.map((q) => count(q.index));
    const row = table.deployments.get(code) ?? { code, line, connectable: null, category: null };
    if (champ === 'connectable') {
      if (row.connectable) throw duplicate(at(header.key), code, row.line);
      row.connectable = values;
      row.line = line;
    } else {
      if (row.category) throw duplicate(at(header.key), code, row.category.line);
      row.category = { line, values };
    }
    table.deployments.set(code, row);
  }
  if (header.premises && champ === 'connectable') {
    const parts = header.premises.columns.map(count);
    const premises = parts.some((p) => p === null) ? null : parts.reduce<number>((sum, p) => sum + p!, 0);
    const previous = table.premises.get(code);
    if (previous && header.quarters.length === 0) throw duplicate(at(header.key), code, previous.line);
    const epci = header.epci !== null ? (cells[header.epci] ?? '').trim() || null : null;
    table.premises.set(code, { code, line, premises, epci });
  }
}

function duplicate(location: { file: string; line: number; column?: string }, code: string, firstLine: number): ImportError {
  return new ImportError(location, `duplicated row for ${code} (first at line ${firstLine}); expected one row per territory`);
}

/**
 * The lines of a CSV export: comma or semicolon, UTF-8 (with or without BOM) or, failing that, Latin-1
 * (Excel's "CSV" on Windows), any line ending.
 */
export async function* csvLines(file: string, label: string): AsyncIterable<CellLine> {
  const head = readHead(file, 65536);
  // A multi-byte character may be cut at the end of the sample.
  const utf8 = [0, 1, 2, 3].some((cut) => isUtf8(head.subarray(0, Math.max(0, head.length - cut))));
  const encoding: BufferEncoding = utf8 ? 'utf8' : 'latin1';
  const sample = head.toString(encoding).split(/\r?\n/).slice(0, MAX_HEADER_LINE).join('\n');
  const delimiter = (sample.match(/;/g)?.length ?? 0) > (sample.match(/,/g)?.length ?? 0) ? ';' : ',';
  const parser = fs.createReadStream(file, { encoding }).pipe(parse({ delimiter, bom: true, relax_column_count: true, relax_quotes: true, info: true }));
  let line = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      line = info.lines;
      yield { line, cells: record };
    }
  } catch (error) {
    if (error instanceof ImportError) throw error;
    throw new ImportError({ file: label, line: line + 1 }, `not a readable CSV: ${(error as Error).message}`);
  } finally {
    parser.destroy();
  }
}

/** The header of a CSV file, read from its first lines only (to sort the files of a folder). */
export async function sniffCsvHeader(file: string, label: string): Promise<ArcepHeader | null> {
  const head: CellLine[] = [];
  for await (const cellLine of csvLines(file, label)) {
    head.push(cellLine);
    if (head.length >= MAX_HEADER_LINE) break;
  }
  return findHeader(head);
}

function readHead(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, fs.readSync(fd, buffer, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}
