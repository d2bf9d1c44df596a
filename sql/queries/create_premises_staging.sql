-- Staging table of one premises import: batches land here, then one set-based join places them in communes.
-- Dropped with the transaction, committed or not.
CREATE TEMPORARY TABLE premises_staging (
  line integer NOT NULL,
  geom geometry(Point, 4326) NOT NULL,
  premises integer NOT NULL,
  status text NOT NULL,
  operator text
) ON COMMIT DROP
