-- Queen contiguity for the LISA step, as two parallel packed int4 columns (commune, neighbour; server/db/packed.ts):
-- one row, cheap to transfer and to read.
SELECT string_agg(int4send(territory_id), ''::bytea ORDER BY territory_id, neighbour_id) AS ids,
       string_agg(int4send(neighbour_id), ''::bytea ORDER BY territory_id, neighbour_id) AS neighbours
FROM territory_neighbour
