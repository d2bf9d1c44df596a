-- terrinum schema 2: what imports keep aside, and a version stamp caches compare against.

-- Records an import could not place (with --keep-unplaced), listed by `terrinum sources`.
CREATE TABLE import_reject (
  id bigserial PRIMARY KEY,
  source_id integer NOT NULL REFERENCES source (id) ON DELETE CASCADE,
  line integer,
  code text,
  reason text NOT NULL,
  record jsonb
);
CREATE INDEX import_reject_source ON import_reject (source_id);

-- Bumped by every import: tile and catalogue caches are valid for one version only.
CREATE TABLE data_version (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint NOT NULL DEFAULT 0,
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO data_version (id, version) VALUES (true, 0);

-- Publishers' own aggregates (e.g. ARCEP's EPCI and département rows), kept to cross-check terrinum's
-- ratio-of-sums aggregates against them; never used to compute anything.
CREATE TABLE published_value (
  indicator_id text NOT NULL REFERENCES indicator (id) ON DELETE CASCADE,
  level text NOT NULL REFERENCES level (id),
  code text NOT NULL,
  -- the code as published, before reconciliation with the current COG
  published_code text NOT NULL,
  vintage text NOT NULL CHECK (vintage ~ '^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$'),
  value double precision,
  numerator double precision,
  denominator double precision,
  source_id integer NOT NULL REFERENCES source (id) ON DELETE CASCADE,
  PRIMARY KEY (indicator_id, level, published_code, vintage, source_id)
);

-- Outlines dissolved from member communes are recomputed when communes change; imported ones are kept.
ALTER TABLE territory ADD COLUMN geom_dissolved boolean NOT NULL DEFAULT false;
