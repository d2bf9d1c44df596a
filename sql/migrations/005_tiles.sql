-- terrinum schema 5: generalised outlines the vector tiles are cut from.
-- Cutting a low-zoom tile from full-resolution outlines re-projects and clips thousands of detailed polygons per
-- request (5.4 s for a z5 commune tile embedded); these are projected to Web Mercator and simplified once per
-- zoom band (server/tiles/layers.ts), rebuilt by the tile-geometry analysis step when outlines change.
CREATE TABLE tile_geometry (
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  level text NOT NULL REFERENCES level (id) ON DELETE CASCADE,
  -- index into the zoom bands of server/tiles/layers.ts
  band smallint NOT NULL CHECK (band >= 0),
  -- EPSG:3857, simplified with ST_SimplifyPreserveTopology at the band's resolution, exterior rings
  -- counter-clockwise (clockwise in tile coordinates, as the MVT specification wants)
  geom geometry(MultiPolygon, 3857) NOT NULL,
  PRIMARY KEY (band, territory_id)
);
-- What tile_geometry was built from: a hash of the outlines and of the bands' tolerances. An import that changes
-- no outline (places, premises, coverage zones) leaves it, and the rebuild is skipped.
CREATE TABLE tile_geometry_source (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  fingerprint text NOT NULL
);
-- A tile reads one (level, band) slice inside one envelope: the planner combines both indexes (BitmapAnd).
CREATE INDEX tile_geometry_slice ON tile_geometry (level, band);
CREATE INDEX tile_geometry_geom_gist ON tile_geometry USING gist (geom);

-- Tiles (and the per-level lists) read one indicator at one vintage for many territories: a range of this index
-- instead of the whole table, or of the primary key's every vintage.
CREATE INDEX indicator_value_indicator_vintage ON indicator_value (indicator_id, vintage);
