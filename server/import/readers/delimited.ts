import fs from 'node:fs';
import path from 'node:path';
import { parse, type Info } from 'csv-parse';
import { ImportError } from '../errors.ts';

export type Delimiter = ',' | ';' | '\t';

/** A delimited text file opened for streaming: its header, then its data rows with their line numbers. */
export interface DelimitedFile {
  delimiter: Delimiter;
  header: string[];
  /** 1-based line of the header. */
  headerLine: number;
  rows: AsyncGenerator<{ line: number; cells: string[] }>;
}

/**
 * Guesses the delimiter from the first line: whichever of `;`, `,` and tab occurs most outside quotes
 * (French exports use `;` because `,` is their decimal separator). Comma when none occurs.
 */
export function sniffDelimiter(firstLine: string): Delimiter {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const char of firstLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === ',' || char === ';' || char === '\t')) counts[char] += 1;
  }
  return (Object.entries(counts) as [Delimiter, number][]).reduce((best, entry) => (entry[1] > best[1] ? entry : best), [',', 0] as [Delimiter, number])[0];
}

async function readFirstLine(file: string): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  } finally {
    await handle.close();
  }
}

/**
 * Opens a CSV for streaming in constant memory: delimiter sniffed, UTF-8 BOM dropped, LF or CRLF, blank lines
 * skipped, quoted fields may span lines (a row's line is the line it ends on). Rows may have fewer cells than
 * the header; the caller checks the columns it needs.
 */
export async function openDelimited(file: string): Promise<DelimitedFile> {
  const fileName = path.basename(file);
  const delimiter = sniffDelimiter(await readFirstLine(file));
  const parser = fs.createReadStream(file).pipe(parse({ delimiter, bom: true, skip_empty_lines: true, relax_column_count: true, info: true }));
  const iterator = (parser as AsyncIterable<{ record: string[]; info: Info }>)[Symbol.asyncIterator]();
  const next = async () => {
    try {
      return await iterator.next();
    } catch (error) {
      const lines = (error as { lines?: number }).lines;
      throw new ImportError({ file: fileName, line: lines }, `not a readable CSV: ${(error as Error).message}`);
    }
  };
  const first = await next();
  if (first.done) throw new ImportError({ file: fileName }, 'the file has no header line');
  const header = first.value.record.map((name) => name.trim());
  async function* rows() {
    try {
      for (let item = await next(); !item.done; item = await next()) yield { line: item.value.info.lines, cells: item.value.record };
    } finally {
      parser.destroy();
    }
  }
  return { delimiter, header, headerLine: first.value.info.lines, rows: rows() };
}
