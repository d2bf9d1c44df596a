import fs from 'node:fs';
import path from 'node:path';
import { ImportError } from '../errors.ts';

export type JsonCell = string | number | null;

/** A JSON array of flat objects, read whole (such files are small), each object with the line it starts on. */
export interface JsonRecords {
  /** Keys in order of first appearance. */
  keys: string[];
  records: { line: number; values: Record<string, JsonCell> }[];
}

export function readJsonRecords(file: string): JsonRecords {
  const fileName = path.basename(file);
  const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ImportError({ file: fileName }, `not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) throw new ImportError({ file: fileName, line: 1 }, `expected a JSON array of objects, found ${data === null ? 'null' : typeof data}`);
  const lines = elementLines(text);
  const keys = new Set<string>();
  const records = data.map((element, index) => {
    const line = lines[index] ?? 1;
    if (element === null || typeof element !== 'object' || Array.isArray(element)) {
      throw new ImportError({ file: fileName, line }, `expected an object (one record), found ${JSON.stringify(element)?.slice(0, 40)}`);
    }
    const values: Record<string, JsonCell> = {};
    for (const [key, value] of Object.entries(element as Record<string, unknown>)) {
      keys.add(key);
      values[key] = value === null || typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value);
    }
    return { line, values };
  });
  return { keys: [...keys], records };
}

/** Line on which each element of the top-level array starts, by a scan that skips strings. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectingElement = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\n') line += 1;
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (/\s/.test(char)) continue;
    if (depth === 1 && expectingElement && char !== ']') {
      lines.push(line);
      expectingElement = false;
    }
    if (char === '"') inString = true;
    else if (char === '[' || char === '{') {
      depth += 1;
      if (depth === 1) expectingElement = true;
    } else if (char === ']' || char === '}') depth -= 1;
    else if (char === ',' && depth === 1) expectingElement = true;
  }
  return lines;
}
