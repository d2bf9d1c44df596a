-- Fresh statistics before the point-in-polygon join: a temporary table is never analysed automatically, and
-- territory may have just been filled (PGlite runs no autovacuum). With stale counts the planner ANDs the
-- level index into every GiST probe and the join runs ~20 times slower.
ANALYZE territory, premises_staging
