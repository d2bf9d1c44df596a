import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { hashSeed, Random } from '../demo/random.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

export type LisaClass = 'HH' | 'LL' | 'HL' | 'LH' | 'ns' | 'island';

/** Neighbour lists in compressed sparse rows: the neighbours of i are indices[offsets[i] .. offsets[i + 1]). */
export interface Neighbours {
  offsets: Int32Array;
  indices: Int32Array;
}

export interface LisaOptions {
  permutations: number;
  seed: number;
  /** Pseudo p-value at or below which a commune is in a cluster (HH, LL) or an outlier (HL, LH). */
  significance: number;
  /**
   * Permuted values equal to the observed one: 'both' counts them as ≥ and as ≤ (p = (min(#≥, #≤) + 1) / (perms + 1));
   * 'geoda' counts them as ≥ only, as GeoDa and spdep do (min(#≥, #<)), which makes a commune whose neighbours all
   * share a very frequent value (e.g. 0 % coverage) look significant. Default 'both'.
   */
  ties?: 'both' | 'geoda';
}

/** Defaults of the LISA step: GeoDa's 999 permutations and 0.05 cut-off; a fixed seed, so results are reproducible. */
export const LISA_DEFAULTS: Readonly<LisaOptions> = Object.freeze({ permutations: 999, seed: 20180331, significance: 0.05 });

export interface LisaResult {
  /** Local Moran's I; NaN for islands and when every value is equal. */
  localI: Float64Array;
  /** Folded conditional-permutation pseudo p-value; NaN where localI is NaN. */
  localP: Float64Array;
  classes: LisaClass[];
  /** Global Moran's I and its folded pseudo p-value (total permutation); null when undefined. */
  globalI: number | null;
  globalP: number | null;
  islands: number;
}

/**
 * Local and global Moran's I with row-standardised weights, as spdep 1.2 (localmoran, moran.test with
 * zero.policy = TRUE): z = x − mean(x) over every observation (islands included), m2 = Σz²/n,
 * I_i = z_i / m2 · Σ_j w_ij z_j; global I = Σ_i z_i Σ_j w_ij z_j / Σz² (n and S0 both exclude islands).
 * Pseudo p-values follow GeoDa: p = (min(#perm ≥ obs, #perm ≤ obs) + 1) / (permutations + 1); local ones by
 * conditional permutation (the k_i neighbour values of i drawn without replacement from the n − 1 others).
 */
export function computeLisa(values: Float64Array, neighbours: Neighbours, options: LisaOptions = LISA_DEFAULTS): LisaResult {
  const n = values.length;
  const { offsets, indices } = neighbours;
  const { permutations } = options;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  const z = new Float64Array(n);
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    z[i] = values[i]! - mean;
    sumSquares += z[i]! * z[i]!;
  }
  const m2 = sumSquares / n;
  const localI = new Float64Array(n).fill(Number.NaN);
  const localP = new Float64Array(n).fill(Number.NaN);
  const classes = new Array<LisaClass>(n);
  const lagSum = new Float64Array(n);
  let islands = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    const k = offsets[i + 1]! - offsets[i]!;
    if (k === 0) {
      islands++;
      classes[i] = 'island';
      continue;
    }
    let sum = 0;
    for (let e = offsets[i]!; e < offsets[i + 1]!; e++) sum += z[indices[e]!]!;
    lagSum[i] = sum;
    cross += z[i]! * sum * (1 / k);
    classes[i] = 'ns';
  }
  if (!(m2 > 0)) return { localI, localP, classes, globalI: null, globalP: null, islands };

  // Conditional permutation with draws shared by every commune, as PySAL's esda (crand): permutation p draws
  // kmax distinct positions among n − 1 once; commune i uses the first k_i, shifted by one from i on so that
  // i itself is never drawn. Each commune still gets a uniform sample of its k_i among the n − 1 others.
  let kmax = 0;
  for (let i = 0; i < n; i++) kmax = Math.max(kmax, offsets[i + 1]! - offsets[i]!);
  const draws = new Int32Array(permutations * kmax);
  const pool = new Int32Array(Math.max(n - 1, 0));
  for (let j = 0; j < pool.length; j++) pool[j] = j;
  const localRng = new Random(hashSeed(options.seed, 'local'));
  for (let p = 0; p < permutations; p++) {
    // partial Fisher–Yates; the pool stays a permutation of 0…n−2, which is all the next draw needs
    for (let t = 0; t < kmax; t++) {
      const r = t + Math.floor(localRng.next() * (pool.length - t));
      const picked = pool[r]!;
      pool[r] = pool[t]!;
      pool[t] = picked;
      draws[p * kmax + t] = picked;
    }
  }
  for (let i = 0; i < n; i++) {
    const k = offsets[i + 1]! - offsets[i]!;
    if (k === 0) continue;
    const zi = z[i]!;
    const observed = lagSum[i]!;
    localI[i] = (zi / m2) * (observed / k);
    let above = 0;
    let below = 0;
    for (let p = 0; p < permutations; p++) {
      let sum = 0;
      for (let t = p * kmax, last = t + k; t < last; t++) {
        const picked = draws[t]!;
        sum += z[picked >= i ? picked + 1 : picked]!;
      }
      // I_i is z_i/(m2·k) times the neighbour sum: comparing sums orders the permuted I the same way (or
      // reversed when z_i < 0, which the folded count ignores)
      if (sum >= observed) above++;
      if (sum <= observed) below++;
    }
    // in I terms, "≥" is "sum ≥" when z_i > 0 and "sum ≤" when z_i < 0
    const atLeast = zi > 0 ? above : below;
    const extreme = options.ties === 'geoda' ? Math.min(atLeast, permutations - atLeast) : Math.min(above, below);
    const p = zi === 0 ? 1 : (extreme + 1) / (permutations + 1);
    localP[i] = p;
    if (p <= options.significance) classes[i] = quadrant(zi, observed);
  }

  const globalI = cross / sumSquares;
  const globalRng = new Random(hashSeed(options.seed, 'global'));
  const shuffled = Float64Array.from(z);
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) weight[i] = offsets[i + 1]! > offsets[i]! ? 1 / (offsets[i + 1]! - offsets[i]!) : 0;
  let above = 0;
  let below = 0;
  for (let p = 0; p < permutations; p++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(globalRng.next() * (i + 1));
      const t = shuffled[i]!;
      shuffled[i] = shuffled[j]!;
      shuffled[j] = t;
    }
    let permuted = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let e = offsets[i]!, last = offsets[i + 1]!; e < last; e++) sum += shuffled[indices[e]!]!;
      permuted += shuffled[i]! * sum * weight[i]!;
    }
    if (permuted >= cross) above++;
    if (permuted <= cross) below++;
  }
  const extreme = options.ties === 'geoda' ? Math.min(above, permutations - above) : Math.min(above, below);
  const globalP = islands === n ? null : (extreme + 1) / (permutations + 1);
  return { localI, localP, classes, globalI: islands === n ? null : globalI, globalP, islands };
}

function quadrant(z: number, lag: number): LisaClass {
  if (z > 0 && lag > 0) return 'HH';
  if (z < 0 && lag < 0) return 'LL';
  if (z > 0 && lag < 0) return 'HL';
  if (z < 0 && lag > 0) return 'LH';
  return 'ns';
}

/** Seed of one (indicator, vintage): independent of which other indicators are recomputed alongside. */
export function lisaSeed(baseSeed: number, indicator: string, vintage: string): number {
  return hashSeed(baseSeed, `${indicator}/${vintage}`);
}

/**
 * Creates the LISA step: local and global Moran's I of every indicator with commune values (or of the changed
 * ones), every vintage, over the communes that have both an outline and a value, on territory_neighbour
 * (the contiguity step must run first). Results go to metric_lisa and metric_moran.
 */
export function createLisaStep(options: LisaOptions = LISA_DEFAULTS): AnalysisStep {
  return {
    name: 'lisa',
    async run(db, indicators) {
      let remove = db.deleteFrom('metric_lisa');
      let removeMoran = db.deleteFrom('metric_moran');
      if (indicators !== null) {
        if (indicators.length === 0) return;
        remove = remove.where('indicator_id', 'in', indicators);
        removeMoran = removeMoran.where('indicator_id', 'in', indicators);
      }
      await remove.execute();
      await removeMoran.execute();
      const adjacency = await loadAdjacency(db);
      let query = db
        .selectFrom('indicator_value as v')
        .innerJoin('territory as t', 't.id', 'v.territory_id')
        .innerJoin('level as l', 'l.id', 't.level')
        .where('l.rank', '=', 0)
        .where('t.geom', 'is not', null)
        .where('v.value', 'is not', null)
        .select(['v.indicator_id', 'v.vintage', 't.id', 'v.value'])
        .orderBy('v.indicator_id')
        .orderBy('v.vintage')
        .orderBy('t.code');
      if (indicators !== null) query = query.where('v.indicator_id', 'in', indicators);
      const rows = await query.execute();
      let begin = 0;
      while (begin < rows.length) {
        let end = begin;
        while (end < rows.length && rows[end]!.indicator_id === rows[begin]!.indicator_id && rows[end]!.vintage === rows[begin]!.vintage) end++;
        const group = rows.slice(begin, end).filter((r) => Number.isFinite(r.value));
        await storeLisa(db, rows[begin]!.indicator_id, rows[begin]!.vintage, group, adjacency, options);
        begin = end;
      }
    },
  };
}

/** The LISA step with the default options (999 permutations, fixed seed, 0.05). */
export const lisaStep: AnalysisStep = createLisaStep();

async function loadAdjacency(db: Db): Promise<Map<number, number[]>> {
  const pairs = await db.selectFrom('territory_neighbour').select(['territory_id', 'neighbour_id']).execute();
  const adjacency = new Map<number, number[]>();
  for (const { territory_id, neighbour_id } of pairs) {
    let list = adjacency.get(territory_id);
    if (!list) adjacency.set(territory_id, (list = []));
    list.push(neighbour_id);
  }
  return adjacency;
}

/** Neighbours restricted to the communes with a value (their weights renormalised by row standardisation), in CSR. */
export function subsetNeighbours(ids: readonly number[], adjacency: ReadonlyMap<number, readonly number[]>): Neighbours {
  const position = new Map(ids.map((id, i) => [id, i]));
  const offsets = new Int32Array(ids.length + 1);
  const lists = ids.map((id) => {
    const list = (adjacency.get(id) ?? []).map((j) => position.get(j)).filter((j): j is number => j !== undefined);
    // communes are ordered by code, so neighbours ordered by position are ordered by code: same sums on every backend
    return list.sort((a, b) => a - b);
  });
  lists.forEach((list, i) => (offsets[i + 1] = offsets[i]! + list.length));
  const indices = new Int32Array(offsets[ids.length]!);
  lists.forEach((list, i) => indices.set(list, offsets[i]!));
  return { offsets, indices };
}

async function storeLisa(
  db: Db,
  indicator: string,
  vintage: string,
  rows: { id: number; value: number | null }[],
  adjacency: ReadonlyMap<number, readonly number[]>,
  options: LisaOptions,
): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((r) => r.id);
  const neighbours = subsetNeighbours(ids, adjacency);
  const seed = lisaSeed(options.seed, indicator, vintage);
  const result = computeLisa(Float64Array.from(rows, (r) => r.value!), neighbours, { ...options, seed });
  const finite = (x: number) => (Number.isNaN(x) ? null : x);
  const lisaRows = ids.map((id, i) => ({
    indicator_id: indicator,
    territory_id: id,
    vintage,
    lisa_i: finite(result.localI[i]!),
    lisa_p: finite(result.localP[i]!),
    lisa_class: result.classes[i]!,
    neighbours: neighbours.offsets[i + 1]! - neighbours.offsets[i]!,
  }));
  // 7 parameters a row: 28,000 a statement. PGlite 0.5 takes at most 32,767 (not PostgreSQL's 65,535): from
  // 32,768 on, the statement and every later one on the connection silently return no rows (no error)
  for (let start = 0; start < lisaRows.length; start += 4000) {
    await db.insertInto('metric_lisa').values(lisaRows.slice(start, start + 4000)).execute();
  }
  await db
    .insertInto('metric_moran')
    .values({
      indicator_id: indicator,
      vintage,
      moran_i: result.globalI,
      p_value: result.globalP,
      permutations: options.permutations,
      seed,
      communes: ids.length,
      islands: result.islands,
    })
    .execute();
}
