-- Distance (metres on the WGS84 ellipsoid, through geography) from every commune to its nearest mediation place.
-- Run after deleting metric_access (same transaction).
WITH origin AS MATERIALIZED (
  -- no population grid yet: a point inside the commune (a centroid can fall outside a concave or split commune)
  SELECT t.id, ST_PointOnSurface(t.geom) AS geom
  FROM territory t
  JOIN level l ON l.id = t.level AND l.rank = 0
  WHERE t.geom IS NOT NULL AND NOT ST_IsEmpty(t.geom)
),
nearest AS (
  -- <-> on geometry(4326) ranks by planar degrees (a degree of longitude is shorter than one of latitude):
  -- the 5 nearest through the GiST index are re-ranked by their ellipsoidal distance
  SELECT o.id, n.place_id, n.distance_m
  FROM origin o
  CROSS JOIN LATERAL (
    SELECT k.id AS place_id, ST_Distance(k.geom::geography, o.geom::geography) AS distance_m
    FROM (SELECT p.id, p.geom FROM place p ORDER BY p.geom <-> o.geom LIMIT 5) k
    ORDER BY distance_m, k.id
    LIMIT 1
  ) n
)
INSERT INTO metric_access (territory_id, distance_m, nearest_place_id, share_population_beyond_10km, share_population_beyond_20km, origin)
-- a commune's own population is all beyond a threshold or all within it: shares are 0 or 1
SELECT id, distance_m, place_id,
       CASE WHEN distance_m > 10000 THEN 1.0 ELSE 0.0 END,
       CASE WHEN distance_m > 20000 THEN 1.0 ELSE 0.0 END,
       'point on surface'
FROM nearest
