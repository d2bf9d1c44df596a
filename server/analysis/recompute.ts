import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { accessStep } from './access.ts';
import { contiguityStep } from './contiguity.ts';
import { coverageStep } from './coverage.ts';
import { disparityStep } from './disparity.ts';
import { lisaStep } from './lisa.ts';
import { trendStep } from './trend.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface AnalysisStep {
  name: string;
  /** Recomputes and stores this step's results; `indicators` limits the work to those that changed (all when null). */
  run(db: Db, indicators: string[] | null): Promise<void>;
}

/**
 * The analysis steps run after every import, in order, inside the import's transaction (aggregates are
 * already recomputed then). Each analysis module exports its step; they are listed here.
 */
// coverage first: it writes indicator values (and their aggregates) the later steps read
export const ANALYSIS_STEPS: AnalysisStep[] = [coverageStep, contiguityStep, disparityStep, trendStep, lisaStep, accessStep];

/** Runs every analysis step; returns each step's time in milliseconds. */
export async function recomputeAnalysis(db: Db, indicators: string[] | null = null): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  for (const step of ANALYSIS_STEPS) {
    const started = performance.now();
    await step.run(db, indicators);
    timings[step.name] = performance.now() - started;
  }
  return timings;
}
