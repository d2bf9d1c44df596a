import { loadConfig } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { formatReport, type ImportReport } from './report.ts';

/**
 * Runs one CLI import against the configured database (DATABASE_URL or the embedded one), migrated first,
 * and prints the report. Errors propagate to the CLI, which prints them as one line and exits non-zero.
 */
export async function runImportCommand(action: (database: Database) => Promise<ImportReport | ImportReport[]>): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const reports = await action(database);
    for (const report of Array.isArray(reports) ? reports : [reports]) process.stdout.write(`${formatReport(report)}\n`);
  } finally {
    await database.close();
  }
}

/** Parses a --flag true|false option. */
export function parseBooleanOption(name: string, value: string): boolean {
  if (/^(true|1|yes|oui)$/i.test(value)) return true;
  if (/^(false|0|no|non)$/i.test(value)) return false;
  throw new Error(`--${name} must be true or false, got "${value}"`);
}
