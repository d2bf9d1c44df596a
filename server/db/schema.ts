import type { ColumnType, Generated } from 'kysely';

/** Kysely table types; kept in step with sql/migrations by hand (the migrations are the truth). */
export interface LevelTable {
  id: string;
  label_fr: string;
  label_en: string;
  rank: number;
}

export interface SourceTable {
  id: Generated<number>;
  kind: string;
  name: string;
  file_name: string | null;
  sha256: string | null;
  rows: number | null;
  vintage: string | null;
  publisher: string | null;
  licence: string | null;
  url: string | null;
  synthetic: Generated<boolean>;
  imported_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface TerritoryTable {
  id: Generated<number>;
  level: string;
  code: string;
  name: string;
  population: number | null;
  population_vintage: string | null;
  synthetic: Generated<boolean>;
  /** PostGIS geometry; read it through ST_AsGeoJSON, write it through ST_GeomFromGeoJSON. */
  geom: unknown;
  area_m2: number | null;
  source_id: number | null;
  geom_dissolved: Generated<boolean>;
}

export interface TerritoryMemberTable {
  territory_id: number;
  commune_id: number;
}

export interface ThemeTable {
  id: string;
  label_fr: string;
  label_en: string;
  position: number;
}

export interface IndicatorTable {
  id: string;
  label_fr: string;
  label_en: string;
  theme: string;
  unit: 'ratio' | 'index' | 'count' | 'metres';
  description_fr: string | null;
  description_en: string | null;
  higher_is_better: Generated<boolean>;
  aggregation: Generated<'ratio_of_sums' | 'population_weighted_mean' | 'sum'>;
  publisher: string | null;
  licence: string | null;
  synthetic: Generated<boolean>;
}

export interface IndicatorValueTable {
  indicator_id: string;
  territory_id: number;
  vintage: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  communes: Generated<number>;
  communes_expected: Generated<number>;
  partial: ColumnType<boolean, never, never>;
  source_id: number | null;
}

export interface PlaceTable {
  id: Generated<number>;
  name: string;
  kind: string;
  geom: unknown;
  commune_id: number | null;
  synthetic: Generated<boolean>;
  source_id: number | null;
}

export interface PremisesPointTable {
  id: Generated<number>;
  geom: unknown;
  premises: number;
  status: 'deployed' | 'in_progress' | 'planned';
  operator: string | null;
  commune_id: number | null;
  source_id: number | null;
}

export interface CoverageAreaTable {
  id: Generated<number>;
  technology: string;
  max_down_mbps: number | null;
  geom: unknown;
  source_id: number | null;
}

export interface SchemaMigrationTable {
  version: string;
  checksum: string;
  applied_at: ColumnType<Date, never, never>;
}

export interface DB {
  level: LevelTable;
  source: SourceTable;
  territory: TerritoryTable;
  territory_member: TerritoryMemberTable;
  theme: ThemeTable;
  indicator: IndicatorTable;
  indicator_value: IndicatorValueTable;
  place: PlaceTable;
  premises_point: PremisesPointTable;
  coverage_area: CoverageAreaTable;
  schema_migration: SchemaMigrationTable;
  import_reject: ImportRejectTable;
  data_version: DataVersionTable;
  published_value: PublishedValueTable;
  territory_neighbour: TerritoryNeighbourTable;
  metric_disparity: MetricDisparityTable;
  metric_lisa: MetricLisaTable;
  metric_moran: MetricMoranTable;
  metric_trend: MetricTrendTable;
  metric_access: MetricAccessTable;
}

export interface ImportRejectTable {
  id: Generated<number>;
  source_id: number;
  line: number | null;
  code: string | null;
  reason: string;
  record: unknown;
}

export interface DataVersionTable {
  id: Generated<boolean>;
  version: number;
  changed_at: ColumnType<Date, Date | string | undefined, Date | string | undefined>;
}

export interface PublishedValueTable {
  indicator_id: string;
  level: string;
  code: string;
  published_code: string;
  vintage: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  source_id: number;
}

export interface TerritoryNeighbourTable {
  territory_id: number;
  neighbour_id: number;
}

export interface MetricDisparityTable {
  indicator_id: string;
  territory_id: number;
  vintage: string;
  value: number | null;
  gini: number | null;
  theil: number | null;
  cv: number | null;
  interdecile_ratio: number | null;
  share_population_below: number | null;
  threshold_points: number;
  multispeed: boolean;
  communes: number;
  communes_expected: number;
  partial: boolean;
}

export interface MetricLisaTable {
  indicator_id: string;
  territory_id: number;
  vintage: string;
  lisa_i: number | null;
  lisa_p: number | null;
  lisa_class: 'HH' | 'LL' | 'HL' | 'LH' | 'ns' | 'island';
  neighbours: number;
}

export interface MetricMoranTable {
  indicator_id: string;
  vintage: string;
  moran_i: number | null;
  p_value: number | null;
  permutations: number;
  seed: number;
  communes: number;
  islands: number;
  ties: Generated<'conservative' | 'geoda'>;
  inputs_hash: string | null;
}

export interface MetricTrendTable {
  indicator_id: string;
  territory_id: number;
  vintage: string;
  trend_per_quarter: number | null;
  quarters_used: number;
  projected_full: string | null;
}

export interface MetricAccessTable {
  territory_id: number;
  distance_m: number | null;
  nearest_place_id: number | null;
  share_population_beyond_10km: number | null;
  share_population_beyond_20km: number | null;
  origin: string;
}
