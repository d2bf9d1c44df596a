-- Share of each commune covered by the zones of each technology ($1 = JSON [{technology, key}]), by area and by
-- population, stored as indicators coverage_area_<key> and coverage_population_<key>. Areas in square metres on
-- the WGS84 ellipsoid (geography). Run after deleting those indicators' values (same transaction).
-- $2 = the overlay grid in degrees (2^-30, OVERLAY_GRID_DEGREES in server/analysis/coverage.ts): the clip and the
-- union snap-round onto it (GEOS OverlayNG with a fixed precision), which cannot hit a robustness failure. Without
-- it, GEOS retries a failed floating-point overlay internally by catching an exception, which the WebAssembly build
-- of PGlite cannot do: the statement stops returning rows without an error (pglite #916). A power of two keeps the
-- snapped coordinates exact, so GEOS 3.11 (PostGIS 3.3) and 3.14 (PGlite) give the same vertices.
WITH technology AS (
  -- technology names as imported, each mapped to the [a-z0-9_] key of its indicators
  SELECT r.technology, r.key FROM jsonb_to_recordset($1::jsonb) AS r(technology text, key text)
),
zone AS (
  -- a zone's vintage is its source's when well-formed, else the quarter it was imported in (UTC)
  SELECT t.key, z.geom, s.id AS source_id, s.imported_at,
         CASE WHEN s.vintage ~ '^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$' THEN s.vintage
              ELSE to_char(s.imported_at AT TIME ZONE 'UTC', 'YYYY-"Q"Q')
         END AS vintage
  FROM coverage_area z
  JOIN technology t ON t.technology = z.technology
  JOIN source s ON s.id = z.source_id
),
layer AS (
  -- one layer per key and vintage; its values carry the latest source that contributed
  SELECT key, vintage, (array_agg(source_id ORDER BY imported_at DESC, source_id DESC))[1] AS source_id
  FROM zone
  GROUP BY key, vintage
),
commune AS (
  SELECT t.id, t.geom, t.area_m2, t.population
  FROM territory t
  JOIN level l ON l.id = t.level AND l.rank = 0
  WHERE t.geom IS NOT NULL AND t.area_m2 > 0
),
piece AS (
  -- commune ∩ ∪zones = ∪(commune ∩ zone): each zone is clipped by the communes it touches (territory's GiST index);
  -- a commune inside one zone needs no overlay (the prepared zone is reused along the loop)
  SELECT z.key, z.vintage, t.id, t.area_m2,
         ST_CoveredBy(t.geom, z.geom) AS inside,
         CASE WHEN NOT ST_CoveredBy(t.geom, z.geom) THEN ST_CollectionExtract(ST_Intersection(t.geom, z.geom, $2::float8), 3) END AS geom
  FROM zone z
  JOIN territory t ON ST_Intersects(t.geom, z.geom)
  JOIN level l ON l.id = t.level AND l.rank = 0
),
covered AS (
  -- overlapping zones merged, so an area covered twice counts once
  SELECT key, vintage, id,
         CASE WHEN bool_or(inside) THEN max(area_m2) ELSE ST_Area(ST_Union(geom, $2::float8)::geography) END AS covered_m2
  FROM piece
  GROUP BY key, vintage, id
),
combined AS (
  -- every commune of every layer gets a zero row, plus its covered area where a zone touches it
  -- (a union and a grouping rather than a left join, whose plan the row estimates of the JSON input can spoil)
  SELECT y.key, y.vintage, y.source_id, c.id, c.area_m2, c.population, 0.0::double precision AS covered_m2
  FROM layer y
  CROSS JOIN commune c
  UNION ALL
  SELECT key, vintage, NULL, id, NULL, NULL, covered_m2
  FROM covered
),
capped AS (
  -- one row per layer and commune; the covered area capped at the commune's (rounding of the clipped outline)
  SELECT key, vintage, max(source_id) AS source_id, id, max(area_m2) AS area_m2, max(population) AS population,
         least(max(covered_m2), max(area_m2)) AS covered_m2
  FROM combined
  GROUP BY key, vintage, id
  HAVING max(area_m2) IS NOT NULL
),
share AS (
  -- areas to the square decimetre: the geodesic code of PostGIS 3.3 and 3.6 differ in the last bits, and the
  -- permutation tests of the later steps compare values exactly
  SELECT key, vintage, source_id, id, round(area_m2::numeric, 2)::float8 AS area_m2, population,
         round(covered_m2::numeric, 2)::float8 AS covered_m2
  FROM capped
)
INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
SELECT 'coverage_area_' || key, id, vintage, covered_m2 / area_m2, covered_m2, area_m2, source_id
FROM share
UNION ALL
-- no population grid: people spread evenly over the commune, so the share equals the area share,
-- but the counts are people, so coarser levels weigh communes by population
SELECT 'coverage_population_' || key, id, vintage, covered_m2 / area_m2, population * (covered_m2 / area_m2), population, source_id
FROM share
WHERE population > 0
