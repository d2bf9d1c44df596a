-- terrinum schema 4: what each stored Moran's I was computed with; cheaper bulk writes of the analysis steps.

-- ties: the tie rule of the pseudo p-values (TERRINUM_LISA_TIES, docs/metrics.md).
-- inputs_hash: SHA-256 of the commune ids, values, neighbour lists and options of the run; the LISA step skips an
-- indicator × vintage whose inputs did not change since (an import touching other indicators leaves it as it was).
ALTER TABLE metric_moran ADD COLUMN ties text NOT NULL DEFAULT 'conservative' CHECK (ties IN ('conservative', 'geoda'));
ALTER TABLE metric_moran ADD COLUMN inputs_hash text;

-- The three bulk tables of the analysis (on the 35,000-commune benchmark: 420,000 metric_lisa rows, 278,000
-- territory_neighbour rows, 218,000 metric_trend rows) are only ever written by their own step, which rewrites
-- them in whole sets. Their foreign keys cost a check per row inserted (about 4 µs each, two per row: some 7 s of
-- that benchmark's recompute on the server, a third of it). The steps remove the rows of deleted territories and
-- indicators themselves (contiguity.ts, lisa.ts, trend.ts), and every read joins territory.
ALTER TABLE metric_lisa DROP CONSTRAINT metric_lisa_indicator_id_fkey;
ALTER TABLE metric_lisa DROP CONSTRAINT metric_lisa_territory_id_fkey;
ALTER TABLE territory_neighbour DROP CONSTRAINT territory_neighbour_territory_id_fkey;
ALTER TABLE territory_neighbour DROP CONSTRAINT territory_neighbour_neighbour_id_fkey;
ALTER TABLE metric_trend DROP CONSTRAINT metric_trend_indicator_id_fkey;
ALTER TABLE metric_trend DROP CONSTRAINT metric_trend_territory_id_fkey;
