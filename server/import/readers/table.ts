import path from 'node:path';
import { ImportError } from '../errors.ts';
import { openDelimited } from './delimited.ts';
import { readJsonRecords, type JsonCell } from './json-records.ts';

/** Rows of a CSV or of a JSON array of objects, with columns looked up by name. */
export interface Table {
  fileName: string;
  columns: string[];
  headerLine: number;
  rows: AsyncIterable<{ line: number; cells: JsonCell[] }>;
}

/** Opens a `.json` array of objects or a delimited text file (any other extension). */
export async function openTable(file: string): Promise<Table> {
  const fileName = path.basename(file);
  if (/\.json$/i.test(file)) {
    const { keys, records } = readJsonRecords(file);
    async function* rows() {
      for (const record of records) yield { line: record.line, cells: keys.map((key) => record.values[key] ?? null) };
    }
    return { fileName, columns: keys, headerLine: 1, rows: rows() };
  }
  const delimited = await openDelimited(file);
  return { fileName, columns: delimited.header, headerLine: delimited.headerLine, rows: delimited.rows };
}

const normalise = (name: string) => name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Index of a column: the exact name, else the only one equal after trimming, collapsing inner spaces and
 * ignoring case (the IFN has `GLOBAL COMPETENCES  departement 1` with two spaces). The error lists the columns.
 */
export function resolveColumn(table: Pick<Table, 'fileName' | 'columns' | 'headerLine'>, name: string, option: string): number {
  const exact = table.columns.indexOf(name);
  if (exact >= 0) return exact;
  const loose = table.columns.flatMap((column, index) => (normalise(column) === normalise(name) ? [index] : []));
  if (loose.length === 1) return loose[0]!;
  const found = table.columns.map((c) => JSON.stringify(c)).join(', ');
  throw new ImportError(
    { file: table.fileName, line: table.headerLine, column: name },
    `missing column "${name}" (${option}); the columns are ${found.length > 600 ? `${found.slice(0, 600)}…` : found}`,
  );
}
