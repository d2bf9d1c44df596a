import { sql, type Transaction } from 'kysely';
import { recomputeAggregates } from '../analysis/aggregate.ts';
import { prepareAnalysisTransaction, recomputeAnalysis } from '../analysis/recompute.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { removeDemo } from '../demo/remove.ts';
import type { ImportReport } from './report.ts';

export interface SourceMeta {
  kind: 'boundaries' | 'hierarchy' | 'arcep' | 'indicator' | 'premises' | 'coverage' | 'places' | 'population-grid';
  /** Identity of the source with kind and vintage: re-importing the same one replaces it. */
  name: string;
  fileName: string | null;
  sha256: string | null;
  vintage: string | null;
  publisher: string | null;
  licence: string | null;
  url?: string | null;
}

export interface ImportContext {
  trx: Transaction<DB>;
  sourceId: number;
  report: ImportReport;
  /** Indicators whose commune values changed: their aggregates are recomputed before commit. */
  touchedIndicators: Set<string>;
  /** Set when communes or memberships changed: every indicator is re-aggregated and outlines re-dissolved. */
  territoriesChanged: boolean;
  /** Set when points or zones the analyses read changed (places, premises, coverage): every analysis reruns. */
  analysisInputsChanged: boolean;
}

export interface RunOptions {
  /** Real territories arrive: the synthetic demonstration territory goes, with a note in the report. */
  replacesDemo?: boolean;
  /** Communes or memberships change: every indicator is re-aggregated. */
  territoriesChanged?: boolean;
}

/**
 * Runs one import as one transaction: the previous import of the same source is replaced, the body writes,
 * aggregates are recomputed, and either everything is committed or nothing is. A process killed midway
 * leaves the database as before (PostgreSQL's WAL, on both backends).
 */
export async function runImport(
  database: Database,
  meta: SourceMeta,
  report: ImportReport,
  body: (context: ImportContext) => Promise<void>,
  options: RunOptions = {},
): Promise<ImportReport> {
  const started = Date.now();
  await database.db.transaction().execute(async (trx) => {
    await prepareAnalysisTransaction(trx);
    const source = { id: await replaceSource(trx, meta, null) };
    report.sourceId = source.id;
    if (options.replacesDemo && (await removeDemo(trx))) {
      report.notes.push('the synthetic demonstration territory was removed: real territories are being imported');
    }
    const context: ImportContext = { trx, sourceId: source.id, report, touchedIndicators: new Set(), territoriesChanged: options.territoriesChanged ?? false, analysisInputsChanged: false };
    await body(context);
    // in chunks: PGlite silently fails a statement of 32,768 bound parameters or more
    for (let start = 0; start < report.rejects.length; start += 4000) {
      await trx
        .insertInto('import_reject')
        .values(report.rejects.slice(start, start + 4000).map((r) => ({ source_id: source.id, line: r.line ?? null, code: r.code ?? null, reason: r.reason, record: null })))
        .execute();
    }
    // an importer that recorded its own row count (one source per file) keeps it
    await trx.updateTable('source').set({ rows: report.imported }).where('id', '=', source.id).where('rows', 'is', null).execute();
    // Fresh planner statistics after bulk writes (PGlite has no autovacuum): spatial joins stay on the GiST index.
    if (context.territoriesChanged || options.replacesDemo) await sql`ANALYZE territory`.execute(trx);
    if (context.territoriesChanged) await sql`ANALYZE territory_member`.execute(trx);
    let indicators = [...context.touchedIndicators];
    if (context.territoriesChanged) indicators = (await trx.selectFrom('indicator').select('id').execute()).map((i) => i.id);
    for (const id of indicators.sort()) await recomputeAggregates(trx, id);
    if (indicators.length || context.territoriesChanged || context.analysisInputsChanged) {
      await recomputeAnalysis(trx, context.territoriesChanged || context.analysisInputsChanged ? null : indicators);
    }
    await sql`UPDATE data_version SET version = version + 1, changed_at = now()`.execute(trx);
  });
  report.elapsedMs = Date.now() - started;
  return report;
}

/**
 * Records a source, replacing a previous import of the same kind, name and vintage (its values, places,
 * premises and zones cascade away with it). Returns the new source id.
 */
export async function replaceSource(trx: Transaction<DB>, meta: SourceMeta, rows: number | null): Promise<number> {
  await trx
    .deleteFrom('source')
    .where('kind', '=', meta.kind)
    .where('name', '=', meta.name)
    .where((eb) => (meta.vintage === null ? eb('vintage', 'is', null) : eb('vintage', '=', meta.vintage)))
    .execute();
  const source = await trx
    .insertInto('source')
    .values({
      kind: meta.kind,
      name: meta.name,
      file_name: meta.fileName,
      sha256: meta.sha256,
      rows,
      vintage: meta.vintage,
      publisher: meta.publisher,
      licence: meta.licence,
      url: meta.url ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return source.id;
}
