/**
 * Deterministic generator of the synthetic "Territoire de démonstration": 300 communes tiling one
 * département of central France, grouped in 12 EPCI, with a fibre roll-out over 8 quarters, three usage
 * indicators, mediation places, premises points and one fixed-wireless coverage zone. Two signals are
 * planted for later analyses and recorded in `truth`: an EPCI split between fully deployed and undeployed
 * communes, and a contiguous cluster of well covered communes with low digital usage.
 *
 * Geometry is computed in a local plane in kilometres (equirectangular around 2.9°E 46.55°N), then mapped
 * affinely to WGS84 lon/lat and rounded to 6 decimals: neighbouring communes share identical vertices.
 */
import * as turf from '@turf/turf';
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { hashSeed, Random } from './random.ts';
import type { DemoCommune, DemoDataset, DemoIndicator, DemoIndicatorValue, DemoTerritory } from './types.ts';

export const DEFAULT_DEMO_SEED = 20261123;
export const DEMO_QUARTERS = ['2023-Q1', '2023-Q2', '2023-Q3', '2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'];

const COMMUNE_COUNT = 300;
const EPCI_COUNT = 12;
const LON0 = 2.9;
const LAT0 = 46.55;
const KM_PER_DEG_LAT = 111.2;
const KM_PER_DEG_LON = 111.32 * Math.cos((LAT0 * Math.PI) / 180);
/** Vertices closer than this (km) are merged into one, for every commune that uses them. */
const SNAP_KM = 0.001;
const MAX_ATTEMPTS = 40;

type XY = [number, number];

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
const toLonLat = (p: XY): Position => [round6(LON0 + p[0] / KM_PER_DEG_LON), round6(LAT0 + p[1] / KM_PER_DEG_LAT)];
const dist = (a: XY, b: XY) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

// ---------------------------------------------------------------------------------------------------------
// Plane geometry helpers

function pointInRing(p: XY, ring: readonly XY[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i]!;
    const b = ring[j]!;
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** Twice the signed area of an open ring (positive when counter-clockwise). */
function signedArea2(ring: readonly (XY | Position)[]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[j]!;
    const b = ring[i]!;
    s += a[0]! * b[1]! - b[0]! * a[1]!;
  }
  return s;
}

function segmentDistance(p: XY, a: XY, b: XY): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = clamp(((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy), 0, 1);
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/** A smooth random field over the plane, in (-1, 1): a sum of Gaussian bumps squashed by tanh. */
function smoothField(rng: Random, bumps: number, sigmaMin: number, sigmaMax: number): (p: XY) => number {
  const list = Array.from({ length: bumps }, () => ({
    c: [rng.range(-55, 55), rng.range(-45, 45)] as XY,
    amp: (rng.next() < 0.5 ? -1 : 1) * rng.range(0.6, 1.2),
    s2: 2 * rng.range(sigmaMin, sigmaMax) ** 2,
  }));
  return (p) => Math.tanh(list.reduce((sum, b) => sum + b.amp * Math.exp(-((p[0] - b.c[0]) ** 2 + (p[1] - b.c[1]) ** 2) / b.s2), 0));
}

// ---------------------------------------------------------------------------------------------------------
// Tessellation: irregular département outline, blue-noise sites, clipped Voronoi cells

interface Tessellation {
  outline: XY[];
  sites: XY[];
  /** Per commune, its parts (one in general), each an open counter-clockwise ring in km. */
  parts: XY[][][];
  geometries: (Polygon | MultiPolygon)[];
  areaKm2: number[];
  /** Rook adjacency: communes sharing at least one edge. */
  neighbours: number[][];
}

function makeOutline(rng: Random): XY[] {
  const n = 180;
  const harmonics = [2, 3, 4, 5, 6, 7].map((k) => ({ k, amp: (0.11 / (k - 1)) * rng.range(0.4, 1), phase: rng.range(0, 2 * Math.PI) }));
  const radii: number[] = [];
  let jag = 0;
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    jag = 0.6 * jag + rng.range(-0.012, 0.012);
    radii.push(1 + jag + harmonics.reduce((s, h) => s + h.amp * Math.sin(h.k * t + h.phase), 0));
  }
  // Semi-axes keep the outline within lon 2.3–3.5, lat 46.2–46.9.
  const scale = 0.97 / Math.max(...radii);
  return radii.map((r, i) => {
    const t = (2 * Math.PI * i) / n;
    return [45.5 * scale * r * Math.cos(t), 38.2 * scale * r * Math.sin(t)] as XY;
  });
}

/** Mitchell's best-candidate sampling: evenly spread sites, a little denser where a smooth field says so. */
function makeSites(rng: Random, outline: XY[], count: number): XY[] {
  const xs = outline.map((p) => p[0]);
  const ys = outline.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const density = smoothField(rng, 8, 10, 25);
  const inside = (): XY => {
    for (;;) {
      const p: XY = [rng.range(minX, maxX), rng.range(minY, maxY)];
      if (pointInRing(p, outline)) return p;
    }
  };
  const outlineDistance = (p: XY) => {
    let d = Infinity;
    for (let i = 0, j = outline.length - 1; i < outline.length; j = i++) d = Math.min(d, segmentDistance(p, outline[j]!, outline[i]!));
    return d;
  };
  const sites: XY[] = [inside()];
  while (sites.length < count) {
    let best: XY | null = null;
    let bestScore = -Infinity;
    for (let k = 0; k < 12; k++) {
      const c = inside();
      let d2 = Infinity;
      for (const s of sites) d2 = Math.min(d2, (c[0] - s[0]) ** 2 + (c[1] - s[1]) ** 2);
      const d = Math.min(Math.sqrt(d2), 2.2 * outlineDistance(c));
      const score = d * (1 + 0.3 * density(c));
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    sites.push(best!);
  }
  return sites;
}

/** Merges vertices closer than SNAP_KM, consistently for every ring using them, and drops repeated vertices. */
function snapRings(rings: XY[][]): XY[][] {
  const ids = new Map<string, number>();
  const unique: XY[] = [];
  const refs = rings.map((ring) =>
    ring.map((p) => {
      const key = `${p[0]},${p[1]}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = unique.length;
        ids.set(key, id);
        unique.push(p);
      }
      return id;
    }),
  );
  const parent = unique.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const grid = new Map<string, number[]>();
  unique.forEach((p, i) => {
    const gx = Math.floor(p[0] / SNAP_KM);
    const gy = Math.floor(p[1] / SNAP_KM);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const j of grid.get(`${gx + dx},${gy + dy}`) ?? []) {
          if (dist(p, unique[j]!) < SNAP_KM) parent[find(i)] = find(j);
        }
      }
    }
    const key = `${gx},${gy}`;
    grid.set(key, [...(grid.get(key) ?? []), i]);
  });
  const sums = new Map<number, [number, number, number]>();
  unique.forEach((p, i) => {
    const s = sums.get(find(i)) ?? [0, 0, 0];
    sums.set(find(i), [s[0] + p[0], s[1] + p[1], s[2] + 1]);
  });
  const representative = (id: number): XY => {
    const s = sums.get(find(id))!;
    return s[2] === 1 ? unique[id]! : [s[0] / s[2], s[1] / s[2]];
  };
  return refs.map((ring) => {
    const roots = ring.map(find).filter((r, i, all) => r !== all[(i + all.length - 1) % all.length]);
    return roots.map((r) => representative(r));
  });
}

function tessellate(rng: Random): Tessellation {
  const outline = makeOutline(rng);
  const sites = makeSites(rng, outline, COMMUNE_COUNT);
  const xs = outline.map((p) => p[0]);
  const ys = outline.map((p) => p[1]);
  const bbox: [number, number, number, number] = [Math.min(...xs) - 5, Math.min(...ys) - 5, Math.max(...xs) + 5, Math.max(...ys) + 5];
  const cells = turf.voronoi(turf.featureCollection(sites.map((s) => turf.point(s))), { bbox });
  if (cells.features.length !== sites.length) throw new Error('voronoi: one cell per site expected');
  const outlinePolygon = turf.polygon([[...outline, outline[0]!]]);

  const rawParts: XY[][][] = cells.features.map((cell, i) => {
    if (!cell?.geometry) throw new Error(`voronoi: no cell for site ${i}`);
    const ring = cell.geometry.coordinates[0]!.slice(0, -1) as XY[];
    const whollyInside = ring.every((p) => pointInRing(p, outline)) && !outline.some((p) => pointInRing(p, ring));
    if (whollyInside) return [ring];
    const clipped = turf.intersect(turf.featureCollection([cell, outlinePolygon]));
    if (!clipped) throw new Error(`commune ${i}: cell outside the outline`);
    const polygons = clipped.geometry.type === 'Polygon' ? [clipped.geometry.coordinates] : clipped.geometry.coordinates;
    // Convex cell ∩ star-shaped outline: no holes. Slivers of a few hectares cut off by a concavity are dropped.
    return polygons
      .map((p) => p[0]!.slice(0, -1) as XY[])
      .filter((r) => Math.abs(signedArea2(r)) / 2 > 0.02 || pointInRing(sites[i]!, r));
  });

  const flat = rawParts.flat();
  const snapped = snapRings(flat);
  let k = 0;
  const parts = rawParts.map((list) =>
    list.map(() => {
      const r = snapped[k++]!;
      return signedArea2(r) < 0 ? r.reverse() : r;
    }),
  );

  const geometries = parts.map((list, i): Polygon | MultiPolygon => {
    const rings = list.map((ring) => {
      const ll = ring.map(toLonLat).filter((p, j, all) => {
        const prev = all[(j + all.length - 1) % all.length]!;
        return p[0] !== prev[0] || p[1] !== prev[1];
      });
      if (ll.length < 3) throw new Error(`commune ${i}: degenerate ring`);
      if (signedArea2(ll) <= 0) throw new Error(`commune ${i}: ring not counter-clockwise after rounding`);
      return [...ll, ll[0]!];
    });
    return rings.length === 1 ? { type: 'Polygon', coordinates: [rings[0]!] } : { type: 'MultiPolygon', coordinates: rings.map((r) => [r]) };
  });
  for (const [i, g] of geometries.entries()) {
    if (turf.kinks(g).features.length > 0) throw new Error(`commune ${i}: self-intersecting ring`);
  }

  const edges = new Map<string, number[]>();
  geometries.forEach((g, i) => {
    const rings = g.type === 'Polygon' ? [g.coordinates[0]!] : g.coordinates.map((p) => p[0]!);
    for (const ring of rings) {
      for (let j = 1; j < ring.length; j++) {
        const a = ring[j - 1]!.join(',');
        const b = ring[j]!.join(',');
        const key = a < b ? `${a}|${b}` : `${b}|${a}`;
        edges.set(key, [...(edges.get(key) ?? []), i]);
      }
    }
  });
  const neighbourSets = sites.map(() => new Set<number>());
  for (const users of edges.values()) {
    if (users.length > 2) throw new Error('an edge shared by more than two communes');
    if (users.length === 2 && users[0] !== users[1]) {
      neighbourSets[users[0]!]!.add(users[1]!);
      neighbourSets[users[1]!]!.add(users[0]!);
    }
  }
  const areaKm2 = parts.map((list) => list.reduce((s, r) => s + signedArea2(r) / 2, 0));
  return { outline, sites, parts, geometries, areaKm2, neighbours: neighbourSets.map((s) => [...s].sort((a, b) => a - b)) };
}

// ---------------------------------------------------------------------------------------------------------
// Partition into EPCI and planted signals

interface Partition {
  prefecture: number;
  /** Chef-lieu (seed commune) of each EPCI; EPCI 0 holds the préfecture. */
  seats: number[];
  epciOf: number[];
  split: number;
  splitDeployed: number[];
  splitUndeployed: number[];
  gapEpci: number;
  gapCluster: number[];
}

/** Grows a contiguous set from `start` over allowed communes, nearest to `anchor` first, up to `size`. */
function growFrom(start: number, size: number, allowed: (c: number) => boolean, tess: Tessellation, anchor: XY): number[] {
  const chosen = new Set([start]);
  while (chosen.size < size) {
    let best = -1;
    let bestD = Infinity;
    for (const c of chosen) {
      for (const n of tess.neighbours[c]!) {
        if (chosen.has(n) || !allowed(n)) continue;
        const d = dist(tess.sites[n]!, anchor);
        if (d < bestD || (d === bestD && n < best)) {
          bestD = d;
          best = n;
        }
      }
    }
    if (best < 0) break;
    chosen.add(best);
  }
  return [...chosen].sort((a, b) => a - b);
}

function isContiguous(members: readonly number[], tess: Tessellation): boolean {
  if (members.length === 0) return false;
  const set = new Set(members);
  const seen = new Set([members[0]!]);
  const queue = [members[0]!];
  while (queue.length > 0) {
    for (const n of tess.neighbours[queue.pop()!]!) {
      if (set.has(n) && !seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen.size === set.size;
}

function partition(rng: Random, tess: Tessellation): Partition | null {
  const { sites, neighbours } = tess;
  const n = sites.length;
  const nearest = (p: XY, among: readonly number[]) =>
    among.reduce((best, c) => (dist(sites[c]!, p) < dist(sites[best]!, p) ? c : best), among[0]!);
  const all = sites.map((_, i) => i);
  const prefecture = nearest([rng.range(-15, 8), rng.range(-10, 10)], all);

  // Chefs-lieux: farthest-point sampling from the préfecture, then a few Lloyd iterations.
  const seats = [prefecture];
  while (seats.length < EPCI_COUNT) {
    let best = -1;
    let bestScore = -1;
    for (const c of all) {
      const score = Math.min(...seats.map((s) => dist(sites[c]!, sites[s]!))) * rng.range(0.75, 1);
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    seats.push(best);
  }
  for (let iteration = 0; iteration < 4; iteration++) {
    const groups = seats.map(() => [] as number[]);
    for (const c of all) groups[seats.reduce((b, s, r) => (dist(sites[c]!, sites[s]!) < dist(sites[c]!, sites[seats[b]!]!) ? r : b), 0)]!.push(c);
    for (let r = 1; r < seats.length; r++) {
      const g = groups[r]!;
      if (g.length === 0) continue;
      const centroid: XY = [g.reduce((s, c) => s + sites[c]![0], 0) / g.length, g.reduce((s, c) => s + sites[c]![1], 0) / g.length];
      seats[r] = nearest(centroid, g);
    }
  }
  if (new Set(seats).size !== seats.length) return null;

  // Target sizes: the agglomération is larger; the others vary.
  const weights = seats.map((_, r) => (r === 0 ? 1.5 : rng.range(0.45, 1.5)));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const targets = weights.map((w) => clamp(Math.round((n * w) / totalWeight), 12, 40));

  // Region growing: the region furthest below its target claims its nearest unassigned neighbour.
  const epciOf = new Array<number>(n).fill(-1);
  const counts = seats.map(() => 1);
  seats.forEach((s, r) => (epciOf[s] = r));
  let unassigned = n - seats.length;
  while (unassigned > 0) {
    let bestRegion = -1;
    let bestCommune = -1;
    let bestRatio = Infinity;
    let bestD = Infinity;
    for (let r = 0; r < seats.length; r++) {
      const ratio = counts[r]! / targets[r]!;
      if (ratio > bestRatio) continue;
      let candidate = -1;
      let candidateD = Infinity;
      for (let c = 0; c < n; c++) {
        if (epciOf[c] !== r) continue;
        for (const m of neighbours[c]!) {
          if (epciOf[m] !== -1) continue;
          const d = dist(sites[m]!, sites[seats[r]!]!);
          if (d < candidateD) {
            candidateD = d;
            candidate = m;
          }
        }
      }
      if (candidate < 0) continue;
      if (ratio < bestRatio || (ratio === bestRatio && candidateD < bestD)) {
        bestRatio = ratio;
        bestD = candidateD;
        bestRegion = r;
        bestCommune = candidate;
      }
    }
    if (bestCommune < 0) return null; // disconnected adjacency: cannot happen with a tiling, but never loop
    epciOf[bestCommune] = bestRegion;
    counts[bestRegion]!++;
    unassigned--;
  }
  const members = seats.map((_, r) => all.filter((c) => epciOf[c] === r));
  if (members.some((m) => m.length < 10 || m.length > 45)) return null;

  // Planted signal 1: an EPCI of 20–30 communes (not the agglomération) split in two contiguous halves.
  const splitCandidates = members.map((m, r) => ({ m, r })).filter(({ m, r }) => r !== 0 && m.length >= 20 && m.length <= 30);
  if (splitCandidates.length === 0) return null;
  const { m: splitMembers, r: split } = rng.pick(splitCandidates);
  let [a, b] = [splitMembers[0]!, splitMembers[1]!];
  for (const x of splitMembers) {
    for (const y of splitMembers) if (dist(sites[x]!, sites[y]!) > dist(sites[a]!, sites[b]!)) [a, b] = [x, y];
  }
  if (dist(sites[a]!, sites[prefecture]!) > dist(sites[b]!, sites[prefecture]!)) [a, b] = [b, a];
  const side = new Map<number, number>([
    [a, 0],
    [b, 1],
  ]);
  const anchors: XY[] = [sites[a]!, sites[b]!];
  while (side.size < splitMembers.length) {
    const sizes = [0, 1].map((s) => [...side.values()].filter((v) => v === s).length);
    let claimed = false;
    for (const s of sizes[0]! <= sizes[1]! ? [0, 1] : [1, 0]) {
      let best = -1;
      let bestScore = Infinity;
      for (const [c, sc] of side) {
        if (sc !== s) continue;
        for (const m of neighbours[c]!) {
          if (epciOf[m] !== split || side.has(m)) continue;
          const score = dist(sites[m]!, anchors[s]!) - dist(sites[m]!, anchors[1 - s]!);
          if (score < bestScore) {
            bestScore = score;
            best = m;
          }
        }
      }
      if (best >= 0) {
        side.set(best, s);
        claimed = true;
        break;
      }
    }
    if (!claimed) return null;
  }
  const splitDeployed = splitMembers.filter((c) => side.get(c) === 0);
  const splitUndeployed = splitMembers.filter((c) => side.get(c) === 1);
  if (Math.min(splitDeployed.length, splitUndeployed.length) < 0.35 * splitMembers.length) return null;

  // Planted signal 2: in another EPCI, a compact contiguous cluster of 13–17 communes (never its chef-lieu).
  const splitNeighbours = new Set(splitMembers.flatMap((c) => neighbours[c]!.map((m) => epciOf[m])));
  const gapCandidates = members.map((m, r) => ({ m, r })).filter(({ m, r }) => r !== 0 && r !== split && m.length >= 20);
  if (gapCandidates.length === 0) return null;
  const remote = gapCandidates.filter(({ r }) => !splitNeighbours.has(r));
  const { m: gapMembers, r: gapEpci } = rng.pick(remote.length > 0 ? remote : gapCandidates);
  const centroid: XY = [
    gapMembers.reduce((s, c) => s + sites[c]![0], 0) / gapMembers.length,
    gapMembers.reduce((s, c) => s + sites[c]![1], 0) / gapMembers.length,
  ];
  const start = nearest(centroid, gapMembers.filter((c) => c !== seats[gapEpci]));
  const clusterSize = Math.min(rng.int(13, 17), gapMembers.length - 3);
  const gapCluster = growFrom(start, clusterSize, (c) => epciOf[c] === gapEpci && c !== seats[gapEpci], tess, sites[start]!);
  if (gapCluster.length < 12 || gapCluster.length !== clusterSize) return null;

  return { prefecture, seats, epciOf, split, splitDeployed, splitUndeployed, gapEpci, gapCluster };
}

// ---------------------------------------------------------------------------------------------------------
// Names

const ROOT_HEADS = [
  'Mont', 'Val', 'Beau', 'Roche', 'Ver', 'Chas', 'Bel', 'Fon', 'Mar', 'Sau', 'Lu', 'Ar', 'Cham', 'Bri', 'Vil', 'Cor', 'Mer',
  'Pé', 'Trè', 'Châ', 'Bour', 'Lan', 'Sé', 'Gi', 'Au', 'Cou', 'Bé', 'Ro', 'Sal', 'Nan', 'Gué', 'Fro', 'Tou', 'Ché', 'Vé',
  'Mé', 'Ra', 'Oi', 'É', 'Bou', 'Dam', 'Gar', 'Lor', 'Mau', 'Pouil', 'Quin', 'Rei', 'Sen', 'Thé', 'Vau',
];
const ROOT_MIDDLES = ['', '', '', 'ri', 'la', 've', 'bo', 'ni', 'mo', 'ré', 'li', 'ta', 'gue', 'ssa', 'rè', 'lo', 'mar', 'cel', 'gnè'];
const ROOT_TAILS = [
  'ac', 'ay', 'y', 'ieux', 'ières', 'court', 'ville', 'mont', 'eau', 'ignac', 'anges', 'ois', 'elle', 'et', 'as', 'ène', 'ôme',
  'igny', 'oux', 'eix', 'on', 'ans', 'aine', 'euil', 'ault', 'erre', 'ès', 'at', 'ange', 'ier', 'çon', 'ande',
];
const SAINTS = ['Martin', 'Amand', 'Germain', 'Hilaire', 'Julien', 'Éloi', 'Léger', 'Priest', 'Symphorien', 'Désiré', 'Benoît', 'Étienne', 'Aignan', 'Florent', 'Genès', 'Ours', 'Pierre', 'Loup', 'Denis', 'Hippolyte'];
const SAINTES = ['Sévère', 'Thérèse', 'Anne', 'Radegonde', 'Foy', 'Solange', 'Gemme', 'Montaine', 'Lizaigne', 'Thorette'];
const RIVERS = ['Loire', 'Cher', 'Aubois', 'Sauldre', 'Indre', 'Creuse', 'Marmande', 'Théols', 'Vauvise', 'Barangeon'];
const VOWEL_RIVERS = ['Arnon', 'Allier', 'Yèvre', 'Auron', 'Oucherette'];
const PAYS = ['Bocage', 'Sologne', 'Montagne', 'Brenne', 'Forêt', 'Combraille', 'Champagne', 'Boischaut'];
const VOWEL_NOUNS = ['Isle', 'Étang', 'Hôpital', 'Abbaye', 'Ormeau', 'Orme'];
const VOWELS = /^[aeiouyéèêëàâîïôûüœh]/i;

function joinSyllables(rng: Random, a: string, b: string): string {
  if (/[aeiouyéèêàâîôû]$/i.test(a) && /^[aeiouyéèêàâîôû]/i.test(b)) return a + rng.pick(['l', 'r', 'n', 'v', 'ss']) + b;
  return a + b;
}

function makeRoot(rng: Random): string {
  return joinSyllables(rng, joinSyllables(rng, rng.pick(ROOT_HEADS), rng.pick(ROOT_MIDDLES)), rng.pick(ROOT_TAILS));
}

function makeCommuneName(rng: Random): string {
  const u = rng.next();
  const suffix = () => {
    const v = rng.next();
    if (v < 0.35) return `-sur-${rng.pick(RIVERS)}`;
    if (v < 0.5) return `-d'${rng.pick(VOWEL_RIVERS)}`;
    if (v < 0.7) return `-en-${rng.pick(PAYS)}`;
    if (v < 0.85) return `-lès-${makeRoot(rng)}`;
    return rng.pick(['-le-Château', '-la-Forêt', '-le-Vieux', '-les-Bois']);
  };
  if (u < 0.4) return makeRoot(rng);
  if (u < 0.55) return makeRoot(rng) + suffix();
  if (u < 0.67) return `Saint-${rng.pick(SAINTS)}${rng.next() < 0.6 ? suffix() : ''}`;
  if (u < 0.72) return `Sainte-${rng.pick(SAINTES)}${rng.next() < 0.5 ? suffix() : ''}`;
  if (u < 0.82) {
    const root = makeRoot(rng);
    return `${/^[AEIOUYÉÈÊÎÔ]/.test(root) ? "L'" : rng.pick(['Le ', 'La '])}${root}${rng.next() < 0.3 ? suffix() : ''}`;
  }
  if (u < 0.88) return `L'${rng.pick(VOWEL_NOUNS)}-${makeRoot(rng)}`;
  if (u < 0.93) return `Les ${rng.pick(['Bordes', 'Aix', 'Granges', 'Loges', 'Essarts'])}${rng.next() < 0.5 ? suffix() : ''}`;
  if (u < 0.96) return `La Chapelle-${rng.next() < 0.6 ? `Saint-${rng.pick(SAINTS)}` : makeRoot(rng)}`;
  return `${rng.pick(['Bois', 'Villeneuve', 'Neuvy', 'Fontaine'])}-${rng.next() < 0.5 ? makeRoot(rng) : `Saint-${rng.pick(SAINTS)}`}`;
}

/** "de X", "du X", "des X", "d'X": the French preposition before a place name. */
export function withDe(name: string): string {
  if (name.startsWith('Le ')) return `du ${name.slice(3)}`;
  if (name.startsWith('Les ')) return `des ${name.slice(4)}`;
  if (VOWELS.test(name) && !name.startsWith('Hô')) return `d'${name}`;
  return `de ${name}`;
}

/** Accent-free, lower-case sort key, so that codes follow the names' alphabetical order like INSEE codes. */
const sortKey = (name: string) => name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

// ---------------------------------------------------------------------------------------------------------
// The dataset

const SYNTHETIC_FR = 'Donnée synthétique de démonstration.';
const SYNTHETIC_EN = 'Synthetic demonstration data.';

/** Generates the synthetic demonstration territory; the same seed always yields the same dataset. */
export function generateDemo(seed = DEFAULT_DEMO_SEED): DemoDataset {
  const stream = (label: string) => new Random(hashSeed(seed, label));

  // Draws are repeated (deterministically) in the rare case a tessellation or a partition misses a constraint.
  let tess: Tessellation | null = null;
  let part: Partition | null = null;
  let failure = 'partition constraints never met';
  const geometryRng = stream('geometry');
  for (let attempt = 0; attempt < MAX_ATTEMPTS && !part; attempt++) {
    try {
      tess = tessellate(geometryRng);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      continue;
    }
    part = partition(stream(`partition-${attempt}`), tess);
  }
  if (!tess || !part) throw new Error(`demo generator: no valid territory for seed ${seed} (${failure})`);
  const { sites, geometries, areaKm2 } = tess;
  const { prefecture, seats, epciOf, split } = part;
  const n = sites.length;
  const inSplitDeployed = new Set(part.splitDeployed);
  const inSplitUndeployed = new Set(part.splitUndeployed);
  const inGap = new Set(part.gapCluster);

  // Names and codes: codes follow alphabetical order of names.
  const nameRng = stream('names');
  const names: string[] = [];
  const used = new Set<string>();
  while (names.length < n) {
    const name = makeCommuneName(nameRng);
    if (used.has(sortKey(name))) continue;
    used.add(sortKey(name));
    names.push(name);
  }
  const order = names.map((_, i) => i).sort((a, b) => (sortKey(names[a]!) < sortKey(names[b]!) ? -1 : 1));
  const codeOf = new Array<string>(n);
  order.forEach((c, rank) => (codeOf[c] = `X${String(rank + 1).padStart(4, '0')}`));
  const epciCode = (r: number) => `XE${String(r + 1).padStart(2, '0')}`;
  const epcis: DemoTerritory[] = seats.map((s, r) => ({
    code: epciCode(r),
    name:
      r === 0
        ? `Communauté d'agglomération ${withDe(names[s]!)}`
        : r % 3 === 1
          ? `Communauté de communes du Pays ${withDe(names[s]!)}`
          : `Communauté de communes ${withDe(names[s]!)}`,
  }));

  // Populations: one préfecture, a handful of small towns, heavy-tailed villages, periurban ring.
  const popRng = stream('population');
  const towns = new Set(popRng.shuffle(seats.slice(1)).slice(0, 6));
  const population = sites.map((site, c) => {
    if (c === prefecture) return popRng.int(22000, 36000);
    if (towns.has(c)) return popRng.int(3000, 9500);
    if (seats.includes(c)) return popRng.int(1200, 2600);
    let p = Math.exp(Math.log(330) + 0.85 * popRng.normal());
    const d = dist(site, sites[prefecture]!);
    if (d < 12) p *= 1.6 + (12 - d) / 10;
    return Math.round(clamp(p, 80, d < 12 ? 3200 : 1500));
  });
  const logements = population.map((p) => Math.max(2, Math.round((p / 2.1) * clamp(1 + 0.07 * popRng.normal(), 0.82, 1.18))));
  const etablissements = logements.map((l) => Math.max(1, Math.round(l * popRng.range(0.08, 0.15))));
  const totalPremises = logements.map((l, c) => l + etablissements[c]!);

  // Fibre roll-out: a front spreading from the préfecture, smooth local delays, per-commune noise.
  const deployRng = stream('deployment');
  const delay = smoothField(deployRng, 8, 10, 25);
  const maxDistance = Math.max(...sites.map((s) => dist(s, sites[prefecture]!)));
  const raccordables: number[][] = sites.map((site, c) => {
    if (inSplitUndeployed.has(c)) return DEMO_QUARTERS.map(() => 0);
    let start: number;
    let ramp: number;
    let target: number;
    if (inSplitDeployed.has(c)) {
      start = deployRng.range(-1.5, 1);
      ramp = deployRng.range(2, 3);
      target = deployRng.range(0.965, 1.03);
    } else if (inGap.has(c)) {
      start = deployRng.range(-6, -2);
      ramp = deployRng.range(2.5, 4);
      target = deployRng.range(0.94, 1.03);
    } else {
      const d = dist(site, sites[prefecture]!) / maxDistance;
      start = -7 + 9.5 * d + 1.2 * delay(site) + deployRng.range(-0.8, 0.8);
      if (c === prefecture) start = -12;
      else if (population[c]! >= 3000) start -= 2;
      ramp = deployRng.range(2.5, 5);
      const u = deployRng.next();
      target = u < 0.12 ? deployRng.range(1, 1.05) : u < 0.3 ? deployRng.range(0.66, 0.88) : deployRng.range(0.86, 1);
    }
    let previous = 0;
    return DEMO_QUARTERS.map((_, q) => {
      const progress = clamp((q - start) / ramp, 0, 1);
      const share = target * progress * progress * (3 - 2 * progress);
      previous = Math.max(previous, Math.min(Math.floor(1.05 * totalPremises[c]!), Math.round(share * totalPremises[c]!)));
      return previous;
    });
  });
  const coverageAt = (c: number, q: number) => raccordables[c]![q]! / totalPremises[c]!;
  const last = DEMO_QUARTERS.length - 1;

  // Usage: a smooth spatial field plus noise, weakly related to size and coverage; the gap cluster far below.
  const usageRng = stream('usage');
  const usageField = smoothField(usageRng, 9, 10, 28);
  const latent = sites.map((site, c) =>
    clamp(0.8 * usageField(site) + 0.15 * usageRng.normal() + 0.12 * (Math.log10(population[c]!) - 2.6) + 0.15 * (coverageAt(c, last) - 0.85), -1.5, 1.5),
  );
  const adults = population.map((p) => Math.round(p * usageRng.range(0.77, 0.83)));
  const rate = (c: number, vintage: string, numerator: number, denominator: number): DemoIndicatorValue => ({
    commune: codeOf[c]!,
    vintage,
    value: numerator / denominator,
    numerator,
    denominator,
  });
  const takeup: DemoIndicatorValue[] = [];
  const demarches: DemoIndicatorValue[] = [];
  const illectronisme: DemoIndicatorValue[] = [];
  for (const c of order) {
    const gap = inGap.has(c);
    const q4 = [3, 7].map((q) => raccordables[c]![q]!);
    const maturity24 = q4[1]! > 0 ? q4[0]! / q4[1]! : 0;
    const maturity23 = q4[0]! > 0 ? raccordables[c]![0]! / q4[0]! : 0;
    const take24 = gap
      ? usageRng.range(0.1, 0.18)
      : clamp(0.5 + 0.09 * latent[c]! + 0.035 * usageRng.normal(), 0.3, 0.85) * (0.82 + 0.18 * maturity24);
    const take23 = gap
      ? take24 - usageRng.range(0.02, 0.04)
      : clamp(take24 - usageRng.range(0.05, 0.09), 0.22, 0.85) * (0.85 + 0.15 * maturity23);
    const dem24 = gap ? usageRng.range(0.3, 0.4) : clamp(0.66 + 0.09 * latent[c]! + 0.03 * usageRng.normal(), 0.48, 0.88);
    const dem23 = dem24 - usageRng.range(0.015, 0.045);
    const ill24 = gap ? usageRng.range(0.36, 0.46) : clamp(0.15 - 0.045 * latent[c]! + 0.02 * usageRng.normal(), 0.05, 0.28);
    const ill23 = ill24 + usageRng.range(0.005, 0.02);
    (
      [
        ['2023', take23, dem23, ill23, q4[0]!],
        ['2024', take24, dem24, ill24, q4[1]!],
      ] as const
    ).forEach(([vintage, take, dem, ill, connectable]) => {
      if (connectable > 0) takeup.push(rate(c, vintage, Math.round(clamp(take, 0, 1) * connectable), connectable));
      demarches.push(rate(c, vintage, Math.round(clamp(dem, 0, 1) * adults[c]!), adults[c]!));
      illectronisme.push(rate(c, vintage, Math.round(clamp(ill, 0, 1) * adults[c]!), adults[c]!));
    });
  }
  const byVintage = (a: DemoIndicatorValue, b: DemoIndicatorValue) => (a.vintage === b.vintage ? 0 : a.vintage < b.vintage ? -1 : 1);
  const usageIndicators: DemoIndicator[] = [
    {
      id: 'ftth_takeup',
      labelFr: 'Taux d’abonnement à la fibre (FttH)',
      labelEn: 'Fibre take-up (FttH)',
      theme: 'territoires-connectes',
      unit: 'ratio',
      higherIsBetter: true,
      descriptionFr: `Part des locaux raccordables abonnés à une offre FttH au quatrième trimestre de l’année. ${SYNTHETIC_FR}`,
      descriptionEn: `Share of connectable premises subscribed to an FttH offer in the fourth quarter of the year. ${SYNTHETIC_EN}`,
      values: takeup.sort(byVintage),
    },
    {
      id: 'demarches_en_ligne',
      labelFr: 'Démarches administratives en ligne',
      labelEn: 'Online administrative procedures',
      theme: 'e-administration',
      unit: 'ratio',
      higherIsBetter: true,
      descriptionFr: `Part des adultes ayant effectué au moins une démarche administrative en ligne dans l’année. ${SYNTHETIC_FR}`,
      descriptionEn: `Share of adults who completed at least one administrative procedure online during the year. ${SYNTHETIC_EN}`,
      values: demarches.sort(byVintage),
    },
    {
      id: 'illectronisme',
      labelFr: 'Illectronisme',
      labelEn: 'Digital illiteracy',
      theme: 'mediation-numerique',
      unit: 'ratio',
      higherIsBetter: false,
      descriptionFr: `Part des adultes en situation d’illectronisme (pas d’usage d’internet ou compétences numériques insuffisantes). ${SYNTHETIC_FR}`,
      descriptionEn: `Share of adults who do not use the internet or lack basic digital skills. ${SYNTHETIC_EN}`,
      values: illectronisme.sort(byVintage),
    },
  ];

  // A point strictly inside commune c: around its site, at most `spread` km away, rounded to 6 decimals.
  const placeRng = stream('places');
  const pointIn = (rng: Random, c: number, spread: number): [number, number] => {
    for (let tries = 0; tries < 40; tries++) {
      const [lon, lat] = toLonLat([sites[c]![0] + spread * rng.normal(), sites[c]![1] + spread * rng.normal()]) as [number, number];
      if (turf.booleanPointInPolygon([lon, lat], geometries[c]!, { ignoreBoundary: true })) return [lon, lat];
    }
    return toLonLat(sites[c]!) as [number, number];
  };

  // Mediation places, mostly in the larger communes, none in the usage-gap cluster.
  const bySize = sites.map((_, i) => i).filter((c) => !inGap.has(c)).sort((a, b) => population[b]! - population[a]! || a - b);
  const mid = bySize.filter((c) => population[c]! >= 500 && population[c]! <= 1500);
  const placeSpecs: [string, number, string][] = [
    ['france-services', bySize[0]!, `France services ${withDe(names[bySize[0]!]!)}`],
    ['france-services', bySize[1]!, `France services ${withDe(names[bySize[1]!]!)}`],
    ['france-services', bySize[3]!, `France services ${withDe(names[bySize[3]!]!)}`],
    ['conseiller-numerique', bySize[0]!, `Conseiller numérique – médiathèque ${withDe(names[bySize[0]!]!)}`],
    ['conseiller-numerique', bySize[2]!, `Conseiller numérique – mairie ${withDe(names[bySize[2]!]!)}`],
    ['conseiller-numerique', bySize[4]!, `Conseiller numérique – centre social ${withDe(names[bySize[4]!]!)}`],
    ['espace-public-numerique', bySize[1]!, `Espace public numérique ${withDe(names[bySize[1]!]!)}`],
    ['espace-public-numerique', mid.length > 0 ? placeRng.pick(mid) : bySize[5]!, ''],
  ];
  const places = placeSpecs.map(([kind, c, name]) => {
    const [lon, lat] = pointIn(placeRng, c, 0.25);
    return { name: name || `Tiers-lieu numérique ${withDe(names[c]!)}`, kind, lon, lat };
  });

  // Premises points: a sample of addresses, clustered around each commune's bourg.
  const premisesRng = stream('premises');
  const premisesTarget = 4500;
  const allPremises = totalPremises.reduce((a, b) => a + b, 0);
  const operators = ['Opérateur A', 'Opérateur B', 'Opérateur C', 'Opérateur D'];
  const premises: DemoDataset['premises'] = [];
  for (const c of order) {
    const count = Math.max(2, Math.round((premisesTarget * totalPremises[c]!) / allPremises));
    const coverage = coverageAt(c, last);
    const status = coverage >= 0.8 ? 'deployed' : coverage > 0 ? 'in_progress' : 'planned';
    const operator = epciOf[c] === 0 ? operators[0]! : operators[1 + (epciOf[c]! % 3)]!;
    const urban = population[c]! >= 3000;
    for (let i = 0; i < count; i++) {
      const spread = Math.sqrt(areaKm2[c]!) * (premisesRng.next() < 0.7 ? 0.12 : 0.35);
      const [lon, lat] = pointIn(premisesRng, c, spread);
      const size = urban ? 1 + Math.floor(premisesRng.next() ** 2 * 20) : 1 + Math.floor(premisesRng.next() ** 3 * 10);
      premises.push({ lon, lat, premises: Math.min(20, size), status, operator });
    }
  }

  // One fixed-wireless (THD radio) zone around the heart of the undeployed half of the split EPCI.
  const coverageRng = stream('coverage');
  const undeployedCentre: XY = [
    part.splitUndeployed.reduce((s, c) => s + sites[c]![0], 0) / part.splitUndeployed.length,
    part.splitUndeployed.reduce((s, c) => s + sites[c]![1], 0) / part.splitUndeployed.length,
  ];
  const hub = sites[part.splitUndeployed.reduce((b, c) => (dist(sites[c]!, undeployedCentre) < dist(sites[b]!, undeployedCentre) ? c : b))]!;
  const radius = coverageRng.range(8.5, 11);
  const phases = [coverageRng.range(0, 2 * Math.PI), coverageRng.range(0, 2 * Math.PI)];
  const zone: Position[] = Array.from({ length: 72 }, (_, i) => {
    const t = (2 * Math.PI * i) / 72;
    const r = radius * (1 + 0.05 * Math.sin(3 * t + phases[0]!) + 0.03 * Math.sin(5 * t + phases[1]!));
    return toLonLat([hub[0] + r * Math.cos(t), hub[1] + r * Math.sin(t)]);
  });

  const communes: DemoCommune[] = order.map((c) => ({
    code: codeOf[c]!,
    name: names[c]!,
    epci: epciCode(epciOf[c]!),
    population: population[c]!,
    logements: logements[c]!,
    etablissements: etablissements[c]!,
    geometry: geometries[c]!,
  }));
  const codes = (list: number[]) => list.map((c) => codeOf[c]!).sort();

  return {
    seed,
    region: { code: 'XR1', name: 'Région de démonstration (synthétique)' },
    departement: { code: 'XD1', name: 'Territoire de démonstration (synthétique)' },
    epcis,
    communes,
    quarters: [...DEMO_QUARTERS],
    deployments: order.flatMap((c) =>
      DEMO_QUARTERS.map((vintage, q) => ({ commune: codeOf[c]!, vintage, locauxRaccordables: raccordables[c]![q]! })),
    ),
    usageIndicators,
    places,
    premises,
    coverage: [{ technology: 'thd-radio', maxDownMbps: 30, geometry: { type: 'Polygon', coordinates: [[...zone, zone[0]!]] } }],
    truth: {
      splitEpci: epciCode(split),
      splitDeployed: codes(part.splitDeployed),
      splitUndeployed: codes(part.splitUndeployed),
      usageGapCluster: codes(part.gapCluster),
    },
  };
}
