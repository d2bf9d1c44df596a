-- Embedded backend: the places of tile_places_mvt.sql (same parameters but the layer name), as one JSON array of
-- GeoJSON features in EPSG:3857. Keep in step with tile_places_mvt.sql.
WITH bounds AS (
  SELECT ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => $5::float8 / $4::int), 4326) AS search
),
features AS (
  SELECT p.id, p.name, p.kind, ST_Transform(p.geom, 3857) AS geom
  FROM place p CROSS JOIN bounds b
  WHERE p.geom && b.search
)
SELECT '[' || coalesce(string_agg(ST_AsGeoJSON(f.*, 'geom', 1), ','), '') || ']' AS features FROM features f
