-- Access of every coarser territory (EPCI, département, région…) from its member communes' distances:
-- population-weighted mean distance and share of population beyond 10 and 20 km. Run after access_communes.
WITH commune_access AS (
  -- communes with a distance and a population; the others do not enter the sums
  SELECT a.territory_id AS commune_id, a.distance_m, t.population::double precision AS population
  FROM metric_access a
  JOIN territory t ON t.id = a.territory_id
  JOIN level l ON l.id = t.level AND l.rank = 0
  WHERE a.distance_m IS NOT NULL AND t.population IS NOT NULL
),
summed AS (
  -- direct membership: every coarser level sums its own communes, never a chain of parents;
  -- summed in commune order so both backends add the same floats in the same order
  SELECT m.territory_id,
         sum(c.population) AS population,
         sum(c.population * c.distance_m ORDER BY c.commune_id) AS weighted_distance,
         coalesce(sum(c.population) FILTER (WHERE c.distance_m > 10000), 0) AS beyond_10km,
         coalesce(sum(c.population) FILTER (WHERE c.distance_m > 20000), 0) AS beyond_20km
  FROM territory_member m
  JOIN commune_access c ON c.commune_id = m.commune_id
  GROUP BY m.territory_id
)
INSERT INTO metric_access (territory_id, distance_m, nearest_place_id, share_population_beyond_10km, share_population_beyond_20km, origin)
SELECT territory_id,
       weighted_distance / nullif(population, 0),
       NULL,
       beyond_10km / nullif(population, 0),
       beyond_20km / nullif(population, 0),
       'point on surface'
FROM summed
