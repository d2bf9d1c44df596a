import type { Kysely, Transaction } from 'kysely';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';

/**
 * Recomputes the EPCI, département, région… values of one indicator from its commune values
 * (ratio of sums, see sql/queries/aggregate_indicator.sql). Call inside the import's transaction.
 */
export async function recomputeAggregates(trx: Transaction<DB> | Kysely<DB>, indicatorId: string): Promise<void> {
  await trx
    .deleteFrom('indicator_value')
    .where('indicator_id', '=', indicatorId)
    .where('territory_id', 'in', (qb) =>
      qb.selectFrom('territory').innerJoin('level', 'level.id', 'territory.level').where('level.rank', '>', 0).select('territory.id'),
    )
    // imported figures of a coarser level (a publisher's own, with their source) are kept; computed ones have none
    .where('source_id', 'is', null)
    .execute();
  await runNamedQuery(trx, namedQuery('aggregate_indicator'), [indicatorId]);
}

/** Recomputes the aggregates of every indicator that has commune values. */
export async function recomputeAllAggregates(trx: Transaction<DB> | Kysely<DB>): Promise<void> {
  const indicators = await trx.selectFrom('indicator').select('id').orderBy('id').execute();
  for (const { id } of indicators) await recomputeAggregates(trx, id);
}
