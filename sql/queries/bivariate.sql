-- Values of two indicators ($2 = x, $3 = y) for the territories of one level ($1), each at its latest vintage at or
-- before the requested one ($4), optionally only territories sharing a member commune with territory $5.
WITH requested AS (
  -- vintages of different grains compare by their end date (2024 = 2024-Q4 = 2024-12)
  SELECT vintage_end($4::text) AS end_date
),
candidates AS (
  -- the distinct vintages of both indicators (vintage_end is evaluated on these few, not on every value)
  SELECT DISTINCT v.indicator_id, v.vintage
  FROM indicator_value v
  WHERE v.indicator_id IN ($2, $3)
),
vintages AS (
  -- per axis, the latest vintage at or before the requested one with values at this level;
  -- at equal end dates the finer grain wins (2024-Q4 over 2024)
  SELECT DISTINCT ON (c.indicator_id) c.indicator_id, c.vintage
  FROM candidates c
  CROSS JOIN requested r
  WHERE vintage_end(c.vintage) <= r.end_date
    AND EXISTS (
      SELECT 1 FROM indicator_value v JOIN territory t ON t.id = v.territory_id
      WHERE v.indicator_id = c.indicator_id AND v.vintage = c.vintage AND t.level = $1 AND v.value IS NOT NULL)
  ORDER BY c.indicator_id, vintage_end(c.vintage) DESC, c.vintage DESC
),
scope AS (
  -- the compared territories: the whole level, or those overlapping the `within` territory by a commune
  SELECT t.id, t.code, t.name
  FROM territory t
  WHERE t.level = $1
    AND ($5::integer IS NULL OR EXISTS (
      SELECT 1 FROM territory_member w
      LEFT JOIN territory_member m ON m.commune_id = w.commune_id AND m.territory_id = t.id
      WHERE w.territory_id = $5 AND (w.commune_id = t.id OR m.territory_id IS NOT NULL)))
)
SELECT s.code, s.name, x.value AS x, y.value AS y, xv.vintage AS x_vintage, yv.vintage AS y_vintage
FROM scope s
JOIN vintages xv ON xv.indicator_id = $2
JOIN vintages yv ON yv.indicator_id = $3
JOIN indicator_value x ON x.indicator_id = $2 AND x.territory_id = s.id AND x.vintage = xv.vintage
JOIN indicator_value y ON y.indicator_id = $3 AND y.territory_id = s.id AND y.vintage = yv.vintage
WHERE x.value IS NOT NULL AND y.value IS NOT NULL
ORDER BY s.code
