/**
 * What a map view computes from the API's rows, independent of any DOM: the colour of each territory, the
 * legend, the accessible data table and the tooltip text. The planners' map and the embed render these models.
 */
import type { Level } from '../api.ts';
import type { Rgb } from '../colors.ts';

export type ViewId = 'choropleth' | 'bivariate' | 'typology' | 'gap' | 'multispeed' | 'clusters' | 'access';
export const VIEWS: readonly ViewId[] = ['choropleth', 'bivariate', 'typology', 'gap', 'multispeed', 'clusters', 'access'];

export function parseView(value: string | null | undefined): ViewId | null {
  return VIEWS.includes(value as ViewId) ? (value as ViewId) : null;
}

/** The levels a view can be drawn at (LISA and the multi-speed spread are commune-level analyses). */
export function levelsOf(view: ViewId): readonly Level[] {
  if (view === 'clusters' || view === 'multispeed') return ['commune'];
  return ['commune', 'epci', 'departement', 'region'];
}

/** Views that compare a coverage indicator (x) with a usage indicator (y). */
export const usesUsageAxis = (view: ViewId) => view === 'bivariate' || view === 'typology' || view === 'gap';
/** Views whose colours do not depend on an indicator's vintage. */
export const isTimeless = (view: ViewId) => view === 'access';
/** Views whose classes can be chosen (fixed, quantiles, Jenks). */
export const hasMethod = (view: ViewId) => view === 'choropleth' || view === 'multispeed' || view === 'access' || view === 'gap';

export interface LegendEntry {
  /** Stable key: class index ("0"…), bivariate "x-y", typology or LISA class, "no-data". */
  key: string;
  color: Rgb;
  label: string;
  count: number;
}

export interface LegendOutline {
  key: string;
  color: Rgb;
  label: string;
  widthPx: number;
}

export interface LegendModel {
  title: string;
  subtitle: string;
  /** "classes": one row per entry; "grid": a 3 × 3 bivariate square (entries ordered by key "x-y"). */
  layout: 'classes' | 'grid';
  entries: LegendEntry[];
  noData: LegendEntry;
  /** Names of the territories counted ("communes"). */
  countNoun: string;
  axes?: { x: string; y: string; low: string; high: string };
  outlines: LegendOutline[];
  note?: string;
}

export interface TableColumn {
  key: string;
  label: string;
  numeric: boolean;
}

export interface TableRow {
  code: string;
  /** Raw values used for sorting, by column key. */
  values: Record<string, string | number | null>;
  /** Display text, by column key. */
  text: Record<string, string>;
}

export interface TableModel {
  caption: string;
  columns: TableColumn[];
  rows: TableRow[];
}

export interface TooltipLine {
  className: string;
  text: string;
  data?: Record<string, string>;
}

export interface TooltipModel {
  code: string;
  name: string;
  /** The headline value ("87,3 %", "Fracture d'usage"). */
  value: string;
  lines: TooltipLine[];
}

export interface ViewResult {
  view: ViewId;
  level: Level;
  /** Colour of each territory that has one; territories absent here are drawn in the no-data colour. */
  colors: Map<string, Rgb>;
  /** Legend entry key of each territory with a value. */
  classOf: Map<string, string>;
  legend: LegendModel;
  table: TableModel;
  tooltip(code: string, name?: string): TooltipModel | null;
  /** Coarser territories to outline in the alarm colour (multi-speed EPCI), by level. */
  flagged?: { level: Level; codes: Set<string> };
}
