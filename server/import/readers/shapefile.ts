import fs from 'node:fs';
import path from 'node:path';
import type { Geometry } from 'geojson';
import * as shapefile from 'shapefile';
import { ImportError } from '../errors.ts';
import { siblingFile, type FeatureRecord, type FeatureSource, type SourceCrs } from './feature-source.ts';

export interface ShapefileOptions {
  /** The coordinate system when the .prj is missing (or wrong), e.g. { srid: 2154 }. */
  crs?: SourceCrs;
}

/**
 * Streams the features of a Shapefile (.shp + .dbf, record by record). The coordinate system comes from the
 * .prj (IGN ADMIN EXPRESS: Lambert-93, EPSG:2154, as ESRI WKT) and the .dbf encoding from the .cpg.
 */
export function openShapefile(file: string, options: ShapefileOptions = {}): FeatureSource {
  const fileName = path.basename(file);
  const dbf = siblingFile(file, 'dbf');
  if (!dbf) throw new ImportError({ file: fileName }, `the attribute table ${path.basename(file, path.extname(file))}.dbf is missing next to the .shp`);
  let crs = options.crs ?? null;
  if (!crs) {
    const prj = siblingFile(file, 'prj');
    if (!prj) {
      throw new ImportError(
        { file: fileName },
        `the coordinate system file ${path.basename(file, path.extname(file))}.prj is missing: add it, or give --crs EPSG:NNNN (ADMIN EXPRESS: EPSG:2154)`,
      );
    }
    const definition = fs.readFileSync(prj, 'utf8').trim();
    if (!definition) throw new ImportError({ file: path.basename(prj) }, 'the .prj file is empty');
    crs = { definition, label: path.basename(prj) };
  }
  const encoding = dbfEncoding(file);

  async function* features(): AsyncGenerator<FeatureRecord> {
    let index = 0;
    let source: Awaited<ReturnType<typeof shapefile.open>>;
    try {
      source = await shapefile.open(file, dbf!, { encoding });
    } catch (error) {
      throw new ImportError({ file: fileName }, `not a readable Shapefile: ${(error as Error).message}`);
    }
    try {
      for (;;) {
        let result: { done: boolean; value: { properties: Record<string, unknown> | null; geometry: unknown } };
        try {
          result = await source.read();
        } catch (error) {
          throw new ImportError({ file: fileName, feature: index + 1 }, `cannot read this record (truncated or broken .shp/.dbf?): ${(error as Error).message}`);
        }
        if (result.done) break;
        index += 1;
        yield { index, properties: result.value.properties ?? {}, geometry: (result.value.geometry ?? null) as Geometry | null };
      }
    } finally {
      await source.cancel().catch(() => undefined);
    }
  }

  return { crs, [Symbol.asyncIterator]: features };
}

/**
 * The .dbf text encoding: the .cpg when present (ADMIN EXPRESS ships "UTF-8"), else ISO-8859-1 as GDAL
 * assumes (decoded as its superset Windows-1252).
 */
function dbfEncoding(file: string): string {
  const cpg = siblingFile(file, 'cpg');
  if (!cpg) return 'windows-1252';
  const declared = fs.readFileSync(cpg, 'latin1').trim();
  // .cpg files say "UTF-8", "1252", "ANSI 1252", "8859_1", "ISO-8859-1"…
  const bare = declared.replace(/^ANSI\s*/i, '');
  const label = /^\d+$/.test(bare)
    ? bare === '65001' ? 'utf-8' : `windows-${bare}`
    : /^8859_\d+$/.test(bare) ? `iso-8859-${bare.slice(5)}` : bare.toLowerCase();
  try {
    new TextDecoder(label);
  } catch {
    throw new ImportError({ file: path.basename(cpg) }, `unknown text encoding "${declared}": expected e.g. UTF-8, ISO-8859-1 or 1252`);
  }
  return label;
}
