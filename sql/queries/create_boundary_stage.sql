-- Staging table of one boundaries import, private to the transaction and dropped at its end: features land
-- here batch by batch (reprojected and repaired), then one set-based step folds, unions and writes them.
CREATE TEMP TABLE boundary_stage (
  feature integer NOT NULL,
  -- the current code the feature is placed on (a merged commune's code is its successor's)
  code text NOT NULL,
  name text NOT NULL,
  reconciled boolean NOT NULL,
  repaired boolean NOT NULL,
  geom geometry(MultiPolygon, 4326) NOT NULL
) ON COMMIT DROP
