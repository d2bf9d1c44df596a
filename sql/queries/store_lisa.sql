-- Local Moran's I of one indicator ($1) and vintage ($2), from parallel arrays: territory ids ($3), I ($4),
-- pseudo p-values ($5), classes ($6), neighbours ($7). One statement per indicator × vintage: an array is one
-- bound parameter (PGlite fails silently from 32,768 parameters on).
INSERT INTO metric_lisa (indicator_id, territory_id, vintage, lisa_i, lisa_p, lisa_class, neighbours)
SELECT $1, r.territory_id, $2, r.lisa_i, r.lisa_p, r.lisa_class, r.neighbours
FROM unnest($3::int[], $4::float8[], $5::float8[], $6::text[], $7::int[]) AS r(territory_id, lisa_i, lisa_p, lisa_class, neighbours)
