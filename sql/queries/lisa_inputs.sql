-- Inputs of the LISA step (server/analysis/lisa.ts): per indicator and vintage, the communes with an outline and a
-- finite value, ordered by code (their neighbour lists follow the same order, so sums are identical on both
-- backends), as parallel packed binary columns (server/db/packed.ts). $1 = indicator ids, or null for every indicator.
SELECT v.indicator_id, v.vintage,
       string_agg(int4send(t.id), ''::bytea ORDER BY t.code) AS ids,
       string_agg(float8send(v.value), ''::bytea ORDER BY t.code) AS values
FROM indicator_value v
JOIN territory t ON t.id = v.territory_id
JOIN level l ON l.id = t.level AND l.rank = 0
WHERE t.geom IS NOT NULL
  AND v.value IS NOT NULL
  AND v.value NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
  AND ($1::text[] IS NULL OR v.indicator_id = ANY ($1::text[]))
GROUP BY v.indicator_id, v.vintage
ORDER BY v.indicator_id, v.vintage
