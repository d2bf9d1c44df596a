import { sql, type Kysely, type Transaction } from 'kysely';
import type { AnalysisStep } from '../analysis/recompute.ts';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { ZOOM_BANDS, bandTolerance } from './layers.ts';
import { PRECUT_MAX_ZOOM, precutTiles } from './precut.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** Rebuilds tile_geometry from the territories' outlines, then the low-zoom tiles cut from it; returns the rows written. */
export async function rebuildTileGeometry(db: Db, fingerprint?: string): Promise<number> {
  await sql`DELETE FROM tile_geometry`.execute(db);
  const bands = ZOOM_BANDS.map((_, band) => band);
  const [row] = await runNamedQuery<{ rows: number }>(db, namedQuery('tile_generalise'), [bands, bands.map(bandTolerance)]);
  const written = row?.rows ?? 0;
  // PGlite can swallow a PostGIS error and answer no rows (pglite #916): every outline must have its bands
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM territory WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)`.execute(db);
  const expected = (rows[0]?.n ?? 0) * bands.length;
  if (written !== expected) throw new Error(`generalising outlines for tiles: ${written} rows written, ${expected} expected (a PostGIS error may have been swallowed)`);
  const stamp = fingerprint ?? (await outlineFingerprint(db));
  await sql`INSERT INTO tile_geometry_source (id, fingerprint) VALUES (true, ${stamp}) ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint`.execute(db);
  // fresh statistics, so tile queries combine the (level, band) and GiST indexes (PGlite has no autovacuum)
  await sql`ANALYZE tile_geometry`.execute(db);
  await precutTiles(db);
  return written;
}

/** Hash of the outlines, of the bands' tolerances tile_geometry is built from and of the zooms cut beforehand. */
async function outlineFingerprint(db: Db): Promise<string> {
  const tolerances = `${ZOOM_BANDS.map((_, band) => bandTolerance(band)).join(',')};precut z0-${PRECUT_MAX_ZOOM}`;
  const [row] = await runNamedQuery<{ fingerprint: string }>(db, namedQuery('tile_outline_fingerprint'), [tolerances]);
  return row!.fingerprint;
}

/** Whether tile_geometry was never built while outlines exist (cheap: for the request path). */
export async function tileGeometryMissing(db: Db): Promise<boolean> {
  const { rows } = await sql<{ missing: boolean }>`
    SELECT NOT EXISTS (SELECT 1 FROM tile_geometry) AND EXISTS (SELECT 1 FROM territory WHERE geom IS NOT NULL) AS missing`.execute(db);
  return rows[0]?.missing ?? false;
}

/**
 * Analysis step: rebuilds the generalised outlines when they no longer match the outlines (or the bands): after
 * imports that changed territories, never after those that only touched indicator values or points and zones.
 */
export const tileGeometryStep: AnalysisStep = {
  name: 'tile-geometry',
  async run(db, indicators) {
    // only values changed: the outlines did not (unless never built, e.g. a database migrated with data in it)
    if (indicators !== null && !(await tileGeometryMissing(db))) return;
    const fingerprint = await outlineFingerprint(db);
    const { rows } = await sql<{ fingerprint: string }>`SELECT fingerprint FROM tile_geometry_source`.execute(db);
    if (rows[0]?.fingerprint !== fingerprint) await rebuildTileGeometry(db, fingerprint);
  },
};
