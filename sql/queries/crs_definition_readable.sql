-- Whether PROJ reads the coordinate system definition $1 (a .prj's WKT, ESRI or OGC, or a PROJ string). On the
-- server an unreadable one raises an error; the embedded PostGIS answers with no row instead.
SELECT ST_Transform('POINT EMPTY'::geometry, $1::text, 4326) IS NOT NULL AS readable
