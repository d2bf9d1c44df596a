-- Writes territories of one level from a JSON array [{code, name, population, geometry}] ($1),
-- tagged with their level ($2), source ($3), population vintage ($4) and synthetic flag ($5).
WITH input AS (
  -- one row per territory; geometry stays GeoJSON text until PostGIS parses it
  SELECT r.code, r.name, r.population, r.geometry
  FROM jsonb_to_recordset($1::jsonb) AS r(code text, name text, population integer, geometry jsonb)
),
shaped AS (
  -- repaired, polygons only, always MultiPolygon in WGS84
  SELECT code, name, population,
         CASE WHEN geometry IS NULL THEN NULL
              ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(geometry::text), 4326)), 3))
         END AS geom
  FROM input
)
INSERT INTO territory (level, code, name, population, population_vintage, synthetic, geom, area_m2, source_id)
SELECT $2, code, name, population, $4, $5, geom,
       -- square metres on the ellipsoid
       ST_Area(geom::geography), $3
FROM shaped
ON CONFLICT (level, code) DO UPDATE SET
  name = EXCLUDED.name,
  population = coalesce(EXCLUDED.population, territory.population),
  population_vintage = coalesce(EXCLUDED.population_vintage, territory.population_vintage),
  synthetic = EXCLUDED.synthetic,
  geom = coalesce(EXCLUDED.geom, territory.geom),
  area_m2 = coalesce(EXCLUDED.area_m2, territory.area_m2),
  source_id = EXCLUDED.source_id
