-- Stores computed disparity rows of one indicator ($1) with the threshold used ($2), from a JSON array ($3)
-- written by server/analysis/disparity.ts (previous rows of the indicator are deleted first).
INSERT INTO metric_disparity (indicator_id, territory_id, vintage, value, gini, theil, cv, interdecile_ratio,
                              share_population_below, threshold_points, multispeed, communes, communes_expected, partial)
SELECT $1, r.territory_id, r.vintage, r.value, r.gini, r.theil, r.cv, r.interdecile_ratio,
       r.share_population_below, $2, r.multispeed, r.communes, r.communes_expected, r.partial
FROM json_to_recordset($3::json) AS r(territory_id integer, vintage text, value double precision, gini double precision,
     theil double precision, cv double precision, interdecile_ratio double precision, share_population_below double precision,
     multispeed boolean, communes integer, communes_expected integer, partial boolean)
