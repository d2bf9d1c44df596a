-- Share of the population living in member communes more than $4 points below their territory's own value, for
-- the territories of level $1 with a stored disparity row of indicator $2 at vintage $3: /api/multispeed?threshold=
-- at another threshold than the stored one. Same inputs and formula as the stored recompute
-- (disparity_inputs.sql, sharePopulationBelow in server/analysis/disparity.ts): weight = population, else the
-- rate's denominator; communes without a finite value or a positive weight are left out; "below" oriented by
-- higher_is_better, in percentage points for a ratio (× 100) and index points for an index.
SELECT t.code,
       coalesce(sum(c.weight) FILTER (WHERE c.sign * (d.value - c.value) * c.scale > $4::float8), 0) / sum(c.weight) AS share_population_below
FROM metric_disparity d
JOIN territory t ON t.id = d.territory_id AND t.level = $1
JOIN territory_member m ON m.territory_id = d.territory_id
CROSS JOIN LATERAL (
  SELECT v.value,
         coalesce(ct.population::double precision, v.denominator) AS weight,
         CASE WHEN i.higher_is_better THEN 1 ELSE -1 END AS sign,
         CASE WHEN i.unit = 'ratio' THEN 100 ELSE 1 END AS scale
  FROM indicator_value v
  JOIN territory ct ON ct.id = v.territory_id
  JOIN level l ON l.id = ct.level AND l.rank = 0
  JOIN indicator i ON i.id = v.indicator_id
  WHERE v.indicator_id = d.indicator_id AND v.territory_id = m.commune_id AND v.vintage = d.vintage
    AND v.value IS NOT NULL AND v.value NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
) c
WHERE d.indicator_id = $2 AND d.vintage = $3 AND d.value IS NOT NULL AND c.weight > 0
GROUP BY t.code
