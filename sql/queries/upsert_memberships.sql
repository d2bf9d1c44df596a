-- Adds direct memberships of communes in coarser territories from a JSON array [{level, code, commune}] ($1).
WITH input AS (
  SELECT r.level, r.code, r.commune
  FROM jsonb_to_recordset($1::jsonb) AS r(level text, code text, commune text)
)
INSERT INTO territory_member (territory_id, commune_id)
SELECT p.id, c.id
FROM input i
JOIN territory p ON p.level = i.level AND p.code = i.code
JOIN territory c ON c.level = 'commune' AND c.code = i.commune
ON CONFLICT DO NOTHING
