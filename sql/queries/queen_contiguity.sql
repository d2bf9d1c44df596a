-- Rebuilds the queen contiguity of communes (outlines sharing an edge or a vertex) into territory_neighbour.
-- $1 = snap tolerance in degrees (the same number as spdep::poly2nb(snap=) in test/r/lisa.R).
-- Run after emptying territory_neighbour (same transaction); returns the number of ordered pairs written.
WITH pairs AS (
  -- candidates through the GiST index (bounding box grown by the snap tolerance), then the exact test;
  -- each unordered pair once (a.id < b.id). Tolerance in degrees, not metres: it only absorbs coordinate noise
  -- and must equal R's poly2nb snap, which works in the coordinates' own unit
  SELECT a.id AS a, b.id AS b
  FROM territory a
  JOIN level l ON l.id = a.level AND l.rank = 0
  JOIN territory b ON b.level = a.level AND b.geom && ST_Expand(a.geom, $1) AND b.id > a.id
  WHERE a.geom IS NOT NULL AND ST_DWithin(a.geom, b.geom, $1)
),
inserted AS (
  -- both directions, so a commune's neighbours are one index lookup away
  INSERT INTO territory_neighbour (territory_id, neighbour_id)
  SELECT a, b FROM pairs
  UNION ALL
  SELECT b, a FROM pairs
  RETURNING 1
)
SELECT count(*)::int AS pairs FROM inserted
