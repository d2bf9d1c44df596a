/**
 * The synthetic national dataset the benchmarks share (bench/analysis.ts, bench/tiles.ts), built in the database
 * with set-based SQL: a jittered grid of communes (40-vertex quadrilaterals) over metropolitan France's bounding
 * box, EPCI, 100 départements, 13 régions, heavy-tailed populations; fibre_coverage for 3 quarters and 2 usage
 * rates for 3 years (counts behind every rate); mediation places, 10 premises points per commune, one coverage
 * layer of zones. EPCI, places and zones scale with the communes (1,250, 3,000 and 300 for 35,000).
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../server/db/schema.ts';

// metropolitan France, WGS84 degrees
export const [WEST, SOUTH, EAST, NORTH] = [-5.2, 41.3, 9.6, 51.1];
const PREMISES_PER_COMMUNE = 10;

/** EPCI of the dataset for a number of communes (1,250 for 35,000). */
export const nationalEpci = (communes: number) => Math.max(1, Math.round((1250 * communes) / 35_000));

/**
 * Uniform [0, 1) from an integer SQL expression and a stream number: multiplicative hash then two xor-shift
 * and multiply rounds (murmur-like), in bigint arithmetic so both backends give the same numbers.
 */
function uniform(expression: string, stream: number): string {
  const h1 = `mod((${expression})::bigint * 2654435761 + ${stream * 97_531 + 12_345}, 4294967296)`;
  // second multiplier below 2^31: a 32-bit value times it stays within bigint
  const h2 = `mod(((${h1}) # ((${h1}) >> 16)) * 1597334677, 4294967296)`;
  return `((((${h2}) # ((${h2}) >> 13)) % 4294967296)::float8 / 4294967296.0)`;
}

/** Builds the synthetic national dataset of `communes` communes; every statement is set-based (generate_series). */
export async function buildNational(db: Kysely<DB>, communes: number): Promise<void> {
  const COMMUNES = communes;
  const scale = (national: number) => Math.max(1, Math.round((national * COMMUNES) / 35_000));
  const COLS = Math.ceil(Math.sqrt(COMMUNES));
  const ROWS = Math.ceil(COMMUNES / COLS);
  const DX = (EAST - WEST) / COLS;
  const DY = (NORTH - SOUTH) / ROWS;
  const EPCI = scale(1250);
  const PLACES = scale(3000);
  const ZONES = scale(300);
  const run = (text: string) => sql.raw(text).execute(db);
  await run(`INSERT INTO source (id, kind, name, vintage, publisher, synthetic) VALUES
    (900001, 'bench', 'grille nationale synthétique', '2024', 'bench/analysis.ts', true),
    (900002, 'premises', 'points locaux synthétiques', '2024-Q4', 'bench/analysis.ts', true),
    (900003, 'coverage', 'zones THD radio synthétiques', '2024-Q4', 'bench/analysis.ts', true),
    (900004, 'places', 'lieux de médiation synthétiques', NULL, 'bench/analysis.ts', true)`);

  // Grid nodes jittered by up to ±0.2 cell, shared by the 4 cells around them: neighbours share exact vertices,
  // outlines are irregular quadrilaterals (bounding boxes overlap as real communes' do), segmentized to ~40 vertices.
  // Populations: Pareto (x_m = 250, α = 1.2): median ≈ 450, mean ≈ 1,500, a long tail capped at 2 million.
  await run(`
    WITH node AS (
      SELECT c, r, ST_MakePoint(${WEST} + (c + 0.4 * (${uniform('c * 100003 + r', 1)} - 0.5)) * ${DX},
                                ${SOUTH} + (r + 0.4 * (${uniform('c * 100003 + r', 2)} - 0.5)) * ${DY}) AS p
      FROM generate_series(0, ${COLS}) AS c CROSS JOIN generate_series(0, ${ROWS}) AS r
    ),
    cell AS (
      SELECT i, ST_Multi(ST_Segmentize(ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[a.p, b.p, d.p, e.p, a.p])), 4326), ${DX / 10})) AS g
      FROM (SELECT i, i % ${COLS} AS c, i / ${COLS} AS r FROM generate_series(0, ${COMMUNES - 1}) AS i) k
      JOIN node a ON a.c = k.c AND a.r = k.r
      JOIN node b ON b.c = k.c + 1 AND b.r = k.r
      JOIN node d ON d.c = k.c + 1 AND d.r = k.r + 1
      JOIN node e ON e.c = k.c AND e.r = k.r + 1
    )
    INSERT INTO territory (level, code, name, population, population_vintage, synthetic, geom, area_m2, source_id)
    SELECT 'commune', lpad(i::text, 5, '0'), 'Commune ' || i,
           least(2000000, round(250 * power(1 - ${uniform('i', 3)}, -1 / 1.2)))::int, '2024', true, g, ST_Area(g::geography), 900001
    FROM cell ORDER BY i`);
  await run(`
    INSERT INTO territory (level, code, name, synthetic, source_id)
    SELECT 'epci', '2' || lpad(i::text, 8, '0'), 'EPCI ' || i, true, 900001 FROM generate_series(0, ${EPCI - 1}) i
    UNION ALL SELECT 'departement', lpad(i::text, 2, '0'), 'Département ' || i, true, 900001 FROM generate_series(0, 99) i
    UNION ALL SELECT 'region', lpad(i::text, 2, '0'), 'Région ' || i, true, 900001 FROM generate_series(0, 12) i`);
  // départements: a 10 × 10 grid of blocks; régions: runs of ~8 départements; EPCI: runs of ~28 communes in
  // strips of 5 rows inside each département (about half the départements share an EPCI with the next one)
  await run(`
    CREATE TABLE bench_commune AS
    SELECT t.id, t.population, g.c, g.r, g.dep, g.dep * 13 / 100 AS reg,
           ((row_number() OVER (ORDER BY g.dep, g.r / 5, g.c, g.r) - 1) * ${EPCI} / ${COMMUNES})::int AS epci
    FROM territory t
    CROSS JOIN LATERAL (SELECT t.code::int % ${COLS} AS c, t.code::int / ${COLS} AS r) cr
    CROSS JOIN LATERAL (SELECT cr.c, cr.r, (cr.r * 10 / ${ROWS}) * 10 + cr.c * 10 / ${COLS} AS dep) g
    WHERE t.level = 'commune'`);
  await run(`
    INSERT INTO territory_member (territory_id, commune_id)
    SELECT p.id, b.id FROM bench_commune b JOIN territory p ON p.level = 'epci' AND p.code = '2' || lpad(b.epci::text, 8, '0')
    UNION ALL SELECT p.id, b.id FROM bench_commune b JOIN territory p ON p.level = 'departement' AND p.code = lpad(b.dep::text, 2, '0')
    UNION ALL SELECT p.id, b.id FROM bench_commune b JOIN territory p ON p.level = 'region' AND p.code = lpad(b.reg::text, 2, '0')`);
  await run(`
    UPDATE territory p SET population = s.population, population_vintage = '2024'
    FROM (SELECT m.territory_id, sum(b.population)::int AS population FROM territory_member m JOIN bench_commune b ON b.id = m.commune_id GROUP BY m.territory_id) s
    WHERE p.id = s.territory_id`);

  await run(`
    INSERT INTO indicator (id, label_fr, label_en, theme, unit, higher_is_better, aggregation, publisher, licence, synthetic) VALUES
      ('usage_internet_daily', 'Usage quotidien d''internet', 'Daily internet use', 'territoires-connectes', 'ratio', true, 'ratio_of_sums', 'bench', 'synthétique', true),
      ('usage_non_internautes', 'Part de non-internautes', 'Share of non-users', 'e-administration', 'ratio', false, 'ratio_of_sums', 'bench', 'synthétique', true)`);
  // Fibre: a smooth national field, a per-département deployment plan and commune noise; +0–4 points a quarter;
  // a few communes above 100 % (operators count more premises than INSEE). Denominator: premises ≈ 0.55 × population.
  await run(`
    WITH field AS (
      SELECT b.id, greatest(1, round(b.population * 0.55)) AS premises,
             0.1 + 0.45 * (0.5 + 0.5 * sin(b.c / 9.0) * cos(b.r / 7.0)) + 0.35 * ${uniform('b.dep', 4)} + 0.15 * ${uniform('b.id', 5)} AS base
      FROM bench_commune b
    )
    INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
    SELECT 'fibre_coverage', f.id, q.vintage, round(f.premises * q.rate) / f.premises, round(f.premises * q.rate), f.premises, 900001
    FROM field f
    CROSS JOIN LATERAL (VALUES
      ('2024-Q2', least(1.08, f.base)),
      ('2024-Q3', least(1.08, f.base + 0.04 * ${uniform('f.id', 6)})),
      ('2024-Q4', least(1.08, f.base + 0.04 * ${uniform('f.id', 6)} + 0.04 * ${uniform('f.id', 7)}))) AS q(vintage, rate)`);
  // Usage: a smooth field, a planted low-usage cluster (radius ~12 cells around the grid's centre-west), +2 points
  // a year; ~1 % of communes without a value (partial aggregates). Counts: respondents ≈ population.
  await run(`
    WITH field AS (
      SELECT b.id, b.population,
             0.5 + 0.5 * cos(b.c / 13.0) * sin(b.r / 11.0) AS smooth,
             CASE WHEN (b.c - ${Math.round(COLS * 0.3)}) ^ 2 + (b.r - ${Math.round(ROWS * 0.5)}) ^ 2 < 144 THEN 0.2 ELSE 0 END AS gap
      FROM bench_commune b
      WHERE b.population > 0 AND ${uniform('b.id', 8)} >= 0.01
    ),
    rates AS (
      SELECT f.id, f.population, y.vintage,
             least(0.98, greatest(0.05, 0.55 + 0.25 * f.smooth - f.gap + 0.1 * ${uniform('f.id', 9)} + y.shift)) AS daily,
             least(0.9, greatest(0.02, 0.3 - 0.15 * f.smooth + f.gap + 0.08 * ${uniform('f.id', 10)} - y.shift)) AS non_users
      FROM field f CROSS JOIN (VALUES ('2022', 0.0), ('2023', 0.02), ('2024', 0.04)) AS y(vintage, shift)
    )
    INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
    SELECT 'usage_internet_daily', id, vintage, round(population * daily) / population, round(population * daily), population, 900001 FROM rates
    UNION ALL
    SELECT 'usage_non_internautes', id, vintage, round(population * non_users) / population, round(population * non_users), population, 900001 FROM rates`);

  // mediation places in the most populous communes
  await run(`
    INSERT INTO place (name, kind, geom, commune_id, synthetic, source_id)
    SELECT 'Lieu ' || t.code, 'mediation', ST_PointOnSurface(t.geom), t.id, true, 900004
    FROM territory t WHERE t.level = 'commune' ORDER BY t.population DESC, t.id LIMIT ${PLACES}`);
  // premises points inside their commune (±0.3 cell around its centre: within the jittered outline), placed already
  await run(`
    INSERT INTO premises_point (geom, premises, status, operator, commune_id, source_id)
    SELECT ST_SetSRID(ST_MakePoint(${WEST} + (b.c + 0.5 + 0.6 * (${uniform('b.id * 16 + k', 11)} - 0.5)) * ${DX},
                                   ${SOUTH} + (b.r + 0.5 + 0.6 * (${uniform('b.id * 16 + k', 12)} - 0.5)) * ${DY}), 4326),
           1 + (${uniform('b.id * 16 + k', 13)} * 12)::int,
           (ARRAY['deployed', 'deployed', 'deployed', 'in_progress', 'planned'])[1 + (${uniform('b.id * 16 + k', 14)} * 5)::int % 5],
           'Opérateur ' || (b.dep % 4), b.id, 900002
    FROM bench_commune b CROSS JOIN generate_series(1, ${PREMISES_PER_COMMUNE}) AS k`);
  // one fixed-wireless layer: discs of 3–15 km (geography buffers, 32 vertices)
  await run(`
    INSERT INTO coverage_area (technology, max_down_mbps, geom, source_id)
    SELECT 'THD radio', 100, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(${WEST} + ${EAST - WEST} * ${uniform('i', 15)},
                                                                       ${SOUTH} + ${NORTH - SOUTH} * ${uniform('i', 16)}), 4326)::geography,
                                                3000 + 12000 * ${uniform('i', 17)})::geometry), 900003
    FROM generate_series(1, ${ZONES}) AS i`);
  await run('DROP TABLE bench_commune');
  // what run-import.ts analyses after territories changed; nothing else (PGlite has no autovacuum)
  await run('ANALYZE territory');
  await run('ANALYZE territory_member');
}
