-- Server backend: the MVT layer (name $6) of mediation places in tile $1/$2/$3 (extent $4, buffer $5 tile units);
-- properties id, name, kind. The envelope is a rectangle in WGS84 too (Mercator keeps meridians and parallels
-- straight), so the GiST index of place.geom filters. Keep in step with tile_places_features.sql.
WITH bounds AS (
  SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
         ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => $5::float8 / $4::int), 4326) AS search
),
features AS (
  SELECT p.id, p.name, p.kind, ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.tile, $4::int, $5::int, true) AS geom
  FROM place p CROSS JOIN bounds b
  WHERE p.geom && b.search
)
SELECT ST_AsMVT(features, $6::text, $4::int, 'geom') AS tile FROM features WHERE geom IS NOT NULL
