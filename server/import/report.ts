/** What an import did, printed at its end and returned by the library functions. */
export interface ImportReport {
  command: string;
  file: string;
  sourceId: number | null;
  /** Input records read (rows, features). */
  read: number;
  /** Records written to the database. */
  imported: number;
  /** Geometries repaired by ST_MakeValid. */
  repaired: number;
  /** Records whose older commune code was folded into the current commune. */
  reconciled: number;
  /** Records kept aside (--keep-unplaced) or dropped with a reason. */
  rejected: number;
  rejects: { line?: number; code?: string; reason: string }[];
  notes: string[];
  elapsedMs: number;
}

export function emptyReport(command: string, file: string): ImportReport {
  return { command, file, sourceId: null, read: 0, imported: 0, repaired: 0, reconciled: 0, rejected: 0, rejects: [], notes: [], elapsedMs: 0 };
}

/** Plain-text summary for the terminal. */
export function formatReport(report: ImportReport): string {
  const lines = [
    `${report.command} ${report.file}: ${report.read} read, ${report.imported} imported, ${report.repaired} repaired, ${report.reconciled} reconciled, ${report.rejected} rejected (${(report.elapsedMs / 1000).toFixed(1)} s)`,
    ...report.notes.map((note) => `  note: ${note}`),
    ...report.rejects.slice(0, 50).map((r) => `  rejected${r.line !== undefined ? ` line ${r.line}` : ''}${r.code ? ` ${r.code}` : ''}: ${r.reason}`),
  ];
  if (report.rejects.length > 50) lines.push(`  … and ${report.rejects.length - 50} more rejects (see terrinum sources)`);
  return lines.join('\n');
}
