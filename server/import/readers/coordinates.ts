import type { Kysely } from 'kysely';
import { runNamedQuery } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';
import { namedQuery } from '../../db/sql-files.ts';
import { ImportError } from '../errors.ts';

/** SRID of a `--crs` value: `EPSG:2154`, `epsg:4326` or `2154`. */
export function parseCrs(fileName: string, crs: string | undefined): number {
  if (crs === undefined) return 4326;
  const match = /^(?:EPSG:)?(\d{4,6})$/i.exec(crs.trim());
  if (!match) throw new ImportError({ file: fileName }, `--crs must be EPSG:<code>, e.g. EPSG:2154 (Lambert-93), got "${crs}"`);
  return Number(match[1]);
}

/** Fails unless PostGIS knows the SRID, before any batch is sent. */
export async function checkSrid(db: Kysely<DB>, fileName: string, srid: number): Promise<void> {
  const [row] = await runNamedQuery<{ known: boolean }>(db, namedQuery('srid_exists'), [srid]);
  if (!row?.known) throw new ImportError({ file: fileName }, `unknown CRS EPSG:${srid} (--crs): PostGIS has no such SRID`);
}

/** Checks a WGS84 position; x/y in metres given without --crs are the usual mistake. */
export function checkLonLat(location: { file: string; line?: number; feature?: number }, lon: number, lat: number): void {
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    throw new ImportError(
      { ...location, column: lon < -180 || lon > 180 ? 'lon' : 'lat' },
      `expected WGS84 longitude/latitude, found ${lon}, ${lat}; projected coordinates (e.g. Lambert-93 in metres) need --crs EPSG:2154`,
    );
  }
}
