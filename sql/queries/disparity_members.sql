-- Member communes of every coarser territory, in commune id order, one packed int4 column per territory
-- (see disparity_inputs).
SELECT territory_id, string_agg(int4send(commune_id), ''::bytea ORDER BY commune_id) AS commune_ids
FROM territory_member
GROUP BY territory_id
