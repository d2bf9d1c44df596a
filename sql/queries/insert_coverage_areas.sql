-- Inserts coverage zones from a JSON array [{technology, max_down_mbps, geometry}] ($1), source $2; repaired, MultiPolygon.
INSERT INTO coverage_area (technology, max_down_mbps, geom, source_id)
SELECT r.technology, r.max_down_mbps,
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(r.geometry::text), 4326)), 3)),
       $2
FROM jsonb_to_recordset($1::jsonb) AS r(technology text, max_down_mbps double precision, geometry jsonb)
