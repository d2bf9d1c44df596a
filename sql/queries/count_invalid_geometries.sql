-- How many geometries of a JSON array [{geometry}] ($1) are invalid and will be repaired by ST_MakeValid on insert.
SELECT count(*)::int AS invalid
FROM jsonb_to_recordset($1::jsonb) AS r(geometry jsonb)
WHERE NOT ST_IsValid(ST_GeomFromGeoJSON(r.geometry::text))
