-- terrinum schema 3: stored analysis results, so the API reads them instead of recomputing.
-- Every table is recomputed by server/analysis/recompute.ts after each import.

-- Queen contiguity between communes (sharing an edge or a vertex), built in PostGIS with the GiST index.
CREATE TABLE territory_neighbour (
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  neighbour_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  PRIMARY KEY (territory_id, neighbour_id)
);

-- Disparity of member communes inside a coarser territory (multi-speed territories).
CREATE TABLE metric_disparity (
  indicator_id text NOT NULL REFERENCES indicator (id) ON DELETE CASCADE,
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  vintage text NOT NULL,
  value double precision,
  gini double precision,
  theil double precision,
  cv double precision,
  interdecile_ratio double precision,
  -- share of the territory's population in communes more than threshold_points below its own rate
  share_population_below double precision,
  threshold_points double precision NOT NULL,
  multispeed boolean NOT NULL,
  communes integer NOT NULL,
  communes_expected integer NOT NULL,
  partial boolean NOT NULL,
  PRIMARY KEY (indicator_id, territory_id, vintage)
);

-- Local Moran's I per commune (LISA), conditional permutation pseudo p-values.
CREATE TABLE metric_lisa (
  indicator_id text NOT NULL REFERENCES indicator (id) ON DELETE CASCADE,
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  vintage text NOT NULL,
  lisa_i double precision,
  lisa_p double precision,
  lisa_class text NOT NULL CHECK (lisa_class IN ('HH', 'LL', 'HL', 'LH', 'ns', 'island')),
  neighbours integer NOT NULL,
  PRIMARY KEY (indicator_id, territory_id, vintage)
);

-- Global Moran's I of an indicator over communes, with its pseudo p-value.
CREATE TABLE metric_moran (
  indicator_id text NOT NULL REFERENCES indicator (id) ON DELETE CASCADE,
  vintage text NOT NULL,
  moran_i double precision,
  p_value double precision,
  permutations integer NOT NULL,
  seed bigint NOT NULL,
  communes integer NOT NULL,
  islands integer NOT NULL,
  PRIMARY KEY (indicator_id, vintage)
);

-- Change per quarter over the last (up to 4) quarters and the projected quarter of full coverage.
CREATE TABLE metric_trend (
  indicator_id text NOT NULL REFERENCES indicator (id) ON DELETE CASCADE,
  territory_id integer NOT NULL REFERENCES territory (id) ON DELETE CASCADE,
  vintage text NOT NULL,
  trend_per_quarter double precision,
  quarters_used integer NOT NULL,
  -- 'YYYY-Qn', or null when not projected (not increasing)
  projected_full text,
  PRIMARY KEY (indicator_id, territory_id, vintage)
);

-- Distance from each commune to the nearest mediation place, and population beyond 10/20 km per territory.
CREATE TABLE metric_access (
  territory_id integer PRIMARY KEY REFERENCES territory (id) ON DELETE CASCADE,
  -- metres (communes: to the nearest place; coarser levels: population-weighted mean of their communes)
  distance_m double precision,
  nearest_place_id integer REFERENCES place (id) ON DELETE SET NULL,
  share_population_beyond_10km double precision,
  share_population_beyond_20km double precision,
  -- where distances start: 'point on surface' (no finer population yet), later 'population-weighted centre'
  origin text NOT NULL
);
