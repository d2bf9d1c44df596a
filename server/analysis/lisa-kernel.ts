/**
 * The LISA permutation kernel: local and global Moran's I with conditional-permutation pseudo p-values. Kept apart
 * from the step (lisa.ts) with nothing but the random generator as a dependency: the worker threads of
 * lisa-pool.ts load this module alone, not the database stack.
 */
import type { LisaTies } from '../config.ts';
import { hashSeed, Random } from '../demo/random.ts';

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
   * Permuted values equal to the observed one: 'conservative' counts them as ≥ and as ≤ (p = (min(#≥, #≤) + 1) /
   * (perms + 1)); 'geoda' counts them as ≥ only, as GeoDa and spdep do (min(#≥, #<)), which makes a commune whose
   * neighbours all share a very frequent value (e.g. 0 % coverage) look significant. Default 'conservative'.
   */
  ties?: LisaTies;
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
  const counts = countLocalPermutations(z, lagSum, offsets, draws, kmax, permutations);
  for (let i = 0; i < n; i++) {
    const k = offsets[i + 1]! - offsets[i]!;
    if (k === 0) continue;
    const zi = z[i]!;
    const observed = lagSum[i]!;
    localI[i] = (zi / m2) * (observed / k);
    // I_i is z_i/(m2·k) times the neighbour sum: comparing sums orders the permuted I the same way (or reversed
    // when z_i < 0). In I terms, "≥" is "sum ≥" when z_i > 0 and "sum ≤" when z_i < 0.
    const atLeast = zi > 0 ? counts.above[i]! : counts.below[i]!;
    const extreme = options.ties === 'geoda' ? Math.min(atLeast, permutations - atLeast) : Math.min(counts.above[i]!, counts.below[i]!);
    const p = zi === 0 ? 1 : (extreme + 1) / (permutations + 1);
    localP[i] = p;
    if (p <= options.significance) classes[i] = quadrant(zi, observed);
  }

  const globalI = cross / sumSquares;
  // the generator of Random (mulberry32) inlined in the shuffle below: the same numbers in half the time
  let state = hashSeed(options.seed, 'global') >>> 0;
  const shuffled = Float64Array.from(z);
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) weight[i] = offsets[i + 1]! > offsets[i]! ? 1 / (offsets[i + 1]! - offsets[i]!) : 0;
  let above = 0;
  let below = 0;
  for (let p = 0; p < permutations; p++) {
    for (let i = n - 1; i > 0; i--) {
      state = (state + 0x6d2b79f5) >>> 0;
      let u = state;
      u = Math.imul(u ^ (u >>> 15), u | 1);
      u ^= u + Math.imul(u ^ (u >>> 7), u | 61);
      const j = Math.floor((((u ^ (u >>> 14)) >>> 0) / 4294967296) * (i + 1));
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

/**
 * For every commune i, how many permutations give a neighbour sum ≥ (above) and ≤ (below) the observed one. The
 * permuted sum of i in permutation p is Σ_{t < k_i} z[d_t + (d_t ≥ i)] over the draws d_t of p, in draw order. It
 * depends on i only through k_i and r = #{t < k_i : d_t < i}: so for each permutation and each number of
 * neighbours k, the k + 1 possible sums are computed once (same terms, same order: the same floating-point sums as
 * summing commune by commune), and the communes with k neighbours, in index order, just look theirs up — n
 * comparisons per permutation instead of Σ k_i random reads.
 */
function countLocalPermutations(z: Float64Array, lagSum: Float64Array, offsets: Int32Array, draws: Int32Array, kmax: number, permutations: number) {
  const n = z.length;
  const above = new Int32Array(n);
  const below = new Int32Array(n);
  // communes grouped by number of neighbours, each group in index order (islands, k = 0, take no part)
  const byDegree = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = offsets[i + 1]! - offsets[i]!;
    if (k === 0) continue;
    let group = byDegree.get(k);
    if (!group) byDegree.set(k, (group = []));
    group.push(i);
  }
  const groups = [...byDegree].map(([k, members]) => ({ k, members: Int32Array.from(members) }));
  const sorted = new Int32Array(kmax);
  const sums = new Float64Array(kmax + 1);
  for (let p = 0; p < permutations; p++) {
    const first = p * kmax;
    for (const { k, members } of groups) {
      // the k first draws of permutation p in ascending order (insertion sort: k is a handful)
      for (let t = 0; t < k; t++) {
        const d = draws[first + t]!;
        let u = t;
        for (; u > 0 && sorted[u - 1]! > d; u--) sorted[u] = sorted[u - 1]!;
        sorted[u] = d;
      }
      // sums[r]: the permuted sum of a commune with r of these draws below it (a draw d ≥ i stands for d + 1,
      // so that i itself is never drawn)
      for (let r = 0; r <= k; r++) {
        const limit = r === 0 ? -1 : sorted[r - 1]!;
        let sum = 0;
        for (let t = first; t < first + k; t++) {
          const d = draws[t]!;
          sum += z[d <= limit ? d : d + 1]!;
        }
        sums[r] = sum;
      }
      let r = 0;
      for (let m = 0; m < members.length; m++) {
        const i = members[m]!;
        while (r < k && sorted[r]! < i) r++;
        const sum = sums[r]!;
        const observed = lagSum[i]!;
        if (sum >= observed) above[i]!++;
        if (sum <= observed) below[i]!++;
      }
    }
  }
  return { above, below };
}

function quadrant(z: number, lag: number): LisaClass {
  if (z > 0 && lag > 0) return 'HH';
  if (z < 0 && lag < 0) return 'LL';
  if (z > 0 && lag < 0) return 'HL';
  if (z < 0 && lag > 0) return 'LH';
  return 'ns';
}
