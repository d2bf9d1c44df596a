-- terrinum schema 7: search territories by name (accent- and case-insensitive), INSEE code or postal code.
-- unaccent and pg_trgm ship with PostgreSQL (postgresql-contrib) and with PGlite (loaded in database.ts).

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Search key of a name: accents and ligatures removed (Œ → OE), lower case, every run of other characters
-- as one space ("L'Île-d'Yeu" → "l ile d yeu"). IMMUTABLE so that it can be indexed, which unaccent(text) is
-- not: its dictionary is named with the extension's schema, wherever the extension was installed.
DO $do$
DECLARE
  ext_schema text := (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent');
BEGIN
  EXECUTE format(
    $f$CREATE FUNCTION search_key(name text) RETURNS text
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
       $body$SELECT btrim(regexp_replace(lower(%1$s.unaccent(%2$L::regdictionary, name)), '[^a-z0-9]+', ' ', 'g'))$body$$f$,
    ext_schema, ext_schema || '.unaccent');
END
$do$;

-- Stored, not only indexed: index rechecks and similarity scores read it instead of running unaccent again
-- (measured: 100 ms for the 3,500 rechecks of a 4-letter query over the COG, 2 ms stored).
ALTER TABLE territory ADD COLUMN search_name text GENERATED ALWAYS AS (search_key(name)) STORED;

-- Trigrams for similar and word-prefix matches, a pattern index for name prefixes, codes by themselves
-- (the unique (level, code) index does not serve a code without its level).
CREATE INDEX territory_search_trgm ON territory USING gin (search_name gin_trgm_ops);
CREATE INDEX territory_search_prefix ON territory (search_name text_pattern_ops);
CREATE INDEX territory_code_pattern ON territory (code text_pattern_ops);

-- Postal codes of communes (a commune can have several, a postal code several communes), filled by the
-- application from the COG for the communes it knows after each import (see services/search.service.ts).
CREATE TABLE postal_code (
  postal_code text NOT NULL,
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  PRIMARY KEY (postal_code, territory_id)
);
CREATE INDEX postal_code_pattern ON postal_code (postal_code text_pattern_ops);
CREATE INDEX postal_code_territory ON postal_code (territory_id);

-- The data version (data_version.version) postal codes were last filled for.
CREATE TABLE search_state (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  data_version bigint NOT NULL DEFAULT -1
);
INSERT INTO search_state (id) VALUES (true);

-- The territory profile (GET /api/territories/{level}/{code}) reads every stored metric of one territory: by
-- territory, which the primary keys (indicator, territory, vintage) do not serve.
CREATE INDEX metric_disparity_territory ON metric_disparity (territory_id);
CREATE INDEX metric_lisa_territory ON metric_lisa (territory_id);
CREATE INDEX metric_trend_territory ON metric_trend (territory_id);
