-- Embedded backend (PGlite's PostGIS has no ST_AsMVT): the features of tile_territories_mvt.sql, same parameters
-- but the layer name (so the first indicator's are $8 and $9), same markers, with the generalised outline clipped
-- to the tile and its buffer. One row: a JSON array of GeoJSON features in EPSG:3857 metres (decimetres are
-- plenty: a tile unit is 2.4 m at z14) — thousands of rows cost PGlite more to hand over than one long text.
-- server/tiles/render.ts cuts the tile with geojson-vt. Keep in step with tile_territories_mvt.sql.
WITH bounds AS (
  SELECT ST_TileEnvelope($1::int, $2::int, $3::int, margin => $7::float8 / $6::int) AS search
),
features AS (
  SELECT t.code, t.name, /*indicator columns*/,
         -- outlines inside the envelope need no clipping (most of them, past the lowest zooms); a clipped one
         -- keeps its polygons only (ST_AsMVTGeom drops the lines a sliver can leave too)
         CASE WHEN g.geom @ b.search THEN g.geom ELSE ST_CollectionExtract(ST_ClipByBox2D(g.geom, b.search), 3) END AS geom
  FROM tile_geometry g
  JOIN territory t ON t.id = g.territory_id
  CROSS JOIN bounds b
  /*indicator joins*/
  WHERE g.level = $4::text AND g.band = $5::smallint AND g.geom && b.search
)
SELECT '[' || coalesce(string_agg(ST_AsGeoJSON(f.*, 'geom', 1), ','), '') || ']' AS features
FROM features f
WHERE NOT ST_IsEmpty(f.geom)
