-- terrinum schema 1: a generic territorial hierarchy, an indicator catalogue, a long table of values,
-- and the point/polygon layers later analyses read (mediation places, premises, coverage zones).
-- Runs unchanged on PostgreSQL 15 + PostGIS 3.3 and PostgreSQL 18 + PostGIS 3.6 (PGlite).

CREATE EXTENSION IF NOT EXISTS postgis;

-- Levels of the hierarchy; rank 0 is the base unit every other level aggregates from.
CREATE TABLE level (
  id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]*$'),
  label_fr text NOT NULL,
  label_en text NOT NULL,
  rank integer NOT NULL CHECK (rank >= 0)
);
INSERT INTO level (id, label_fr, label_en, rank) VALUES
  ('commune', 'Commune', 'Municipality', 0),
  ('epci', 'Intercommunalité (EPCI)', 'Inter-municipality (EPCI)', 1),
  ('departement', 'Département', 'Département', 2),
  ('region', 'Région', 'Region', 3);

-- Every file or generator that put data in the database: attribution (Licence Ouverte) and provenance.
CREATE TABLE source (
  id serial PRIMARY KEY,
  kind text NOT NULL,
  name text NOT NULL,
  file_name text,
  sha256 text,
  rows integer,
  vintage text,
  publisher text,
  licence text,
  url text,
  synthetic boolean NOT NULL DEFAULT false,
  imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE territory (
  id serial PRIMARY KEY,
  level text NOT NULL REFERENCES level (id),
  code text NOT NULL,
  name text NOT NULL,
  population integer CHECK (population >= 0),
  population_vintage text,
  synthetic boolean NOT NULL DEFAULT false,
  geom geometry(MultiPolygon, 4326),
  -- ellipsoidal area in square metres (geography), never square degrees
  area_m2 double precision,
  source_id integer REFERENCES source (id) ON DELETE SET NULL,
  UNIQUE (level, code)
);
CREATE INDEX territory_geom_gist ON territory USING gist (geom);

-- Direct membership of base units (communes) in every coarser territory, never a chain of parents:
-- many-to-many where reality is (an EPCI can span two départements).
CREATE TABLE territory_member (
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  commune_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  PRIMARY KEY (territory_id, commune_id)
);
CREATE INDEX territory_member_commune ON territory_member (commune_id);

-- The five themes of the Aisne departmental digital council, plus infrastructure.
CREATE TABLE theme (
  id text PRIMARY KEY,
  label_fr text NOT NULL,
  label_en text NOT NULL,
  position integer NOT NULL
);
INSERT INTO theme (id, label_fr, label_en, position) VALUES
  ('infrastructure', 'Infrastructure', 'Infrastructure', 1),
  ('territoires-connectes', 'Territoires connectés', 'Connected territories', 2),
  ('e-sante', 'e-santé', 'e-health', 3),
  ('e-administration', 'e-administration', 'e-government', 4),
  ('e-education', 'e-éducation', 'e-education', 5),
  ('mediation-numerique', 'Médiation numérique', 'Digital inclusion', 6);

CREATE TABLE indicator (
  id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
  label_fr text NOT NULL,
  label_en text NOT NULL,
  theme text NOT NULL REFERENCES theme (id),
  -- ratio: a share in [0, 1] (may exceed 1 in ARCEP data); index: 100 = reference mean
  unit text NOT NULL CHECK (unit IN ('ratio', 'index', 'count', 'metres')),
  description_fr text,
  description_en text,
  higher_is_better boolean NOT NULL DEFAULT true,
  -- how coarser levels are computed from communes
  aggregation text NOT NULL DEFAULT 'ratio_of_sums'
    CHECK (aggregation IN ('ratio_of_sums', 'population_weighted_mean', 'sum')),
  publisher text,
  licence text,
  synthetic boolean NOT NULL DEFAULT false
);

-- End date of a vintage written YYYY, YYYY-Qn or YYYY-MM, so vintages of different grains compare.
CREATE FUNCTION vintage_end(vintage text) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE
    WHEN vintage ~ '^[0-9]{4}$' THEN make_date(vintage::int, 12, 31)
    WHEN vintage ~ '^[0-9]{4}-Q[1-4]$' THEN
      (make_date(left(vintage, 4)::int, right(vintage, 1)::int * 3, 1) + interval '1 month' - interval '1 day')::date
    WHEN vintage ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
      (make_date(left(vintage, 4)::int, right(vintage, 2)::int, 1) + interval '1 month' - interval '1 day')::date
  END
$$;

-- Long table: one value per (indicator, territory, vintage), with the counts behind it.
CREATE TABLE indicator_value (
  indicator_id text NOT NULL REFERENCES indicator (id) ON DELETE CASCADE,
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  vintage text NOT NULL CHECK (vintage ~ '^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$'),
  value double precision,
  numerator double precision,
  denominator double precision,
  -- aggregates: member communes with data and member communes expected; commune rows are 1 of 1
  communes integer NOT NULL DEFAULT 1,
  communes_expected integer NOT NULL DEFAULT 1,
  partial boolean GENERATED ALWAYS AS (communes < communes_expected) STORED,
  -- null for values computed by terrinum (aggregates)
  source_id integer REFERENCES source (id) ON DELETE CASCADE,
  PRIMARY KEY (indicator_id, territory_id, vintage)
);
CREATE INDEX indicator_value_territory ON indicator_value (territory_id);

-- Digital mediation places and public services (accessibility analysis).
CREATE TABLE place (
  id serial PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL,
  geom geometry(Point, 4326) NOT NULL,
  commune_id integer REFERENCES territory (id) ON DELETE SET NULL,
  synthetic boolean NOT NULL DEFAULT false,
  source_id integer REFERENCES source (id) ON DELETE CASCADE
);
CREATE INDEX place_geom_gist ON place USING gist (geom);

-- Premises points (addresses with a number of premises and a deployment status).
CREATE TABLE premises_point (
  id bigserial PRIMARY KEY,
  geom geometry(Point, 4326) NOT NULL,
  premises integer NOT NULL CHECK (premises >= 0),
  status text NOT NULL CHECK (status IN ('deployed', 'in_progress', 'planned')),
  operator text,
  commune_id integer REFERENCES territory (id) ON DELETE SET NULL,
  source_id integer REFERENCES source (id) ON DELETE CASCADE
);
CREATE INDEX premises_point_geom_gist ON premises_point USING gist (geom);
CREATE INDEX premises_point_commune ON premises_point (commune_id);

-- Coverage zones of a technology (fixed wireless, 4G, deployment zone…).
CREATE TABLE coverage_area (
  id serial PRIMARY KEY,
  technology text NOT NULL,
  max_down_mbps double precision,
  geom geometry(MultiPolygon, 4326) NOT NULL,
  source_id integer REFERENCES source (id) ON DELETE CASCADE
);
CREATE INDEX coverage_area_geom_gist ON coverage_area USING gist (geom);

-- The first overlay, built in: fibre coverage as ARCEP defines it.
INSERT INTO indicator (id, label_fr, label_en, theme, unit, description_fr, description_en, higher_is_better, aggregation, publisher, licence)
VALUES (
  'fibre_coverage', 'Couverture fibre (FttH)', 'Fibre coverage (FttH)', 'infrastructure', 'ratio',
  'Locaux raccordables à la fibre (FttH) ÷ locaux (logements + établissements). Peut dépasser 100 % : les opérateurs recensent plus de locaux que l''INSEE.',
  'Premises connectable to fibre (FttH) ÷ premises (dwellings + business establishments). Can exceed 100%: operators count more premises than INSEE.',
  true, 'ratio_of_sums', 'ARCEP', 'Licence Ouverte / Open Licence 2.0'
);
