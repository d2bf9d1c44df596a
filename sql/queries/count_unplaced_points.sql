-- Points of source $1 that fell outside every commune (stored with a null commune), in place and premises_point.
SELECT (SELECT count(*) FROM place WHERE source_id = $1 AND commune_id IS NULL)::int AS places,
       (SELECT count(*) FROM premises_point WHERE source_id = $1 AND commune_id IS NULL)::int AS premises
