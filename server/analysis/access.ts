import type { Kysely, Transaction } from 'kysely';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * Recomputes metric_access: each commune's ellipsoidal distance to the nearest mediation place, then every
 * coarser territory's population-weighted mean distance and share of population beyond 10 and 20 km.
 * Nothing is stored when no place exists.
 */
export async function recomputeAccess(db: Db): Promise<void> {
  await db.deleteFrom('metric_access').execute();
  await runNamedQuery(db, namedQuery('access_communes'));
  await runNamedQuery(db, namedQuery('access_territories'));
}

/** Access to digital mediation; depends only on places and territories, so it reruns only when everything does. */
export const accessStep: AnalysisStep = {
  name: 'access',
  async run(db, indicators) {
    if (indicators !== null) return;
    await recomputeAccess(db);
  },
};
