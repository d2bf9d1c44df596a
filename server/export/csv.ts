import type { Writable } from 'node:stream';
import type { FeatureRow } from '../repositories/features.repository.ts';
import { indicatorFields, type ExportIndicator } from './features.ts';
import { provenanceLines, type Provenance } from './provenance.ts';
import { writeChunk } from './stream.ts';

export interface CsvOptions {
  /** Field separator: ',' (default) or ';' (French spreadsheets, whose decimal separator is ','). */
  separator: ',' | ';';
  /** Decimal mark of numbers: '.' (default) or ','. */
  decimal: '.' | ',';
  /** Start with a UTF-8 byte order mark, which Excel needs to read accents right. */
  bom: boolean;
  /** Provenance as `# key: value` lines before the header. */
  comments: boolean;
  /** Coarser levels whose codes get a column `LEVEL_code`. */
  parentLevels: string[];
}

/** Header: code, name, parent codes, then per indicator ID, ID_numerator, ID_denominator. */
export function csvColumns(indicators: readonly ExportIndicator[], parentLevels: readonly string[]): string[] {
  return [
    'code',
    'name',
    ...parentLevels.map((level) => `${level}_code`),
    ...indicators.flatMap((i) => {
      const fields = indicatorFields(i.id);
      return [fields.value, fields.numerator, fields.denominator];
    }),
  ];
}

/** Streams one row per territory (RFC 4180 quoting, CRLF line ends). Returns the rows written. */
export async function writeCsv(
  out: Writable,
  batches: AsyncIterable<FeatureRow[]>,
  options: CsvOptions & { indicators: readonly ExportIndicator[]; provenance: Provenance },
): Promise<number> {
  const { separator, decimal } = options;
  const line = (cells: string[]) => `${cells.map((cell) => quote(cell, separator)).join(separator)}\r\n`;
  let head = options.bom ? '\uFEFF' : '';
  if (options.comments) {
    for (const [key, value] of provenanceLines(options.provenance)) head += `# ${key}: ${value.replace(/[\r\n]+/g, ' ')}\r\n`;
  }
  head += line(csvColumns(options.indicators, options.parentLevels));
  if (!(await writeChunk(out, head))) return 0;
  let written = 0;
  for await (const batch of batches) {
    const text = batch
      .map((row) =>
        line([
          row.code,
          row.name,
          ...options.parentLevels.map((level) => row.parents[level] ?? ''),
          ...row.values.flatMap((cell) => [cell.value, cell.numerator, cell.denominator].map((n) => formatNumber(n, decimal))),
        ]),
      )
      .join('');
    if (!(await writeChunk(out, text))) return written;
    written += batch.length;
  }
  return written;
}

/** A number as a spreadsheet reads it: no exponent, the chosen decimal mark; empty when absent. */
export function formatNumber(value: number | null, decimal: '.' | ','): string {
  if (value === null || !Number.isFinite(value)) return '';
  let text = String(value);
  // String() switches to exponents below 1e-6 and from 1e21; spreadsheets and humans prefer digits
  if (/e/i.test(text)) text = Math.abs(value) < 1 ? value.toFixed(20).replace(/0+$/, '') : BigInt(Math.round(value)).toString();
  return decimal === ',' ? text.replace('.', ',') : text;
}

/** RFC 4180: quote a field holding the separator, a quote, a line break or edge spaces. */
function quote(cell: string, separator: string): string {
  return cell.includes(separator) || /["\r\n]/.test(cell) || cell !== cell.trim() ? `"${cell.replace(/"/g, '""')}"` : cell;
}
