-- Commune values of one indicator ($1) with the weight each gets in the disparity of its coarser territories:
-- the population, or the rate's denominator when the population is unknown (NaN when neither is). One row per
-- vintage holding parallel packed binary columns (server/db/packed.ts: far cheaper to transfer and to read than a
-- row per commune or an array literal); grouped by territory in TypeScript (server/analysis/disparity.ts) with
-- territory_member, so each value travels once, not once per level.
SELECT v.vintage,
       string_agg(int4send(v.territory_id), ''::bytea ORDER BY v.territory_id) AS commune_ids,
       string_agg(float8send(v.value), ''::bytea ORDER BY v.territory_id) AS values,
       string_agg(float8send(coalesce(c.population::double precision, v.denominator, 'NaN'::float8)), ''::bytea ORDER BY v.territory_id) AS weights
FROM indicator_value v
JOIN territory c ON c.id = v.territory_id
JOIN level l ON l.id = c.level AND l.rank = 0
WHERE v.indicator_id = $1 AND v.value IS NOT NULL
GROUP BY v.vintage
