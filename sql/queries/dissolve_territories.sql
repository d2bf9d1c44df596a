-- Computes the outline of every coarser territory that has none, or whose outline was itself dissolved,
-- by dissolving its member communes (ST_Union), rather than importing a second, inconsistent boundary layer.
WITH dissolved AS (
  SELECT m.territory_id, ST_Multi(ST_CollectionExtract(ST_Union(c.geom), 3)) AS geom
  FROM territory_member m
  JOIN territory t ON t.id = m.territory_id
  JOIN territory c ON c.id = m.commune_id
  WHERE (t.geom IS NULL OR t.geom_dissolved) AND c.geom IS NOT NULL
  GROUP BY m.territory_id
)
UPDATE territory t
SET geom = d.geom,
    geom_dissolved = true,
    -- square metres on the ellipsoid
    area_m2 = ST_Area(d.geom::geography)
FROM dissolved d
WHERE t.id = d.territory_id
