-- Commune values of one indicator ($1) with the weight each gets in the disparity of its coarser territories:
-- the population, or the rate's denominator when the population is unknown. One row per vintage holding
-- parallel arrays (far cheaper to transfer than a row per commune); grouped by territory in TypeScript
-- (server/analysis/disparity.ts) with territory_member, so each value travels once, not once per level.
SELECT v.vintage,
       array_agg(v.territory_id ORDER BY v.territory_id) AS commune_ids,
       array_agg(v.value ORDER BY v.territory_id) AS values,
       array_agg(coalesce(c.population::double precision, v.denominator) ORDER BY v.territory_id) AS weights
FROM indicator_value v
JOIN territory c ON c.id = v.territory_id
JOIN level l ON l.id = c.level AND l.rank = 0
WHERE v.indicator_id = $1 AND v.value IS NOT NULL
GROUP BY v.vintage
