import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { accessStep } from './access.ts';
import { contiguityStep } from './contiguity.ts';
import { coverageStep } from './coverage.ts';
import { disparityStep } from './disparity.ts';
import { lisaStep } from './lisa.ts';
import { trendStep } from './trend.ts';
import { tileGeometryStep } from '../tiles/generalise.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface AnalysisStep {
  name: string;
  /** Recomputes and stores this step's results; `indicators` limits the work to those that changed (all when null). */
  run(db: Db, indicators: string[] | null): Promise<void>;
  /**
   * Optional, instead of run: starts the step and returns the function that completes it, which recomputeAnalysis
   * calls after the later steps (the LISA step's permutations run in worker threads meanwhile); `store = false`
   * abandons it (a later step failed).
   */
  start?(db: Db, indicators: string[] | null): Promise<(store: boolean) => Promise<void>>;
}

/**
 * The analysis steps run after every import, in order, inside the import's transaction (aggregates are
 * already recomputed then). Each analysis module exports its step; they are listed here.
 */
// coverage first: it writes indicator values (and their aggregates) the later steps read
// lisa right after contiguity: its permutations run in worker threads while the SQL steps after it run
// tile-geometry: the generalised outlines vector tiles are cut from (server/tiles), rebuilt when outlines change
export const ANALYSIS_STEPS: AnalysisStep[] = [coverageStep, contiguityStep, lisaStep, disparityStep, trendStep, accessStep, tileGeometryStep];

/**
 * Settings of an import's transaction, for its aggregates and analyses: sorts and hashes over every commune value
 * (aggregation, trends, ordered array inputs) fit in memory instead of spilling to disk at the default 4 MB.
 * SET LOCAL: the transaction's end restores the connection's settings.
 */
export async function prepareAnalysisTransaction(trx: Transaction<DB>): Promise<void> {
  await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
}

/** Runs every analysis step; returns each step's time in milliseconds (a started step: its start plus its completion). */
export async function recomputeAnalysis(db: Db, indicators: string[] | null = null): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  const pending: { name: string; complete: (store: boolean) => Promise<void> }[] = [];
  const timed = async (name: string, body: () => Promise<void>) => {
    const started = performance.now();
    await body();
    timings[name] = (timings[name] ?? 0) + performance.now() - started;
  };
  try {
    for (const step of ANALYSIS_STEPS) {
      await timed(step.name, async () => {
        if (step.start) pending.push({ name: step.name, complete: await step.start(db, indicators) });
        else await step.run(db, indicators);
      });
    }
    while (pending.length) {
      await timed(pending[0]!.name, () => pending[0]!.complete(true));
      pending.shift();
    }
  } finally {
    for (const { complete } of pending) await complete(false).catch(() => undefined);
  }
  return timings;
}
