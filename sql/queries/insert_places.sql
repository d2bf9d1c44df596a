-- Inserts mediation places from a JSON array [{name, kind, lon, lat}] ($1), source $2, synthetic flag $3,
-- each placed in the commune that contains it (GiST point-in-polygon).
WITH input AS (
  SELECT r.name, r.kind, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326) AS geom
  FROM jsonb_to_recordset($1::jsonb) AS r(name text, kind text, lon double precision, lat double precision)
)
INSERT INTO place (name, kind, geom, commune_id, synthetic, source_id)
SELECT i.name, i.kind, i.geom,
       (SELECT c.id FROM territory c WHERE c.level = 'commune' AND ST_Intersects(c.geom, i.geom) ORDER BY c.code LIMIT 1),
       $3, $2
FROM input i
