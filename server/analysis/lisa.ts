import { createHash } from 'node:crypto';
import os from 'node:os';
import { sql, type Kysely, type Transaction } from 'kysely';
import { analysisSettings } from '../config.ts';
import { runNamedQuery } from '../db/database.ts';
import { unpackFloat64, unpackInt32 } from '../db/packed.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { hashSeed } from '../demo/random.ts';
import { computeLisa, LISA_DEFAULTS, type LisaOptions, type LisaResult, type Neighbours } from './lisa-kernel.ts';
import { LisaPool } from './lisa-pool.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

export { computeLisa, LISA_DEFAULTS, type LisaClass, type LisaOptions, type LisaResult, type Neighbours } from './lisa-kernel.ts';

/** Seed of one (indicator, vintage): independent of which other indicators are recomputed alongside. */
export function lisaSeed(baseSeed: number, indicator: string, vintage: string): number {
  return hashSeed(baseSeed, `${indicator}/${vintage}`);
}

export interface LisaStepOptions extends Partial<LisaOptions> {
  /**
   * Worker threads computing the permutations while the later analysis steps run; 0 computes them in the main
   * thread. Default: one per core but one (at least one) when the work repays starting them (WORKER_MIN_WORK), else 0.
   */
  threads?: number;
}

/** Permutations × (communes + neighbour links) summed over the runs, from which workers pay off (≈ 1 s of CPU). */
const WORKER_MIN_WORK = 3e8;

/** Part of every inputs hash: change it when computeLisa's results change, so stored runs are recomputed. */
const KERNEL_VERSION = 'lisa-1';

/** One indicator × vintage to compute: communes ordered by code, their neighbours among them, the run's options. */
interface LisaRun {
  indicator: string;
  vintage: string;
  ids: number[];
  values: Float64Array;
  neighbours: Neighbours;
  options: LisaOptions;
  hash: string;
  /** Computing in a worker; computed in the main thread when absent. */
  result?: Promise<LisaResult>;
}

/**
 * Creates the LISA step: local and global Moran's I of every indicator with commune values (or of the listed
 * ones), every vintage, over the communes that have both an outline and a value, on territory_neighbour (the
 * contiguity step must run first). Results go to metric_lisa and metric_moran. An indicator × vintage whose inputs
 * (communes, values, neighbours, options) hash as when it was stored is left as it is.
 * `start` reads the inputs and sets the workers going; the function it returns waits for them and stores
 * (recomputeAnalysis runs the later steps in between).
 */
export function createLisaStep(stepOptions: LisaStepOptions = {}): AnalysisStep & Required<Pick<AnalysisStep, 'start'>> {
  const { threads, ...lisaOptions } = stepOptions;
  const step = {
    name: 'lisa',
    async run(db: Db, indicators: string[] | null) {
      await (await step.start(db, indicators))(true);
    },
    async start(db: Db, indicators: string[] | null) {
      if (indicators !== null && indicators.length === 0) return async () => undefined;
      const options: LisaOptions = { ...LISA_DEFAULTS, ...lisaOptions, ties: lisaOptions.ties ?? analysisSettings().lisaTies };
      const runs = await planRuns(db, indicators, options);
      const work = runs.reduce((sum, r) => sum + options.permutations * (r.ids.length + r.neighbours.indices.length), 0);
      // one core left to the main thread and the database, which go on with the next steps meanwhile
      const count = Math.min(runs.length, threads ?? (work >= WORKER_MIN_WORK ? Math.max(1, os.availableParallelism() - 1) : 0));
      const pool = count > 0 ? new LisaPool(count) : null;
      for (const run of runs) {
        if (!pool) continue;
        run.result = pool.compute(run.values, run.neighbours, run.options);
        // awaited when stored; a failure meanwhile must not be an unhandled rejection
        run.result.catch(() => undefined);
      }
      return async (store: boolean) => {
        try {
          if (!store) return;
          for (const run of runs) await storeRun(db, run, await (run.result ?? computeLisa(run.values, run.neighbours, run.options)));
        } finally {
          await pool?.close();
        }
      };
    },
  };
  return step;
}

/** The LISA step with the default options (999 permutations, fixed seed, 0.05, tie rule from TERRINUM_LISA_TIES). */
export const lisaStep = createLisaStep();

/**
 * Reads the inputs of every indicator × vintage (of `indicators`, or all), removes the stored runs that no longer
 * have inputs, and returns the runs whose inputs changed.
 */
async function planRuns(db: Db, indicators: string[] | null, options: LisaOptions): Promise<LisaRun[]> {
  const groups = (await runNamedQuery<{ indicator_id: string; vintage: string; ids: Uint8Array; values: Uint8Array }>(db, namedQuery('lisa_inputs'), [indicators])).map(
    (g) => ({ indicator_id: g.indicator_id, vintage: g.vintage, ids: Array.from(unpackInt32(g.ids)), values: unpackFloat64(g.values) }),
  );
  let storedQuery = db.selectFrom('metric_moran').select(['indicator_id', 'vintage', 'inputs_hash']);
  if (indicators !== null) storedQuery = storedQuery.where('indicator_id', 'in', indicators);
  const stored = new Map((await storedQuery.execute()).map((m) => [`${m.indicator_id}/${m.vintage}`, m.inputs_hash]));
  const current = new Set(groups.map((g) => `${g.indicator_id}/${g.vintage}`));
  // runs left without inputs; their metric_lisa rows go just below
  for (const key of stored.keys()) {
    if (current.has(key)) continue;
    const [indicator, vintage] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    await db.deleteFrom('metric_moran').where('indicator_id', '=', indicator).where('vintage', '=', vintage).execute();
  }
  // metric_lisa has no foreign keys (migration 004: they cost more than the rest of its writes): the rows of a run
  // no longer stored (its indicator deleted, metric_moran cascading, or its inputs gone) or of a deleted territory
  await sql`
    DELETE FROM metric_lisa l
    WHERE NOT EXISTS (SELECT 1 FROM metric_moran m WHERE m.indicator_id = l.indicator_id AND m.vintage = l.vintage)
       OR NOT EXISTS (SELECT 1 FROM territory t WHERE t.id = l.territory_id)`.execute(db);
  const adjacency = groups.length ? await loadAdjacency(db) : new Map<number, number[]>();
  const runs: LisaRun[] = [];
  // the vintages of an indicator usually cover the same communes: one neighbour subset for all of them
  const subsets = new Map<string, Neighbours>();
  for (const g of groups) {
    const key = createHash('sha256').update(Int32Array.from(g.ids)).digest('hex');
    const neighbours = subsets.get(key) ?? subsetNeighbours(g.ids, adjacency);
    subsets.set(key, neighbours);
    const runOptions: LisaOptions = { permutations: options.permutations, seed: lisaSeed(options.seed, g.indicator_id, g.vintage), significance: options.significance, ties: options.ties ?? 'conservative' };
    const values = g.values;
    const hash = inputsHash(g.ids, values, neighbours, runOptions);
    if (stored.get(`${g.indicator_id}/${g.vintage}`) === hash) continue;
    runs.push({ indicator: g.indicator_id, vintage: g.vintage, ids: g.ids, values, neighbours, options: runOptions, hash });
  }
  return runs;
}

function inputsHash(ids: readonly number[], values: Float64Array, neighbours: Neighbours, options: LisaOptions): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([KERNEL_VERSION, options.permutations, options.seed, options.significance, options.ties]));
  for (const array of [Int32Array.from(ids), values, neighbours.offsets, neighbours.indices]) hash.update(array);
  return hash.digest('hex');
}

async function loadAdjacency(db: Db): Promise<Map<number, number[]>> {
  const [pairs] = await runNamedQuery<{ ids: Uint8Array | null; neighbours: Uint8Array | null }>(db, namedQuery('lisa_neighbours'));
  const adjacency = new Map<number, number[]>();
  const ids = unpackInt32(pairs?.ids ?? null);
  const neighbours = unpackInt32(pairs?.neighbours ?? null);
  for (let e = 0; e < ids.length; e++) {
    let list = adjacency.get(ids[e]!);
    if (!list) adjacency.set(ids[e]!, (list = []));
    list.push(neighbours[e]!);
  }
  return adjacency;
}

/** Neighbours restricted to the communes with a value (their weights renormalised by row standardisation), in CSR. */
export function subsetNeighbours(ids: readonly number[], adjacency: ReadonlyMap<number, readonly number[]>): Neighbours {
  // position of each territory id among `ids` (ids are serial integers: an array beats a Map here)
  let maxId = -1;
  for (const id of ids) maxId = Math.max(maxId, id);
  const position = new Int32Array(maxId + 1).fill(-1);
  ids.forEach((id, i) => (position[id] = i));
  const offsets = new Int32Array(ids.length + 1);
  const indices: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const start = indices.length;
    for (const j of adjacency.get(ids[i]!) ?? []) {
      const p = j <= maxId ? position[j]! : -1;
      if (p < 0) continue;
      // insertion sort (a handful of neighbours): communes are ordered by code, so neighbours ordered by position are
      // ordered by code — the same sums on every backend
      let t = indices.length;
      indices.push(p);
      while (t > start && indices[t - 1]! > p) {
        indices[t] = indices[t - 1]!;
        t--;
      }
      indices[t] = p;
    }
    offsets[i + 1] = indices.length;
  }
  return { offsets, indices: Int32Array.from(indices) };
}

/** Replaces the stored rows of one indicator × vintage: one statement per table (arrays, not rows, as parameters). */
async function storeRun(db: Db, run: LisaRun, result: LisaResult): Promise<void> {
  const { indicator, vintage, ids, neighbours, options } = run;
  await db.deleteFrom('metric_lisa').where('indicator_id', '=', indicator).where('vintage', '=', vintage).execute();
  await db.deleteFrom('metric_moran').where('indicator_id', '=', indicator).where('vintage', '=', vintage).execute();
  const finite = (x: number) => (Number.isNaN(x) ? null : x);
  // five array parameters: far below PGlite's limit of 32,767 bound parameters whatever the number of communes
  await runNamedQuery(db, namedQuery('store_lisa'), [
    indicator,
    vintage,
    ids,
    Array.from(result.localI, finite),
    Array.from(result.localP, finite),
    result.classes,
    Array.from({ length: ids.length }, (_, i) => neighbours.offsets[i + 1]! - neighbours.offsets[i]!),
  ]);
  await db
    .insertInto('metric_moran')
    .values({
      indicator_id: indicator,
      vintage,
      moran_i: result.globalI,
      p_value: result.globalP,
      permutations: options.permutations,
      seed: options.seed,
      communes: ids.length,
      islands: result.islands,
      ties: options.ties ?? 'conservative',
      inputs_hash: run.hash,
    })
    .execute();
}
