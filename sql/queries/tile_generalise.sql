-- Generalised outlines of every territory with an outline, once per zoom band ($1 bands, $2 tolerances in metres,
-- aligned arrays): projected to EPSG:3857 once, simplified keeping each polygon valid, exterior rings
-- counter-clockwise (clockwise in tile coordinates, y down, as the MVT specification wants).
-- The caller empties tile_geometry first. Returns the rows written.
WITH projected AS (
  SELECT t.id, t.level, ST_Transform(t.geom, 3857) AS geom
  FROM territory t
  WHERE t.geom IS NOT NULL AND NOT ST_IsEmpty(t.geom)
),
written AS (
  INSERT INTO tile_geometry (territory_id, level, band, geom)
  SELECT p.id, p.level, b.band, ST_Multi(ST_ForcePolygonCCW(ST_SimplifyPreserveTopology(p.geom, b.tolerance)))
  FROM projected p
  CROSS JOIN unnest($1::smallint[], $2::float8[]) AS b(band, tolerance)
  RETURNING 1
)
SELECT count(*)::int AS rows FROM written
