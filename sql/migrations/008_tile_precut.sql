-- terrinum schema 8: the geometry of the low-zoom tiles, cut once per outline change.
-- A z5 commune tile holds 10,000–18,500 features: cutting it per request took 1.4 s p95 on the embedded backend
-- (SQL clipping, GeoJSON, geojson-vt, vt-pbf) and 0.7–1.1 s with ST_AsMVT on the server. The tile-geometry
-- analysis step cuts every tile from z0 to server/tiles/precut.ts PRECUT_MAX_ZOOM of every level once, right
-- after rebuilding tile_geometry; a request then copies each feature's encoded geometry and writes its
-- properties (names and values of the current data version).
CREATE TABLE tile_precut (
  level text NOT NULL REFERENCES level (id) ON DELETE CASCADE,
  z smallint NOT NULL CHECK (z >= 0),
  x integer NOT NULL CHECK (x >= 0),
  y integer NOT NULL CHECK (y >= 0),
  -- territory of each feature, in the order of the features
  territory_ids integer[] NOT NULL,
  -- an MVT tile of one layer whose features have a type and a geometry only (no id, no tags)
  features bytea NOT NULL,
  PRIMARY KEY (level, z, x, y)
);

-- A database upgraded with outlines in it has no pre-cut tile yet: forgetting the generalised outlines makes the
-- tile service rebuild them (and cut the low-zoom tiles) on its first tile, instead of serving the slow path until
-- the next outline import.
DELETE FROM tile_geometry;
DELETE FROM tile_geometry_source;
