-- Adds one batch of premises from a JSON array [{line, x, y, premises, status, operator}] ($1) whose coordinates
-- are in the CRS of SRID $2 (4326 = lon/lat) to the staging table, reprojected to WGS84 once, here.
WITH input AS (
  SELECT r.line, ST_SetSRID(ST_MakePoint(r.x, r.y), $2::integer) AS geom, r.premises, r.status, r.operator
  FROM jsonb_to_recordset($1::jsonb) AS r(line integer, x double precision, y double precision, premises integer, status text, operator text)
)
INSERT INTO premises_staging (line, geom, premises, status, operator)
SELECT line, ST_Transform(geom, 4326), premises, status, operator
FROM input
