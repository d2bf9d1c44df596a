-- Writes the staged outlines as territories of level $1 from source $2, with names $3 (JSON [{code, name}]) for
-- communes that absorbed merged ones. Existing territories keep their name and population and get the imported
-- outline, which is no longer dissolved from member communes; missing ones are created with the file's name.
-- Returns the codes written.
WITH folded AS (
  -- one outline per current code: features of communes merged since the file's vintage are unioned into the
  -- commune that absorbed them
  SELECT code,
         CASE WHEN count(*) = 1 THEN (array_agg(geom))[1] ELSE ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) END AS geom,
         (array_agg(name ORDER BY reconciled, feature))[1] AS name
  FROM boundary_stage
  GROUP BY code
),
named AS (
  -- the current name of a commune that absorbed others (Cessières → Cessières-Suzy)
  SELECT f.code, coalesce(n.name, f.name) AS name, f.geom
  FROM folded f
  LEFT JOIN jsonb_to_recordset($3::jsonb) AS n(code text, name text) ON n.code = f.code
)
INSERT INTO territory (level, code, name, geom, geom_dissolved, area_m2, source_id)
SELECT $1, code, name, geom, false,
       -- square metres on the ellipsoid
       ST_Area(geom::geography), $2
FROM named
ON CONFLICT (level, code) DO UPDATE SET
  geom = EXCLUDED.geom,
  geom_dissolved = false,
  area_m2 = EXCLUDED.area_m2,
  source_id = EXCLUDED.source_id
RETURNING code
