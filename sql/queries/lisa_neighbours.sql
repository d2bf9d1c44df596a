-- Queen contiguity for the LISA step, as two parallel arrays (commune, neighbour): one row, cheap to transfer.
SELECT array_agg(territory_id ORDER BY territory_id, neighbour_id) AS ids,
       array_agg(neighbour_id ORDER BY territory_id, neighbour_id) AS neighbours
FROM territory_neighbour
