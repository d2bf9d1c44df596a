import path from 'node:path';
import { runNamedQuery, type Database } from '../db/database.ts';
import { namedQuery } from '../db/sql-files.ts';
import { ImportError } from './errors.ts';
import { silentProgress, type Progress } from './progress.ts';
import { checkLonLat, checkSrid, parseCrs } from './readers/coordinates.ts';
import { openDelimited } from './readers/delimited.ts';
import { parseLocaleNumber } from './readers/numbers.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { runImport } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export interface PremisesOptions {
  /** CRS of x,y columns, e.g. EPSG:2154; lon,lat (WGS84) without it. */
  crs?: string;
  vintage?: string;
  publisher?: string;
  licence?: string;
  /** Rows per batch sent to the database (memory stays proportional to it). */
  batchSize?: number;
}

const STATUSES = new Set(['deployed', 'in_progress', 'planned']);

/**
 * Imports premises points (lon,lat or x,y; premises; status; operator) streamed in constant memory: batches go
 * to a staging table, then one set-based point-in-polygon join places them in communes. Points outside every
 * commune are stored without one and reported. One transaction.
 */
export async function importPremises(database: Database, file: string, options: PremisesOptions = {}, progress: Progress = silentProgress): Promise<ImportReport> {
  const fileName = path.basename(file);
  checkInputFile(file);
  const srid = parseCrs(fileName, options.crs);
  const batchSize = options.batchSize ?? 5000;
  const report = emptyReport('import premises', fileName);
  const table = await openDelimited(file);
  const columnIndex = (...names: string[]) => table.header.findIndex((h) => names.includes(h.toLowerCase()));
  const need = (index: number, name: string, hint: string) => {
    if (index < 0) throw new ImportError({ file: fileName, line: table.headerLine, column: name }, `missing column "${name}"; expected ${hint}, found ${table.header.join(',')}`);
    return index;
  };
  const hint = 'lon,lat,premises,status[,operator] (or x,y with --crs)';
  const lonLat = [columnIndex('lon', 'lng', 'longitude'), columnIndex('lat', 'latitude')] as const;
  const xy = [columnIndex('x'), columnIndex('y')] as const;
  const useXy = lonLat[0] < 0 && xy[0] >= 0;
  if (useXy && options.crs === undefined) throw new ImportError({ file: fileName, line: table.headerLine, column: 'x' }, 'x,y columns need --crs, e.g. --crs EPSG:2154 (Lambert-93)');
  const x = need(useXy ? xy[0] : lonLat[0], useXy ? 'x' : 'lon', hint);
  const y = need(useXy ? xy[1] : lonLat[1], useXy ? 'y' : 'lat', hint);
  const premisesColumn = need(columnIndex('premises'), 'premises', hint);
  const statusColumn = need(columnIndex('status'), 'status', hint);
  const operatorColumn = columnIndex('operator');

  try {
    return await runImport(
      database,
      { kind: 'premises', name: fileName, fileName, sha256: await sha256File(file), vintage: options.vintage ?? null, publisher: options.publisher ?? null, licence: options.licence ?? null },
      report,
      async (context) => {
        const { trx, sourceId } = context;
        // the analyses read these points/zones: they rerun in full before commit
        context.analysisInputsChanged = true;
        await checkSrid(trx, fileName, srid);
        await runNamedQuery(trx, namedQuery('create_premises_staging'));
        let batch: object[] = [];
        const flush = async () => {
          await runNamedQuery(trx, namedQuery('stage_premises'), [JSON.stringify(batch), srid]);
          progress.tick(batch.length);
          batch = [];
        };
        for await (const { line, cells } of table.rows) {
          report.read += 1;
          const cell = (index: number) => (cells[index] ?? '').trim();
          const coordinate = (index: number) => {
            const value = parseLocaleNumber(cell(index));
            if (value === null) throw new ImportError({ file: fileName, line, column: table.header[index] }, `expected a coordinate, found "${cell(index)}"`);
            return value;
          };
          const [px, py] = [coordinate(x), coordinate(y)];
          if (srid === 4326) checkLonLat({ file: fileName, line }, px, py);
          const premises = parseLocaleNumber(cell(premisesColumn));
          if (premises === null || !Number.isInteger(premises) || premises < 0) {
            throw new ImportError({ file: fileName, line, column: table.header[premisesColumn] }, `expected a whole number of premises, found "${cell(premisesColumn)}"`);
          }
          const status = cell(statusColumn).toLowerCase();
          if (!STATUSES.has(status)) throw new ImportError({ file: fileName, line, column: table.header[statusColumn] }, `expected deployed, in_progress or planned, found "${cell(statusColumn)}"`);
          batch.push({ line, x: px, y: py, premises, status, operator: operatorColumn >= 0 ? cell(operatorColumn) || null : null });
          if (batch.length >= batchSize) await flush();
        }
        if (batch.length) await flush();
        if (report.read === 0) throw new ImportError({ file: fileName }, 'no data rows after the header');
        await runNamedQuery(trx, namedQuery('analyze_premises_join'));
        const [result] = await runNamedQuery<{ stored: number; outside: number; first_outside_lines: number[] }>(trx, namedQuery('place_staged_premises'), [sourceId]);
        report.imported = result!.stored;
        if (result!.outside) {
          report.notes.push(
            `${result!.outside} point${result!.outside > 1 ? 's' : ''} outside every commune, stored without a commune: line${result!.outside > 1 ? 's' : ''} ${result!.first_outside_lines.join(', ')}${result!.outside > result!.first_outside_lines.length ? ', …' : ''}`,
          );
        }
      },
    );
  } finally {
    progress.done();
  }
}
