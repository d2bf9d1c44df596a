import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Removes the demonstration territory and everything attached to it (values, places, premises, coverage,
 * synthetic indicators). Returns true when there was one to remove.
 */
export async function removeDemo(db: Kysely<DB> | Transaction<DB>): Promise<boolean> {
  const synthetic = await db.selectFrom('source').select('id').where('synthetic', '=', true).execute();
  if (synthetic.length === 0) return false;
  // Sources cascade to their values, places, premises and coverage zones.
  await db.deleteFrom('source').where('synthetic', '=', true).execute();
  await db.deleteFrom('territory').where('synthetic', '=', true).execute();
  await db.deleteFrom('indicator').where('synthetic', '=', true).execute();
  return true;
}
