-- Member communes of every coarser territory, in commune id order, one array per territory (see disparity_inputs).
SELECT territory_id, array_agg(commune_id ORDER BY commune_id) AS commune_ids
FROM territory_member
GROUP BY territory_id
