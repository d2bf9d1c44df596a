-- Writes commune values of one indicator ($1) from a JSON array [{code, vintage, value, numerator, denominator, level?}] ($2),
-- attributed to a source ($3). A row's optional level (default commune) stores a publisher's own figure for a coarser
-- territory. Codes must already be territories of that level; unknown codes are the caller's to report.
WITH input AS (
  SELECT r.code, coalesce(r.level, 'commune') AS level, r.vintage, r.value, r.numerator, r.denominator
  FROM jsonb_to_recordset($2::jsonb) AS r(code text, level text, vintage text, value double precision, numerator double precision, denominator double precision)
)
INSERT INTO indicator_value (indicator_id, territory_id, vintage, value, numerator, denominator, source_id)
SELECT $1, t.id, i.vintage,
       -- a rate is always recomputed from its counts when both are given
       CASE WHEN i.numerator IS NOT NULL AND i.denominator IS NOT NULL THEN i.numerator / nullif(i.denominator, 0) ELSE i.value END,
       i.numerator, i.denominator, $3
FROM input i
JOIN territory t ON t.level = i.level AND t.code = i.code
ON CONFLICT (indicator_id, territory_id, vintage) DO UPDATE SET
  value = EXCLUDED.value,
  numerator = EXCLUDED.numerator,
  denominator = EXCLUDED.denominator,
  source_id = EXCLUDED.source_id
