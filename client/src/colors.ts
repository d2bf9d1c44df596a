/**
 * Choropleth classes: one colour-blind-safe sequential palette (ColorBrewer YlGnBu, 5 classes),
 * fixed breaks for ratios and quantile breaks for the other units. Pure module (no DOM), shared
 * by the map, the legend and the end-to-end test so that all three agree on every colour.
 */

export type Rgb = readonly [number, number, number];

/** ColorBrewer YlGnBu, 5 classes, light (low) to dark (high). Colour-blind safe, prints in greyscale. */
export const PALETTE: readonly Rgb[] = [
  [255, 255, 204], // #ffffcc
  [161, 218, 180], // #a1dab4
  [65, 182, 196], // #41b6c4
  [44, 127, 184], // #2c7fb8
  [37, 52, 148], // #253494
];

/** Communes without a value: a neutral grey, distinct in lightness and hue from every class. */
export const NO_DATA_COLOR: Rgb = [189, 189, 189]; // #bdbdbd

/** Map background outside the territory (plain MapLibre background layer). */
export const BACKGROUND_COLOR: Rgb = [226, 231, 236]; // #e2e7ec

/**
 * Intercommunality (EPCI) outlines: a dark line over a wider white casing, so that they read on the
 * darkest class as well as on the lightest.
 */
export const EPCI_OUTLINE_COLOR: Rgb = [33, 37, 41]; // #212529
export const EPCI_OUTLINE_WIDTH_PX = 1.5;
export const EPCI_CASING_COLOR: readonly [number, number, number, number] = [255, 255, 255, 230];
export const EPCI_CASING_WIDTH_PX = 3.5;

/** Commune borders: thin, translucent mid-grey, visible on light and dark classes alike. */
export const COMMUNE_OUTLINE_COLOR: readonly [number, number, number, number] = [128, 128, 128, 110];
export const COMMUNE_OUTLINE_WIDTH_PX = 0.5;

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

/**
 * Lower bounds of `classes` quantile classes for units without natural bounds (index, count,
 * metres). Duplicated bounds (many equal values) are collapsed, so fewer classes may come back.
 */
export function quantileBreaks(values: readonly number[], classes = PALETTE.length): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [0];
  const breaks: number[] = [sorted[0] as number];
  for (let i = 1; i < classes; i++) {
    const q = sorted[Math.floor((i * sorted.length) / classes)] as number;
    if (q > (breaks[breaks.length - 1] as number)) breaks.push(q);
  }
  return breaks;
}

/** The palette colours used for `classCount` classes: spread over the whole ramp when fewer than 5. */
export function paletteFor(classCount: number): Rgb[] {
  if (classCount >= PALETTE.length) return [...PALETTE];
  if (classCount <= 1) return [PALETTE[PALETTE.length - 1] as Rgb];
  return Array.from({ length: classCount }, (_, i) => PALETTE[Math.round((i * (PALETTE.length - 1)) / (classCount - 1))] as Rgb);
}

export function rgbToCss([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}
