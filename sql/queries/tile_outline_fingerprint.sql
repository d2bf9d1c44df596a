-- A hash of every territory outline (id and geometry) and of the bands' tolerances ($1, text): equal hashes, equal
-- generalised outlines. Hashing the outlines costs a small fraction of simplifying them six times over.
SELECT md5($1::text || coalesce(string_agg(t.id || ':' || md5(ST_AsBinary(t.geom)), ',' ORDER BY t.id), '')) AS fingerprint
FROM territory t
WHERE t.geom IS NOT NULL AND NOT ST_IsEmpty(t.geom)
