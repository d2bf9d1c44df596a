import { sql, type Kysely, type Transaction } from 'kysely';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * Snap tolerance of queen contiguity, in degrees (WGS84 coordinates): ~1.1 cm north–south, ~0.7 cm east–west
 * at 49° N. It absorbs floating-point noise between outlines that share their vertices (IGN ADMIN EXPRESS
 * simplified topologically by mapshaper, coordinates rounded to 1e-5°), not the gaps between départements that
 * were simplified separately. test/r/lisa.R passes the same number to spdep::poly2nb(snap=).
 */
export const SNAP_DEGREES = 1e-7;

/** Rebuilds territory_neighbour from the commune outlines (queen contiguity within SNAP_DEGREES); returns the ordered pairs written. */
export async function rebuildContiguity(db: Db): Promise<number> {
  await db.deleteFrom('territory_neighbour').execute();
  const [row] = await runNamedQuery<{ pairs: number }>(db, namedQuery('queen_contiguity'), [SNAP_DEGREES]);
  const pairs = row?.pairs ?? 0;
  // PGlite can swallow a PostGIS error and return no rows (pglite #916): outlines whose bounding boxes overlap
  // (the && operator alone, which cannot fail that way) yet no neighbour at all is not a real map.
  if (pairs === 0) {
    const overlapping = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM territory a JOIN level l ON l.id = a.level AND l.rank = 0
      JOIN territory b ON b.level = a.level AND b.id > a.id AND b.geom && a.geom`.execute(db);
    if ((overlapping.rows[0]?.n ?? 0) > 0) {
      throw new Error('building queen contiguity: commune outlines overlap yet no neighbour was found (a PostGIS error may have been swallowed)');
    }
  }
  return pairs;
}

/**
 * Analysis step: rebuilds the contiguity when territories changed (indicators = null), or when it was never
 * built while outlines exist. Must run before the LISA step.
 */
export const contiguityStep: AnalysisStep = {
  name: 'contiguity',
  async run(db, indicators) {
    if (indicators === null) {
      await rebuildContiguity(db);
      return;
    }
    // territory_neighbour has no foreign keys (migration 004): pairs of deleted communes go here, and when none is
    // left (the demo replaced by real communes) the contiguity is built anew
    await sql`
      DELETE FROM territory_neighbour n
      WHERE NOT EXISTS (SELECT 1 FROM territory t WHERE t.id = n.territory_id)
         OR NOT EXISTS (SELECT 1 FROM territory t WHERE t.id = n.neighbour_id)`.execute(db);
    if (!(await hasContiguity(db))) await rebuildContiguity(db);
  },
};

async function hasContiguity(db: Db): Promise<boolean> {
  const built = await db.selectFrom('territory_neighbour').select('territory_id').limit(1).executeTakeFirst();
  if (built) return true;
  const outlines = await db
    .selectFrom('territory')
    .innerJoin('level', 'level.id', 'territory.level')
    .where('level.rank', '=', 0)
    .where('territory.geom', 'is not', null)
    .select('territory.id')
    .limit(2)
    .execute();
  return outlines.length < 2;
}
