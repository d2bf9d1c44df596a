import * as turf from '@turf/turf';
import type { Feature, MultiPolygon, Polygon, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { generateDemo } from '../server/demo/generate.ts';
import type { DemoCommune, DemoDataset } from '../server/demo/types.ts';

const started = performance.now();
const demo = generateDemo();
const elapsedMs = performance.now() - started;

const QUARTERS = ['2023-Q1', '2023-Q2', '2023-Q3', '2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'];

/** Population-weighted Gini coefficient: Σi Σj wi wj |xi − xj| / (2 W² μ). */
function gini(values: readonly number[], weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = values.reduce((s, v, i) => s + v * weights[i]!, 0) / total;
  if (mean === 0) return 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < values.length; j++) sum += weights[i]! * weights[j]! * Math.abs(values[i]! - values[j]!);
  }
  return sum / (2 * total * total * mean);
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
};

const exteriorRings = (g: Polygon | MultiPolygon): Position[][] => (g.type === 'Polygon' ? [g.coordinates[0]!] : g.coordinates.map((p) => p[0]!));
const key = (p: Position) => `${p[0]},${p[1]}`;

/** Undirected edges → the communes using them, with the direction each one walks it. */
function edgeIndex(data: DemoDataset) {
  const edges = new Map<string, { commune: string; forward: boolean }[]>();
  for (const c of data.communes) {
    for (const ring of exteriorRings(c.geometry)) {
      for (let i = 1; i < ring.length; i++) {
        const a = key(ring[i - 1]!);
        const b = key(ring[i]!);
        const k = a < b ? `${a}|${b}` : `${b}|${a}`;
        edges.set(k, [...(edges.get(k) ?? []), { commune: c.code, forward: a < b }]);
      }
    }
  }
  return edges;
}

/** Rook adjacency computed from the output coordinates alone: communes sharing an identical edge. */
function adjacency(data: DemoDataset): Map<string, Set<string>> {
  const neighbours = new Map(data.communes.map((c) => [c.code, new Set<string>()]));
  for (const users of edgeIndex(data).values()) {
    if (users.length === 2) {
      neighbours.get(users[0]!.commune)!.add(users[1]!.commune);
      neighbours.get(users[1]!.commune)!.add(users[0]!.commune);
    }
  }
  return neighbours;
}

function contiguous(members: readonly string[], neighbours: Map<string, Set<string>>): boolean {
  const set = new Set(members);
  const seen = new Set([members[0]!]);
  const queue = [members[0]!];
  while (queue.length > 0) {
    for (const n of neighbours.get(queue.pop()!)!) {
      if (set.has(n) && !seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return members.length > 0 && seen.size === set.size;
}

const premisesOf = (c: DemoCommune) => c.logements + c.etablissements;

function coverageAt(data: DemoDataset, vintage: string): Map<string, number> {
  const premises = new Map(data.communes.map((c) => [c.code, premisesOf(c)]));
  return new Map(data.deployments.filter((d) => d.vintage === vintage).map((d) => [d.commune, d.locauxRaccordables / premises.get(d.commune)!]));
}

const commune = (code: string) => demo.communes.find((c) => c.code === code)!;
const feature = (c: DemoCommune): Feature<Polygon | MultiPolygon> => turf.feature(c.geometry);
const neighbours = adjacency(demo);
const latest = coverageAt(demo, '2024-Q4');
const prefecture = [...demo.communes].sort((a, b) => b.population - a.population)[0]!;

/** Structural checks every seed must pass. */
function checkStructure(data: DemoDataset): void {
  expect(data.communes).toHaveLength(300);
  expect(data.epcis).toHaveLength(12);
  const adj = adjacency(data);
  for (const c of data.communes) {
    for (const ring of exteriorRings(c.geometry)) expect(turf.booleanClockwise(ring), c.code).toBe(false);
    expect(turf.kinks(c.geometry).features, c.code).toHaveLength(0);
  }
  for (const e of data.epcis) {
    const members = data.communes.filter((c) => c.epci === e.code).map((c) => c.code);
    expect(members.length, e.code).toBeGreaterThanOrEqual(10);
    expect(members.length, e.code).toBeLessThanOrEqual(45);
    expect(contiguous(members, adj), e.code).toBe(true);
  }
  const { splitEpci, splitDeployed, splitUndeployed, usageGapCluster } = data.truth;
  expect(contiguous(splitDeployed, adj)).toBe(true);
  expect(contiguous(splitUndeployed, adj)).toBe(true);
  expect(contiguous(usageGapCluster, adj)).toBe(true);
  const epciOf = new Map(data.communes.map((c) => [c.code, c.epci]));
  expect(new Set(usageGapCluster.map((c) => epciOf.get(c))).has(splitEpci)).toBe(false);
  const cov = coverageAt(data, '2024-Q4');
  expect(splitDeployed.every((c) => cov.get(c)! >= 0.95)).toBe(true);
  expect(splitUndeployed.every((c) => cov.get(c) === 0)).toBe(true);
  expect(usageGapCluster.every((c) => cov.get(c)! >= 0.9)).toBe(true);
}

describe('synthetic demonstration territory generator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const again = generateDemo(20261123);
    expect(JSON.stringify(again)).toBe(JSON.stringify(demo));
    expect(demo.seed).toBe(20261123);
    const other = generateDemo(7);
    expect(other.seed).toBe(7);
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(demo));
    expect(other.communes.map((c) => c.name)).not.toEqual(demo.communes.map((c) => c.name));
    expect(JSON.stringify(other.communes[0]!.geometry)).not.toBe(JSON.stringify(demo.communes[0]!.geometry));
  });

  it('runs in a few seconds at most', () => {
    expect(elapsedMs).toBeLessThan(5000);
  });

  it('has codes that cannot collide with official ones, and unique French-looking names', () => {
    expect(demo.region).toEqual({ code: 'XR1', name: 'Région de démonstration (synthétique)' });
    expect(demo.departement).toEqual({ code: 'XD1', name: 'Territoire de démonstration (synthétique)' });
    expect(demo.communes.map((c) => c.code)).toEqual(Array.from({ length: 300 }, (_, i) => `X${String(i + 1).padStart(4, '0')}`));
    expect(demo.epcis.map((e) => e.code)).toEqual(Array.from({ length: 12 }, (_, i) => `XE${String(i + 1).padStart(2, '0')}`));
    const epciCodes = new Set(demo.epcis.map((e) => e.code));
    expect(demo.communes.every((c) => epciCodes.has(c.epci))).toBe(true);
    const names = demo.communes.map((c) => c.name);
    expect(new Set(names).size).toBe(300);
    expect(new Set(demo.epcis.map((e) => e.name)).size).toBe(12);
    expect(names.every((n) => /^[A-ZÀ-Ý][\p{L}' -]+$/u.test(n) && !/--|  /.test(n))).toBe(true);
    expect(names.filter((n) => /[éèêëàâîïôûç]/i.test(n)).length).toBeGreaterThan(20);
    expect(names.some((n) => n.includes("'"))).toBe(true);
    expect(names.some((n) => n.startsWith('Saint-'))).toBe(true);
    expect(names.some((n) => /-sur-/.test(n))).toBe(true);
  });

  it('draws valid counter-clockwise WGS84 polygons in central France, rounded to 6 decimals', () => {
    for (const c of demo.communes) {
      for (const ring of exteriorRings(c.geometry)) {
        expect(ring.length, c.code).toBeGreaterThanOrEqual(4);
        expect(key(ring[0]!)).toBe(key(ring.at(-1)!));
        expect(new Set(ring.slice(0, -1).map(key)).size, c.code).toBe(ring.length - 1);
        for (const [lon, lat] of ring as [number, number][]) {
          expect(lon).toBeGreaterThanOrEqual(2.3);
          expect(lon).toBeLessThanOrEqual(3.5);
          expect(lat).toBeGreaterThanOrEqual(46.2);
          expect(lat).toBeLessThanOrEqual(46.9);
          expect(Math.round(lon * 1e6) / 1e6).toBe(lon);
          expect(Math.round(lat * 1e6) / 1e6).toBe(lat);
        }
        expect(turf.booleanClockwise(ring), c.code).toBe(false);
      }
      expect(turf.kinks(c.geometry).features, c.code).toHaveLength(0);
      expect(turf.area(c.geometry), c.code).toBeGreaterThan(1e5); // > 10 ha
    }
  });

  it('tiles the département: no overlap, no gap, every inner edge shared exactly by two communes', () => {
    const union = turf.union(turf.featureCollection(demo.communes.map(feature)))!;
    expect(union.geometry.type).toBe('Polygon'); // one piece…
    expect((union.geometry as Polygon).coordinates).toHaveLength(1); // …without holes
    const unionArea = turf.area(union);
    const sum = demo.communes.reduce((s, c) => s + turf.area(c.geometry), 0);
    expect(Math.abs(sum - unionArea) / unionArea).toBeLessThan(0.005);
    expect(unionArea / 1e6).toBeGreaterThan(3000); // a département-sized area, km²
    expect(unionArea / 1e6).toBeLessThan(7500);
    const [west, south, east, north] = turf.bbox(union);
    expect(east - west).toBeGreaterThan(0.9); // ≈ 70–92 km wide
    expect(north - south).toBeGreaterThan(0.5);

    // Inner edges: used by exactly two communes, in opposite directions; the others trace the outline.
    const edges = edgeIndex(demo);
    let outerLength = 0;
    for (const users of edges.values()) {
      expect(users.length).toBeLessThanOrEqual(2);
      if (users.length === 2) expect(users[0]!.forward).not.toBe(users[1]!.forward);
    }
    for (const [k, users] of edges) {
      if (users.length !== 1) continue;
      const [a, b] = k.split('|').map((p) => p.split(',').map(Number));
      outerLength += turf.distance(a!, b!);
    }
    const perimeter = turf.length(turf.polygonToLine(union as Feature<Polygon>));
    expect(Math.abs(outerLength - perimeter) / perimeter).toBeLessThan(1e-6);

    // Neighbours never overlap.
    let pairs = 0;
    for (const [code, set] of neighbours) {
      for (const other of set) {
        if (other < code) continue;
        pairs++;
        const overlap = turf.intersect(turf.featureCollection([feature(commune(code)), feature(commune(other))]));
        expect(overlap ? turf.area(overlap) : 0, `${code}/${other}`).toBeLessThan(1);
      }
    }
    expect(pairs).toBeGreaterThan(600); // ≈ 3 per commune in a planar tiling
    expect([...neighbours.values()].every((s) => s.size >= 1)).toBe(true);
  });

  it('groups communes in contiguous EPCI of 10 to 45 communes', () => {
    const sizes = demo.epcis.map((e) => demo.communes.filter((c) => c.epci === e.code).length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(45);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeGreaterThanOrEqual(8); // sizes vary
    for (const e of demo.epcis) {
      expect(contiguous(demo.communes.filter((c) => c.epci === e.code).map((c) => c.code), neighbours), e.code).toBe(true);
    }
  });

  it('has plausible rural populations, dwellings and establishments', () => {
    const pops = demo.communes.map((c) => c.population);
    expect(demo.communes.every((c) => [c.population, c.logements, c.etablissements].every(Number.isInteger))).toBe(true);
    expect(pops.filter((p) => p >= 20000 && p <= 40000)).toHaveLength(1);
    expect(pops.filter((p) => p > 40000)).toHaveLength(0);
    const towns = pops.filter((p) => p >= 3000 && p <= 10000).length;
    expect(towns).toBeGreaterThanOrEqual(3);
    expect(towns).toBeLessThanOrEqual(10);
    expect(Math.min(...pops)).toBeGreaterThanOrEqual(50);
    expect(pops.filter((p) => p >= 80 && p <= 1500).length / pops.length).toBeGreaterThan(0.85);
    expect(quantile(pops, 0.5)).toBeLessThan(800);
    for (const c of demo.communes) {
      expect(c.logements / c.population, c.code).toBeGreaterThan(0.6 / 2.1);
      expect(c.logements / c.population, c.code).toBeLessThan(1.4 / 2.1);
      expect(c.etablissements / c.logements, c.code).toBeGreaterThan(0.05);
      expect(c.etablissements / c.logements, c.code).toBeLessThan(0.2);
    }
  });

  it('rolls fibre out from the préfecture: one row per commune and quarter, never decreasing, at most 105 %', () => {
    expect(demo.quarters).toEqual(QUARTERS);
    expect(demo.deployments).toHaveLength(300 * 8);
    for (const c of demo.communes) {
      const rows = demo.deployments.filter((d) => d.commune === c.code);
      expect(rows.map((r) => r.vintage)).toEqual(QUARTERS);
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]!.locauxRaccordables;
        expect(Number.isInteger(v) && v >= 0).toBe(true);
        expect(v).toBeLessThanOrEqual(1.05 * premisesOf(c));
        if (i > 0) expect(v, c.code).toBeGreaterThanOrEqual(rows[i - 1]!.locauxRaccordables);
      }
    }
    const first = coverageAt(demo, '2023-Q1');
    expect([...first.values()].filter((v) => v === 0).length).toBeGreaterThan(30); // the front has not reached everyone
    expect([...latest.values()].filter((v) => v > 1).length).toBeGreaterThan(0); // like ARCEP data, some exceed 100 %
    // The front: early coverage falls with distance from the préfecture.
    const centre = turf.centroid(prefecture.geometry);
    const ordinary = demo.communes.filter((c) => !demo.truth.splitDeployed.includes(c.code) && !demo.truth.splitUndeployed.includes(c.code));
    const distances = ordinary.map((c) => turf.distance(centre, turf.centroid(c.geometry)));
    expect(pearson(distances, ordinary.map((c) => first.get(c.code)!))).toBeLessThan(-0.4);
    expect(first.get(prefecture.code)!).toBeGreaterThan(0.8);
  });

  it('plants one EPCI split between deployed and undeployed halves, by far the most unequal', () => {
    const { splitEpci, splitDeployed, splitUndeployed } = demo.truth;
    const members = demo.communes.filter((c) => c.epci === splitEpci).map((c) => c.code);
    expect(members.length).toBeGreaterThanOrEqual(20);
    expect(members.length).toBeLessThanOrEqual(30);
    expect(members).not.toContain(prefecture.code);
    expect([...splitDeployed, ...splitUndeployed].sort()).toEqual([...members].sort());
    expect(splitDeployed.filter((c) => splitUndeployed.includes(c))).toHaveLength(0);
    expect(Math.min(splitDeployed.length, splitUndeployed.length)).toBeGreaterThanOrEqual(0.3 * members.length);
    expect(contiguous(splitDeployed, neighbours)).toBe(true);
    expect(contiguous(splitUndeployed, neighbours)).toBe(true);
    for (const q of QUARTERS) {
      const cov = coverageAt(demo, q);
      for (const c of splitUndeployed) expect(cov.get(c), `${c} ${q}`).toBe(0);
      if (q >= '2024-Q1') for (const c of splitDeployed) expect(cov.get(c)!, `${c} ${q}`).toBeGreaterThanOrEqual(0.95);
    }
    const ginis = demo.epcis.map((e) => {
      const communes = demo.communes.filter((c) => c.epci === e.code);
      return { code: e.code, gini: gini(communes.map((c) => latest.get(c.code)!), communes.map((c) => c.population)) };
    });
    ginis.sort((a, b) => b.gini - a.gini);
    expect(ginis[0]!.code).toBe(splitEpci);
    expect(ginis[0]!.gini).toBeGreaterThan(0.3);
    expect(ginis[0]!.gini).toBeGreaterThan(2.5 * ginis[1]!.gini);
    // Elsewhere, fairly homogeneous coverage: communes mostly between 60 % and 105 %.
    for (const e of demo.epcis.filter((e) => e.code !== splitEpci)) {
      const values = demo.communes.filter((c) => c.epci === e.code).map((c) => latest.get(c.code)!);
      expect(values.filter((v) => v >= 0.6).length / values.length, e.code).toBeGreaterThanOrEqual(0.8);
    }
  });

  it('plants a contiguous cluster of well covered communes with low usage', () => {
    const cluster = demo.truth.usageGapCluster;
    expect(cluster.length).toBeGreaterThanOrEqual(12);
    expect(cluster.length).toBeLessThanOrEqual(20);
    expect(new Set(cluster).size).toBe(cluster.length);
    expect(contiguous(cluster, neighbours)).toBe(true);
    const epcis = new Set(cluster.map((c) => commune(c).epci));
    expect(epcis.size).toBe(1);
    expect(epcis.has(demo.truth.splitEpci)).toBe(false);
    for (const c of cluster) expect(latest.get(c)!, c).toBeGreaterThanOrEqual(0.9);
    const inCluster = new Set(cluster);
    for (const indicator of demo.usageIndicators) {
      for (const vintage of ['2023', '2024']) {
        const values = indicator.values.filter((v) => v.vintage === vintage);
        // Oriented so that higher is better.
        const good = (v: number) => (indicator.higherIsBetter ? v : -v);
        const inside = values.filter((v) => inCluster.has(v.commune)).map((v) => good(v.value));
        const outside = values.filter((v) => !inCluster.has(v.commune)).map((v) => good(v.value));
        expect(inside, `${indicator.id} ${vintage}`).toHaveLength(cluster.length);
        const low = quantile(outside, 0.05);
        for (const v of inside) expect(v, `${indicator.id} ${vintage}`).toBeLessThan(low);
        const meanIn = inside.reduce((a, b) => a + b, 0) / inside.length;
        const meanOut = outside.reduce((a, b) => a + b, 0) / outside.length;
        expect(meanOut - meanIn, `${indicator.id} ${vintage}`).toBeGreaterThan(0.15);
      }
    }
  });

  it('describes three synthetic usage indicators with consistent rates in [0, 1]', () => {
    const byId = new Map(demo.usageIndicators.map((i) => [i.id, i]));
    expect(byId.get('ftth_takeup')).toMatchObject({ theme: 'territoires-connectes', unit: 'ratio', higherIsBetter: true });
    expect(byId.get('demarches_en_ligne')).toMatchObject({ theme: 'e-administration', unit: 'ratio', higherIsBetter: true });
    expect(byId.get('illectronisme')).toMatchObject({ theme: 'mediation-numerique', unit: 'ratio', higherIsBetter: false });
    const connectable = new Map(demo.deployments.map((d) => [`${d.commune} ${d.vintage}`, d.locauxRaccordables]));
    const population = new Map(demo.communes.map((c) => [c.code, c.population]));
    for (const indicator of demo.usageIndicators) {
      expect(indicator.labelFr.length).toBeGreaterThan(3);
      expect(indicator.labelEn.length).toBeGreaterThan(3);
      expect(indicator.descriptionFr).toMatch(/Donnée synthétique de démonstration/);
      expect(indicator.descriptionEn).toMatch(/Synthetic demonstration data/);
      expect(new Set(indicator.values.map((v) => v.vintage))).toEqual(new Set(['2023', '2024']));
      expect(new Set(indicator.values.map((v) => `${v.commune} ${v.vintage}`)).size).toBe(indicator.values.length);
      for (const v of indicator.values) {
        const { numerator, denominator } = v;
        expect(numerator !== null && denominator !== null).toBe(true);
        expect(Number.isInteger(numerator) && Number.isInteger(denominator)).toBe(true);
        expect(denominator!).toBeGreaterThan(0);
        expect(numerator!).toBeGreaterThanOrEqual(0);
        expect(numerator!).toBeLessThanOrEqual(denominator!);
        expect(v.value).toBe(numerator! / denominator!);
        expect(v.value >= 0 && v.value <= 1).toBe(true);
        if (indicator.id === 'ftth_takeup') {
          expect(denominator).toBe(connectable.get(`${v.commune} ${v.vintage}-Q4`));
        } else {
          expect(denominator! / population.get(v.commune)!).toBeGreaterThan(0.7);
          expect(denominator! / population.get(v.commune)!).toBeLessThan(0.9);
        }
      }
    }
    // Every commune × vintage, except take-up where nothing is connectable (no rate on a zero denominator).
    for (const id of ['demarches_en_ligne', 'illectronisme']) expect(byId.get(id)!.values).toHaveLength(600);
    const connectableRows = [...connectable.entries()].filter(([k, v]) => /-Q4$/.test(k) && v > 0).length;
    expect(byId.get('ftth_takeup')!.values).toHaveLength(connectableRows);
    expect(connectableRows).toBeLessThan(600); // the undeployed half has no take-up rows
    const takeupCodes = new Set(byId.get('ftth_takeup')!.values.map((v) => v.commune));
    for (const c of demo.truth.splitUndeployed) expect(takeupCodes.has(c)).toBe(false);
  });

  it('makes usage spatially smooth and only weakly related to coverage', () => {
    const excluded = new Set([...demo.truth.usageGapCluster, ...demo.truth.splitUndeployed, ...demo.truth.splitDeployed]);
    for (const indicator of demo.usageIndicators) {
      const value = new Map(indicator.values.filter((v) => v.vintage === '2024' && !excluded.has(v.commune)).map((v) => [v.commune, v.value]));
      const codes = [...value.keys()];
      let neighbourDiff = 0;
      let neighbourPairs = 0;
      for (const c of codes) {
        for (const n of neighbours.get(c)!) {
          if (!value.has(n)) continue;
          neighbourDiff += Math.abs(value.get(c)! - value.get(n)!);
          neighbourPairs++;
        }
      }
      let anyDiff = 0;
      let anyPairs = 0;
      for (let i = 0; i < codes.length; i += 3) {
        for (let j = i + 1; j < codes.length; j += 7) {
          anyDiff += Math.abs(value.get(codes[i]!)! - value.get(codes[j]!)!);
          anyPairs++;
        }
      }
      expect(neighbourDiff / neighbourPairs, indicator.id).toBeLessThan(0.8 * (anyDiff / anyPairs));
      const r = pearson(
        codes.map((c) => latest.get(c)!),
        codes.map((c) => value.get(c)!),
      );
      expect(Math.abs(r), indicator.id).toBeLessThan(0.5);
    }
  });

  it('places a few mediation places inside the département, mostly in the larger communes', () => {
    expect(demo.places.length).toBeGreaterThanOrEqual(6);
    expect(demo.places.length).toBeLessThanOrEqual(10);
    expect(new Set(demo.places.map((p) => p.name)).size).toBe(demo.places.length);
    const kinds = new Set(demo.places.map((p) => p.kind));
    expect([...kinds].every((k) => ['france-services', 'conseiller-numerique', 'espace-public-numerique'].includes(k))).toBe(true);
    expect(kinds.size).toBe(3);
    const big = new Set([...demo.communes].sort((a, b) => b.population - a.population).slice(0, 15).map((c) => c.code));
    let inBig = 0;
    for (const place of demo.places) {
      const host = demo.communes.filter((c) => turf.booleanPointInPolygon([place.lon, place.lat], c.geometry));
      expect(host, place.name).toHaveLength(1);
      if (big.has(host[0]!.code)) inBig++;
    }
    expect(inBig / demo.places.length).toBeGreaterThan(0.5);
  });

  it('scatters premises points inside communes, with a status following coverage', () => {
    expect(demo.premises.length).toBeGreaterThanOrEqual(3000);
    expect(demo.premises.length).toBeLessThanOrEqual(6000);
    const operators = new Set(demo.premises.map((p) => p.operator));
    expect(operators.size).toBeGreaterThanOrEqual(2);
    expect(operators.size).toBeLessThanOrEqual(5);
    const boxes = demo.communes.map((c) => ({ c, box: turf.bbox(c.geometry) }));
    const statuses = new Set<string>();
    for (const p of demo.premises) {
      expect(Number.isInteger(p.premises) && p.premises >= 1 && p.premises <= 20).toBe(true);
      const hosts = boxes
        .filter(({ box }) => p.lon >= box[0] && p.lon <= box[2] && p.lat >= box[1] && p.lat <= box[3])
        .filter(({ c }) => turf.booleanPointInPolygon([p.lon, p.lat], c.geometry));
      expect(hosts).toHaveLength(1);
      const coverage = latest.get(hosts[0]!.c.code)!;
      statuses.add(p.status);
      if (p.status === 'deployed') expect(coverage).toBeGreaterThanOrEqual(0.8);
      else expect(coverage).toBeLessThan(0.8);
      if (coverage === 0) expect(p.status).toBe('planned');
    }
    expect(statuses).toEqual(new Set(['deployed', 'in_progress', 'planned']));
    const withPoints = new Set(
      demo.premises.map((p) => demo.communes.find((c) => turf.booleanPointInPolygon([p.lon, p.lat], c.geometry))!.code),
    );
    expect(withPoints.size).toBe(300);
  });

  it('has one fixed-wireless zone of about 10 km radius over the undeployed area', () => {
    expect(demo.coverage).toHaveLength(1);
    const zone = demo.coverage[0]!;
    expect(zone).toMatchObject({ technology: 'thd-radio', maxDownMbps: 30 });
    expect(turf.kinks(zone.geometry).features).toHaveLength(0);
    for (const ring of exteriorRings(zone.geometry)) expect(turf.booleanClockwise(ring)).toBe(false);
    const radiusKm = Math.sqrt(turf.area(zone.geometry) / 1e6 / Math.PI);
    expect(radiusKm).toBeGreaterThan(8);
    expect(radiusKm).toBeLessThan(12);
    const covered = (codes: string[]) =>
      codes.filter((c) => turf.booleanPointInPolygon(turf.pointOnFeature(commune(c).geometry), zone.geometry)).length / codes.length;
    expect(covered(demo.truth.splitUndeployed)).toBeGreaterThan(0.3);
  });

  it.each([1, 2, 3])('builds a valid territory with its planted signals for seed %i', (seed) => {
    checkStructure(generateDemo(seed));
  });
});
