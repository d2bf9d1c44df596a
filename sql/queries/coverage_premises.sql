-- Fibre coverage measured on premises points ($1 = indicator id): Σ premises of deployed points ÷ Σ premises,
-- per commune and vintage. Run after deleting the indicator's values (same transaction).
WITH sourced AS (
  -- a source's vintage: its own when well-formed, else the quarter it was imported in (UTC, same on every backend)
  SELECT s.id, s.imported_at,
         CASE WHEN s.vintage ~ '^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$' THEN s.vintage
              ELSE to_char(s.imported_at AT TIME ZONE 'UTC', 'YYYY-"Q"Q')
         END AS vintage
  FROM source s
  WHERE s.id IN (SELECT DISTINCT source_id FROM premises_point)
),
per_source AS (
  -- summed per source first, so the latest source is picked among a few rows, not among every point
  SELECT p.commune_id, p.source_id,
         sum(p.premises) FILTER (WHERE p.status = 'deployed') AS deployed,
         sum(p.premises) AS premises
  FROM premises_point p
  WHERE p.commune_id IS NOT NULL
  GROUP BY p.commune_id, p.source_id
),
counted AS (
  -- several sources of one vintage (e.g. one file per operator) add up; the values carry the latest source
  SELECT c.commune_id, s.vintage,
         coalesce(sum(c.deployed), 0)::double precision AS deployed,
         sum(c.premises)::double precision AS premises,
         (array_agg(s.id ORDER BY s.imported_at DESC, s.id DESC))[1] AS source_id
  FROM per_source c
  JOIN sourced s ON s.id = c.source_id
  JOIN territory t ON t.id = c.commune_id
  JOIN level l ON l.id = t.level AND l.rank = 0
  GROUP BY c.commune_id, s.vintage
)
INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
SELECT $1, commune_id, vintage, deployed / premises, deployed, premises, source_id
FROM counted
WHERE premises > 0
