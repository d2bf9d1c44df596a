-- Keeps a publisher's own aggregates of one indicator ($1) from a JSON array
-- [{level, code, published_code, vintage, value, numerator, denominator}] ($2), attributed to a source ($3):
-- for cross-checks only, terrinum never computes anything from them.
WITH input AS (
  SELECT r.level, r.code, r.published_code, r.vintage, r.value, r.numerator, r.denominator
  FROM jsonb_to_recordset($2::jsonb) AS r(level text, code text, published_code text, vintage text, value double precision, numerator double precision, denominator double precision)
)
INSERT INTO published_value (indicator_id, level, code, published_code, vintage, value, numerator, denominator, source_id)
SELECT $1, i.level, i.code, i.published_code, i.vintage,
       -- a rate is always recomputed from its counts when both are given, as for commune values
       CASE WHEN i.numerator IS NOT NULL AND i.denominator IS NOT NULL THEN i.numerator / nullif(i.denominator, 0) ELSE i.value END,
       i.numerator, i.denominator, $3
FROM input i
