import type { Database } from '../db/database.ts';

/** One imported source, as `terrinum sources` lists it. */
export interface SourceListing {
  id: number;
  kind: string;
  name: string;
  fileName: string | null;
  sha256: string | null;
  rows: number | null;
  vintage: string | null;
  publisher: string | null;
  licence: string | null;
  synthetic: boolean;
  importedAt: string;
  rejects: number;
}

/** Every source in the database with its reject count, oldest import first. */
export async function listSources(database: Database): Promise<SourceListing[]> {
  const rows = await database.db
    .selectFrom('source as s')
    .leftJoin('import_reject as r', 'r.source_id', 's.id')
    .select(['s.id', 's.kind', 's.name', 's.file_name', 's.sha256', 's.rows', 's.vintage', 's.publisher', 's.licence', 's.synthetic', 's.imported_at'])
    .select((eb) => eb.fn.count<number>('r.id').as('rejects'))
    .groupBy('s.id')
    .orderBy('s.imported_at')
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    name: r.name,
    fileName: r.file_name,
    sha256: r.sha256,
    rows: r.rows,
    vintage: r.vintage,
    publisher: r.publisher,
    licence: r.licence,
    synthetic: r.synthetic,
    importedAt: new Date(r.imported_at).toISOString(),
    rejects: Number(r.rejects),
  }));
}

/** The records an import kept aside (--keep-unplaced, rows without coordinates…), in file order. */
export async function listRejects(database: Database, sourceId: number): Promise<{ line: number | null; code: string | null; reason: string }[]> {
  return database.db.selectFrom('import_reject').select(['line', 'code', 'reason']).where('source_id', '=', sourceId).orderBy('line').orderBy('id').execute();
}

/** A plain-text table of the sources: SHA-256 shortened to 12 characters. */
export function formatSources(sources: SourceListing[]): string {
  if (sources.length === 0) return 'no sources: nothing has been imported yet';
  const header = ['id', 'kind', 'file', 'sha256', 'rows', 'vintage', 'publisher', 'licence', 'imported at', 'rejects'];
  const lines = sources.map((s) => [
    String(s.id),
    s.kind,
    s.fileName ?? `${s.name}${s.synthetic ? ' (synthetic)' : ''}`,
    s.sha256?.slice(0, 12) ?? '-',
    s.rows === null ? '-' : String(s.rows),
    s.vintage ?? '-',
    s.publisher ?? '-',
    s.licence ?? '-',
    s.importedAt.slice(0, 19).replace('T', ' '),
    String(s.rejects),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [render(header), ...lines.map(render)].join('\n');
}
