-- Whether PostGIS knows the CRS of SRID $1 (ST_Transform fails deep inside a batch otherwise).
SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1::integer) AS known
