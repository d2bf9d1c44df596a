-- Recomputes every coarser level of one indicator ($1) directly from its member communes,
-- never through a chain of parents. Run after deleting the previous aggregates (same transaction).
WITH definition AS (
  -- how this indicator aggregates: ratio of sums for rates, population-weighted mean without counts, sum for counts
  SELECT id, aggregation FROM indicator WHERE id = $1
),
expected AS (
  -- every member commune is expected to contribute; fewer means a partial aggregate
  SELECT territory_id, count(*)::int AS communes_expected
  FROM territory_member
  GROUP BY territory_id
),
contributions AS (
  -- base-level values that can enter the aggregate, summed per coarser territory and vintage
  SELECT m.territory_id, v.vintage, d.id AS indicator_id, d.aggregation,
         sum(v.numerator) AS numerator,
         sum(v.denominator) AS denominator,
         sum(v.value) AS value_sum,
         sum(v.value * c.population) AS weighted_sum,
         sum(c.population) AS weight,
         count(*)::int AS communes
  FROM definition d
  JOIN indicator_value v ON v.indicator_id = d.id
  -- membership rows link communes only, so this join keeps commune values (no join on level needed, which
  -- the planner misjudged into nested loops over every value)
  JOIN territory_member m ON m.commune_id = v.territory_id
  JOIN territory c ON c.id = v.territory_id
  WHERE CASE d.aggregation
          WHEN 'ratio_of_sums' THEN v.numerator IS NOT NULL AND v.denominator IS NOT NULL
          WHEN 'population_weighted_mean' THEN v.value IS NOT NULL AND c.population IS NOT NULL
          ELSE v.value IS NOT NULL
        END
  GROUP BY m.territory_id, v.vintage, d.id, d.aggregation
)
INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, communes, communes_expected)
SELECT k.indicator_id, k.territory_id, k.vintage,
       CASE k.aggregation
         WHEN 'ratio_of_sums' THEN k.numerator / nullif(k.denominator, 0)
         WHEN 'population_weighted_mean' THEN k.weighted_sum / nullif(k.weight, 0)
         ELSE k.value_sum
       END,
       -- the sums behind the value, so every aggregate can be traced back
       CASE k.aggregation WHEN 'ratio_of_sums' THEN k.numerator WHEN 'population_weighted_mean' THEN k.weighted_sum ELSE k.value_sum END,
       CASE k.aggregation WHEN 'ratio_of_sums' THEN k.denominator WHEN 'population_weighted_mean' THEN k.weight ELSE NULL END,
       k.communes,
       e.communes_expected
FROM contributions k
JOIN expected e ON e.territory_id = k.territory_id
-- a publisher's own figure for the same territory and vintage (imported, with a source) wins over ours
ON CONFLICT (indicator_id, territory_id, vintage) DO NOTHING
