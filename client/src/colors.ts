/**
 * Every colour of the map, in one pure module (no DOM) shared by the map, the legends, the embed and the
 * end-to-end tests, so that all of them agree on every colour. All palettes are colour-blind safe:
 * ColorBrewer ramps (checked by their authors for the three common colour vision deficiencies), Joshua
 * Stevens' blue/red bivariate grid, and Okabe–Ito hues for the categories; test/e2e/palettes.test.ts
 * simulates deuteranopia, protanopia and tritanopia (Machado 2009) and checks that classes stay apart.
 */

export type Rgb = readonly [number, number, number];

/** Sequential, for rates (higher = darker): ColorBrewer YlGnBu, 5 classes. Prints in greyscale. */
export const PALETTE: readonly Rgb[] = [
  [255, 255, 204], // #ffffcc
  [161, 218, 180], // #a1dab4
  [65, 182, 196], // #41b6c4
  [44, 127, 184], // #2c7fb8
  [37, 52, 148], // #253494
];
export const SEQUENTIAL = PALETTE;

/** Diverging, for the coverage − usage gap (negative ← 0 → positive): ColorBrewer PuOr, 5 classes. */
export const DIVERGING: readonly Rgb[] = [
  [94, 60, 153], // #5e3c99  usage well ahead of coverage
  [178, 171, 210], // #b2abd2
  [247, 247, 247], // #f7f7f7  balanced
  [253, 184, 99], // #fdb863
  [230, 97, 1], // #e66101  coverage well ahead of usage
];

/** Distance to the nearest mediation place (farther = darker): ColorBrewer YlOrRd, 5 classes. */
export const DISTANCE: readonly Rgb[] = [
  [255, 255, 178], // #ffffb2
  [254, 204, 92], // #fecc5c
  [253, 141, 60], // #fd8d3c
  [240, 59, 32], // #f03b20
  [189, 0, 38], // #bd0026
];

/**
 * Coverage (x) × usage (y), 3 × 3: Joshua Stevens' blue/red grid. Key `${x}-${y}`, 1 = low … 3 = high.
 * Coverage alone turns blue, usage alone red, both dark; low/low stays light. Chosen over Stevens' better known
 * pink/blue grid because that one's low/low and 2-1 cells merge for protanopes (ΔE 4.5; this grid: ≥ 9.7).
 */
export const BIVARIATE: Readonly<Record<string, Rgb>> = {
  '1-1': [232, 232, 232], // #e8e8e8
  '2-1': [176, 213, 223], // #b0d5df
  '3-1': [100, 172, 190], // #64acbe
  '1-2': [228, 172, 172], // #e4acac
  '2-2': [173, 158, 165], // #ad9ea5
  '3-2': [98, 127, 140], // #627f8c
  '1-3': [200, 90, 90], // #c85a5a
  '2-3': [152, 83, 86], // #985356
  '3-3': [87, 66, 73], // #574249
};

/** The four typology classes: three corners of the bivariate grid, and an alarm colour for the double gap. */
export const TYPOLOGY: Readonly<Record<string, Rgb>> = {
  connecte: [87, 66, 73], // #574249  (bivariate 3-3)
  'fracture-usage': [100, 172, 190], // #64acbe  (bivariate 3-1)
  'fracture-infrastructure': [200, 90, 90], // #c85a5a  (bivariate 1-3)
  'double-fracture': [230, 159, 0], // #e69f00  Okabe–Ito orange
};
export const TYPOLOGY_ORDER = ['connecte', 'fracture-usage', 'fracture-infrastructure', 'double-fracture'] as const;

/** Local Moran's I clusters (GeoDa's conventions, softened): high-high red, low-low blue, outliers pale. */
export const LISA: Readonly<Record<string, Rgb>> = {
  HH: [202, 0, 32], // #ca0020
  LL: [5, 113, 176], // #0571b0
  HL: [244, 165, 130], // #f4a582
  LH: [146, 197, 222], // #92c5de
  ns: [247, 247, 247], // #f7f7f7 not significant
};
export const LISA_ORDER = ['HH', 'LL', 'HL', 'LH', 'ns'] as const;

/**
 * Territories without a value: a mid grey, apart from every class of every palette for the three colour vision
 * deficiencies (ΔE ≥ 9; a light grey like #bdbdbd merges with the teal and blue classes for protanopes).
 */
export const NO_DATA_COLOR: Rgb = [128, 128, 128]; // #808080

/** Map background outside the territory (plain MapLibre background layer). */
export const BACKGROUND_COLOR: Rgb = [226, 231, 236]; // #e2e7ec

/** Outline of the level above the one drawn (EPCI over communes…): dark, over a white casing. */
export const EPCI_OUTLINE_COLOR: Rgb = [33, 37, 41]; // #212529
export const EPCI_OUTLINE_WIDTH_PX = 1.5;
export const EPCI_CASING_COLOR: readonly [number, number, number, number] = [255, 255, 255, 230];
export const EPCI_CASING_WIDTH_PX = 3.5;

/** Borders of the territories drawn: thin, translucent mid-grey, visible on light and dark classes alike. */
export const COMMUNE_OUTLINE_COLOR: readonly [number, number, number, number] = [128, 128, 128, 110];
export const COMMUNE_OUTLINE_WIDTH_PX = 0.5;

/** Multi-speed EPCI: a thick magenta line (no class colour is magenta) over the white casing. */
export const MULTISPEED_OUTLINE_COLOR: Rgb = [214, 0, 150]; // #d60096
export const MULTISPEED_OUTLINE_WIDTH_PX = 3.5;

/** The selected territory. */
export const SELECTION_OUTLINE_COLOR: Rgb = [0, 0, 0];
export const SELECTION_OUTLINE_WIDTH_PX = 3;

/** Mediation places (deck.gl points) and their aggregation ramp at low zoom. */
export const PLACE_COLOR: Rgb = [0, 158, 115]; // #009e73 Okabe–Ito bluish green
export const PLACE_AGGREGATE_RAMP: readonly Rgb[] = [
  [199, 233, 192],
  [161, 217, 155],
  [116, 196, 118],
  [49, 163, 84],
  [0, 109, 44],
  [0, 68, 27],
];

/**
 * Lower bounds of the ratio classes: [0, 0.2) [0.2, 0.4) [0.4, 0.6) [0.6, 0.8) [0.8, +∞).
 * ARCEP counts can exceed 100 % (more connectable premises than INSEE premises): those values
 * belong to the top class; negative values (never expected) fall into the bottom class.
 */
export const RATIO_BREAKS: readonly number[] = [0, 0.2, 0.4, 0.6, 0.8];

/** Index of the class of `value` given the lower bounds `breaks`; -1 when there is no value. */
export function classify(value: number | null | undefined, breaks: readonly number[]): number {
  if (value === null || value === undefined || !Number.isFinite(value)) return -1;
  let index = 0;
  for (let i = 1; i < breaks.length; i++) {
    if (value >= (breaks[i] as number)) index = i;
  }
  return index;
}

/** `count` colours of a ramp, spread over the whole ramp when fewer than its length. */
export function rampColors(ramp: readonly Rgb[], count: number): Rgb[] {
  if (count >= ramp.length) return [...ramp];
  if (count <= 1) return [ramp[ramp.length - 1] as Rgb];
  return Array.from({ length: count }, (_, i) => ramp[Math.round((i * (ramp.length - 1)) / (count - 1))] as Rgb);
}

/** The sequential palette colours used for `classCount` classes. */
export function paletteFor(classCount: number): Rgb[] {
  return rampColors(PALETTE, classCount);
}

export function rgbToCss([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** "rgb(1, 2, 3)" as getComputedStyle reports it. */
export function rgbToComputed([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}
