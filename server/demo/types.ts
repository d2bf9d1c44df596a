import type { MultiPolygon, Polygon } from 'geojson';

/** A synthetic commune of the demonstration territory. Codes are `X0001`…, never official INSEE codes. */
export interface DemoCommune {
  code: string;
  name: string;
  epci: string;
  population: number;
  /** INSEE-like counts of dwellings and business establishments: their sum is the premises denominator. */
  logements: number;
  etablissements: number;
  geometry: Polygon | MultiPolygon;
}

export interface DemoTerritory {
  code: string;
  name: string;
}

/** One value of a usage indicator for one commune and vintage; rates carry numerator and denominator. */
export interface DemoIndicatorValue {
  commune: string;
  vintage: string;
  value: number;
  numerator: number | null;
  denominator: number | null;
}

export interface DemoIndicator {
  id: string;
  labelFr: string;
  labelEn: string;
  theme: 'infrastructure' | 'territoires-connectes' | 'e-sante' | 'e-administration' | 'e-education' | 'mediation-numerique';
  unit: 'ratio' | 'index' | 'count';
  higherIsBetter: boolean;
  descriptionFr: string;
  descriptionEn: string;
  values: DemoIndicatorValue[];
}

export interface DemoDataset {
  seed: number;
  region: DemoTerritory;
  departement: DemoTerritory;
  epcis: DemoTerritory[];
  communes: DemoCommune[];
  /** Quarters of the fibre roll-out, oldest first, written `YYYY-Qn`. */
  quarters: string[];
  /** Connectable premises (locaux raccordables) per commune and quarter; cumulative, never decreasing. */
  deployments: { commune: string; vintage: string; locauxRaccordables: number }[];
  usageIndicators: DemoIndicator[];
  places: { name: string; kind: string; lon: number; lat: number }[];
  premises: { lon: number; lat: number; premises: number; status: 'deployed' | 'in_progress' | 'planned'; operator: string }[];
  coverage: { technology: string; maxDownMbps: number; geometry: Polygon | MultiPolygon }[];
  /** Ground truth of the planted signals, for tests of later analyses. */
  truth: {
    /** The EPCI split between fully deployed and undeployed communes (multi-speed). */
    splitEpci: string;
    splitDeployed: string[];
    splitUndeployed: string[];
    /** Contiguous communes with high coverage but low usage (fracture-usage, LISA cluster). */
    usageGapCluster: string[];
  };
}
