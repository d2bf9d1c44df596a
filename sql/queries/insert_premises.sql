-- Inserts premises points from a JSON array [{lon, lat, premises, status, operator}] ($1), source $2,
-- each joined to the commune that contains it (GiST point-in-polygon); outside every commune → null.
WITH input AS (
  SELECT ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326) AS geom, r.premises, r.status, r.operator
  FROM jsonb_to_recordset($1::jsonb) AS r(lon double precision, lat double precision, premises integer, status text, operator text)
)
INSERT INTO premises_point (geom, premises, status, operator, commune_id, source_id)
SELECT i.geom, i.premises, i.status, i.operator,
       (SELECT c.id FROM territory c WHERE c.level = 'commune' AND ST_Intersects(c.geom, i.geom) ORDER BY c.code LIMIT 1),
       $2
FROM input i
