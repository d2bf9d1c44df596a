-- Moves the staged premises into premises_point for source $1, each in the commune that contains it, in one pass;
-- returns how many were stored, how many lie outside every commune and the first lines of those.
WITH placed AS (
  -- set-based point-in-polygon join through the GiST index of territory; a point on a shared border goes to
  -- the lowest code, a point outside every commune keeps a null commune (left join)
  SELECT DISTINCT ON (s.line) s.line, s.geom, s.premises, s.status, s.operator, c.id AS commune_id
  FROM premises_staging s
  LEFT JOIN territory c ON c.level = 'commune' AND ST_Intersects(c.geom, s.geom)
  ORDER BY s.line, c.code
),
stored AS (
  -- points outside every commune are kept, never dropped silently
  INSERT INTO premises_point (geom, premises, status, operator, commune_id, source_id)
  SELECT geom, premises, status, operator, commune_id, $1 FROM placed
  RETURNING commune_id
),
outside AS (
  -- the first lines outside, for the report
  SELECT line FROM placed WHERE commune_id IS NULL ORDER BY line LIMIT 10
)
SELECT (SELECT count(*) FROM stored)::int AS stored,
       (SELECT count(*) FROM stored WHERE commune_id IS NULL)::int AS outside,
       (SELECT coalesce(json_agg(line ORDER BY line), '[]'::json) FROM outside) AS first_outside_lines
