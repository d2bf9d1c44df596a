import path from 'node:path';
import { runNamedQuery, type Database } from '../db/database.ts';
import { namedQuery } from '../db/sql-files.ts';
import { ImportError } from './errors.ts';
import { silentProgress, type Progress } from './progress.ts';
import { openWgs84GeoJson } from './readers/geojson.ts';
import { parseLocaleNumber } from './readers/numbers.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { runImport } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export interface CoverageOptions {
  /** e.g. ftth, 4g, thd-radio, zone-amii. */
  technology: string;
  vintage?: string;
  publisher?: string;
  licence?: string;
}

/** Polygons can be large: a smaller batch keeps each statement's JSON parameter modest. */
const BATCH = 500;

/**
 * Imports coverage zones of one technology from GeoJSON (Multi)Polygons, optional property `max_down_mbps`,
 * streamed; invalid polygons are repaired (ST_MakeValid) and counted; features without geometry are rejects.
 * Re-importing the same file name, technology and vintage replaces it. One transaction.
 */
export async function importCoverage(database: Database, file: string, options: CoverageOptions, progress: Progress = silentProgress): Promise<ImportReport> {
  const fileName = path.basename(file);
  const technology = options.technology?.trim() ?? '';
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._+-]*$/u.test(technology)) throw new ImportError({ file: fileName }, `--technology must be a short name such as ftth, 4g or thd-radio, got "${options.technology}"`);
  checkInputFile(file);
  const report = emptyReport('import coverage', fileName);
  try {
    return await runImport(
      database,
      {
        kind: 'coverage',
        name: `${technology}:${fileName}`,
        fileName,
        sha256: await sha256File(file),
        vintage: options.vintage ?? null,
        publisher: options.publisher ?? null,
        licence: options.licence ?? null,
      },
      report,
      async (context) => {
        const { trx, sourceId } = context;
        // the analyses read these points/zones: they rerun in full before commit
        context.analysisInputsChanged = true;
        let batch: { technology: string; max_down_mbps: number | null; geometry: unknown }[] = [];
        const flush = async () => {
          const [invalid] = await runNamedQuery<{ invalid: number }>(trx, namedQuery('count_invalid_geometries'), [JSON.stringify(batch)]);
          report.repaired += invalid!.invalid;
          await runNamedQuery(trx, namedQuery('insert_coverage_areas'), [JSON.stringify(batch), sourceId]);
          report.imported += batch.length;
          progress.tick(batch.length);
          batch = [];
        };
        for await (const { index, properties, geometry } of openWgs84GeoJson(file)) {
          report.read += 1;
          if (geometry === null) {
            report.rejects.push({ reason: `feature ${index}: no geometry` });
            report.rejected += 1;
            continue;
          }
          if (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon') {
            throw new ImportError({ file: fileName, feature: index }, `expected a Polygon or MultiPolygon, found ${geometry.type}`);
          }
          const problem = polygonProblem(geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates);
          if (problem) throw new ImportError({ file: fileName, feature: index }, problem);
          const raw = properties.max_down_mbps ?? null;
          const speed = raw === null || raw === '' ? null : typeof raw === 'number' || typeof raw === 'string' ? parseLocaleNumber(raw) : null;
          if (raw !== null && raw !== '' && (speed === null || speed < 0)) {
            throw new ImportError({ file: fileName, feature: index, column: 'max_down_mbps' }, `expected a speed in Mbit/s (a non-negative number), found ${JSON.stringify(raw)}`);
          }
          batch.push({ technology, max_down_mbps: speed, geometry });
          if (batch.length >= BATCH) await flush();
        }
        if (batch.length) await flush();
        if (report.read === 0) throw new ImportError({ file: fileName }, 'no features in the file');
        if (report.imported === 0) throw new ImportError({ file: fileName }, `none of the ${report.read} features has a geometry`);
      },
    );
  } finally {
    progress.done();
  }
}

/** What PostGIS would refuse to parse (ST_MakeValid repairs the rest): a malformed ring or a position off WGS84. */
function polygonProblem(polygons: unknown): string | null {
  if (!Array.isArray(polygons)) return 'expected polygon coordinates, found none';
  for (const rings of polygons) {
    if (!Array.isArray(rings) || rings.length === 0) return 'expected a polygon with at least one ring';
    for (const ring of rings) {
      if (!Array.isArray(ring) || ring.length < 4) return 'expected rings of at least 4 positions (closed)';
      for (const position of ring) {
        if (!Array.isArray(position) || typeof position[0] !== 'number' || typeof position[1] !== 'number') return `expected [longitude, latitude] positions, found ${JSON.stringify(position)}`;
        if (Math.abs(position[0]) > 180 || Math.abs(position[1]) > 90) return `expected WGS84 longitude/latitude, found ${position[0]}, ${position[1]} (projected coordinates? reproject to EPSG:4326 first)`;
      }
      const [first, last] = [ring[0] as number[], ring.at(-1) as number[]];
      if (first[0] !== last[0] || first[1] !== last[1]) return 'expected closed rings (last position equal to the first)';
    }
  }
  return null;
}
