import ExcelJS from 'exceljs';
import { ImportError } from '../errors.ts';
import type { CellLine } from './arcep-table.ts';

/** One worksheet of a workbook being streamed: read its lines to the end before asking for the next sheet. */
export interface StreamedSheet {
  name: string;
  lines: AsyncIterable<CellLine>;
}

/**
 * The worksheets of an .xlsx workbook, streamed row by row (exceljs' streaming reader: constant memory
 * apart from the shared strings). Cells come as text, as in a CSV export; `line` is the spreadsheet row number.
 */
export async function* xlsxSheets(file: string, label: string): AsyncIterable<StreamedSheet> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'ignore' });
  try {
    for await (const worksheet of workbook) {
      // The streaming reader sets the sheet name from workbook.xml; its typings omit it.
      const name = (worksheet as unknown as { name?: string }).name ?? '?';
      yield { name, lines: sheetLines(worksheet) };
    }
  } catch (error) {
    if (error instanceof ImportError) throw error;
    throw new ImportError({ file: label }, `not a readable .xlsx workbook: ${(error as Error).message}`);
  }
}

async function* sheetLines(worksheet: AsyncIterable<ExcelJS.Row>): AsyncIterable<CellLine> {
  for await (const row of worksheet) {
    // row.values is 1-based and sparse
    const values = row.values as unknown[];
    const cells: string[] = [];
    for (let column = 1; column < values.length; column++) cells.push(cellText(values[column]));
    yield { line: row.number, cells };
  }
}

/** A cell as the text a CSV export would hold. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const cell = value as { richText?: { text: string }[]; result?: unknown; text?: unknown; error?: string };
    if (cell.richText) return cell.richText.map((part) => part.text).join('');
    if ('result' in cell) return cellText(cell.result);
    if (cell.text !== undefined) return cellText(cell.text);
    if (cell.error) return cell.error;
  }
  return String(value);
}
