-- Stages one batch of boundary features from a JSON array [{feature, code, name, reconciled, geojson | wkb}]
-- ($1) given in the coordinate system $2 (EPSG code) or $3 (a WKT/PROJ definition, e.g. a .prj; null when $2 applies).
-- Returns how many geometries were repaired and the features left without any polygon.
WITH input AS (
  -- one row per feature; the geometry stays GeoJSON or WKB hex until PostGIS parses it
  SELECT r.feature, r.code, r.name, r.reconciled, r.geojson, r.wkb
  FROM jsonb_to_recordset($1::jsonb) AS r(feature integer, code text, name text, reconciled boolean, geojson jsonb, wkb text)
),
parsed AS (
  -- GeoJSON (GeoJSON, Shapefile readers) or WKB (GeoPackage), flattened to 2D: the column is 2D
  SELECT feature, code, name, reconciled,
         ST_Force2D(CASE WHEN geojson IS NOT NULL THEN ST_GeomFromGeoJSON(geojson::text) ELSE ST_GeomFromWKB(decode(wkb, 'hex')) END) AS geom
  FROM input
),
projected AS (
  -- to WGS84 longitude/latitude; ST_Transform(geom, text, srid) reads a .prj (ESRI WKT) on PostGIS 3.3 and 3.6
  SELECT feature, code, name, reconciled,
         CASE WHEN $3::text IS NOT NULL THEN ST_Transform(geom, $3::text, 4326)
              ELSE ST_Transform(ST_SetSRID(geom, $2::integer), 4326)
         END AS geom
  FROM parsed
),
checked AS (
  -- ST_IsValidDetail rather than ST_IsValid: same test, without a NOTICE per invalid polygon
  SELECT feature, code, name, reconciled, geom, NOT (ST_IsValidDetail(geom)).valid AS repaired
  FROM projected
),
staged AS (
  -- repaired only when invalid, polygons only (a repair can leave lines), always MultiPolygon
  INSERT INTO boundary_stage (feature, code, name, reconciled, repaired, geom)
  SELECT feature, code, name, reconciled, repaired,
         ST_Multi(ST_CollectionExtract(CASE WHEN repaired THEN ST_MakeValid(geom) ELSE geom END, 3))
  FROM checked
  RETURNING feature, repaired, geom
)
SELECT count(*) FILTER (WHERE repaired) AS repaired,
       coalesce(array_agg(feature ORDER BY feature) FILTER (WHERE ST_IsEmpty(geom)), '{}') AS empty
FROM staged
