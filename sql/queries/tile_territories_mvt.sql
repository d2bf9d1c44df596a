-- Server backend: one Mapbox vector tile layer (name $8) of the territories of level $4 in tile $1/$2/$3, cut from
-- the generalised outlines of zoom band $5 with ST_AsMVTGeom (extent $6, buffer $7 tile units).
-- Properties: code, name, partial and one per requested indicator: its id and vintage are the two parameters
-- that follow the others ($9 and $10 for the first indicator, $11 and $12 for the second…).
-- server/tiles/render.ts writes, from catalogue ids only, where the markers stand:
--   indicator columns: coalesce(v1.partial OR v2.partial …, false) AS partial, v1.value AS "<id 1>", …
--     (partial: a value computed from fewer communes than expected)
--   indicator joins:   LEFT JOIN indicator_value v1 ON v1.territory_id = g.territory_id
--                        AND v1.indicator_id = $9::text AND v1.vintage = $10::text …
-- Keep in step with tile_territories_features.sql.
WITH bounds AS (
  SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
         ST_TileEnvelope($1::int, $2::int, $3::int, margin => $7::float8 / $6::int) AS search
),
features AS (
  SELECT t.code, t.name, /*indicator columns*/,
         ST_AsMVTGeom(g.geom, b.tile, $6::int, $7::int, true) AS geom
  FROM tile_geometry g
  JOIN territory t ON t.id = g.territory_id
  CROSS JOIN bounds b
  /*indicator joins*/
  WHERE g.level = $4::text AND g.band = $5::smallint AND g.geom && b.search
)
SELECT ST_AsMVT(features, $8::text, $6::int, 'geom') AS tile FROM features WHERE geom IS NOT NULL
