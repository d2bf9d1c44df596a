-- Fresh statistics before placing points in communes: territory may have just been filled (PGlite runs no
-- autovacuum), and with stale counts the planner walks the (level, code) index instead of the GiST one.
ANALYZE territory
