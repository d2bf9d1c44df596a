-- Stores the trend of every territory's quarterly values of the indicators in $1 (null = every indicator):
-- the least-squares change per quarter over the latest (up to 4) quarterly vintages at or before each one,
-- and, for coverage-like rates, the quarter at which a linear continuation from the latest value reaches 100 %.
WITH quarterly AS (
  -- quarterly vintages only (YYYY-Qn), numbered on one continuous quarter axis so that gaps count as time
  SELECT v.indicator_id, v.territory_id, v.vintage, v.value,
         left(v.vintage, 4)::int * 4 + right(v.vintage, 1)::int - 1 AS quarter
  FROM indicator_value v
  WHERE v.vintage ~ '^[0-9]{4}-Q[1-4]$' AND v.value IS NOT NULL
    AND ($1::text[] IS NULL OR v.indicator_id = ANY ($1::text[]))
),
fits AS (
  -- least-squares slope in value units per quarter over the vintage and the 3 previous available quarters
  -- (a window aggregate: float aggregates have no inverse transition, so each frame is summed afresh, in order)
  SELECT q.indicator_id, q.territory_id, q.vintage, q.value, q.quarter,
         count(*) OVER w AS quarters_used,
         regr_slope(q.value, q.quarter::double precision) OVER w AS slope
  FROM quarterly q
  WINDOW w AS (PARTITION BY q.indicator_id, q.territory_id ORDER BY q.quarter ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
),
projections AS (
  -- quarters still needed to reach 100 %; only for rates where higher is better, and only when increasing
  SELECT f.*,
         CASE
           WHEN i.unit <> 'ratio' OR NOT i.higher_is_better THEN NULL
           WHEN f.value >= 1 THEN 0
           WHEN f.slope > 0 THEN ceil((1 - f.value) / f.slope)
         END AS quarters_to_full
  FROM fits f
  JOIN indicator i ON i.id = f.indicator_id
)
INSERT INTO metric_trend (indicator_id, territory_id, vintage, trend_per_quarter, quarters_used, projected_full)
SELECT p.indicator_id, p.territory_id, p.vintage, p.slope, p.quarters_used,
       -- beyond 100 years a linear projection means nothing: not projected
       CASE WHEN p.quarters_to_full <= 400 THEN
         ((p.quarter + p.quarters_to_full::int) / 4)::text || '-Q' || ((p.quarter + p.quarters_to_full::int) % 4 + 1)::text
       END
FROM projections p
