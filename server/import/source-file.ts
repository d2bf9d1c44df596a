import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImportError } from './errors.ts';

/** SHA-256 of a file, streamed (constant memory). */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks that the input exists and is a non-empty file; the error names it. */
export function checkInputFile(file: string): { name: string; size: number } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new ImportError({ file }, 'file not found');
  }
  if (!stat.isFile()) throw new ImportError({ file }, 'expected a file, found a directory');
  if (stat.size === 0) throw new ImportError({ file }, 'the file is empty');
  return { name: path.basename(file), size: stat.size };
}
