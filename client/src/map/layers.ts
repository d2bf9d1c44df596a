/**
 * MapLibre style pieces for terrinum's own layers (pure data, no DOM): the offline background style and, per
 * level, a fill, its borders, the outlines drawn when it is the level above, the multi-speed flag and the
 * selection. Colours come from feature-state (`fill`, `flag`), so that switching indicator, vintage or view
 * changes states only: no tile is fetched or re-parsed. No hover highlight: a layer reading feature-state is
 * re-evaluated for every feature whose state changes, and would double the cost of each recolouring.
 */
import type { LayerSpecification, StyleSpecification } from 'maplibre-gl';
import type { Level } from '../api.ts';
import {
  BACKGROUND_COLOR,
  COMMUNE_OUTLINE_COLOR,
  COMMUNE_OUTLINE_WIDTH_PX,
  EPCI_CASING_COLOR,
  EPCI_CASING_WIDTH_PX,
  EPCI_OUTLINE_COLOR,
  EPCI_OUTLINE_WIDTH_PX,
  MULTISPEED_OUTLINE_COLOR,
  MULTISPEED_OUTLINE_WIDTH_PX,
  NO_DATA_COLOR,
  SELECTION_OUTLINE_COLOR,
  SELECTION_OUTLINE_WIDTH_PX,
  rgbToCss,
} from '../colors.ts';

/** A style with a single background layer: nothing to fetch (no tiles, no glyphs, no sprite). */
export const OFFLINE_STYLE: StyleSpecification = {
  version: 8,
  name: 'terrinum-offline',
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': rgbToCss(BACKGROUND_COLOR) } }],
};

const rgba = (c: readonly number[]) => `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${((c[3] ?? 255) / 255).toFixed(3)})`;

export const sourceId = (level: Level) => `terrinum-${level}`;

export interface LayerIds {
  fill: string;
  border: string;
  casing: string;
  outline: string;
  flag: string;
  selected: string;
}

export function layerIds(level: Level): LayerIds {
  const prefix = `terrinum-${level}`;
  return {
    fill: `${prefix}-fill`,
    border: `${prefix}-border`,
    casing: `${prefix}-casing`,
    outline: `${prefix}-outline`,
    flag: `${prefix}-flag`,
    selected: `${prefix}-selected`,
  };
}

const state = (key: string) => ['boolean', ['feature-state', key], false];

/**
 * The layers of one level, grouped by drawing order (fills under borders under outlines under highlights), all
 * hidden: the map shows the ones a view needs. `sourceLayer` is set for vector tiles only.
 */
export function levelLayers(level: Level, sourceLayer: string | null): Record<'fills' | 'borders' | 'outlines' | 'highlights', LayerSpecification[]> {
  const ids = layerIds(level);
  const base = { source: sourceId(level), ...(sourceLayer ? { 'source-layer': sourceLayer } : {}), layout: { visibility: 'none' as const } };
  return {
    fills: [
      {
        ...base,
        id: ids.fill,
        type: 'fill',
        paint: {
          'fill-color': ['coalesce', ['feature-state', 'fill'], rgbToCss(NO_DATA_COLOR)] as never,
          'fill-color-transition': { duration: 0 },
        },
      },
    ],
    borders: [
      {
        ...base,
        id: ids.border,
        type: 'line',
        paint: { 'line-color': rgba(COMMUNE_OUTLINE_COLOR), 'line-width': COMMUNE_OUTLINE_WIDTH_PX },
      },
    ],
    outlines: [
      {
        ...base,
        id: ids.casing,
        type: 'line',
        layout: { ...base.layout, 'line-join': 'round' },
        paint: { 'line-color': rgba(EPCI_CASING_COLOR), 'line-width': EPCI_CASING_WIDTH_PX },
      },
      {
        ...base,
        id: ids.outline,
        type: 'line',
        layout: { ...base.layout, 'line-join': 'round' },
        paint: { 'line-color': rgbToCss(EPCI_OUTLINE_COLOR), 'line-width': EPCI_OUTLINE_WIDTH_PX },
      },
      {
        ...base,
        id: ids.flag,
        type: 'line',
        layout: { ...base.layout, 'line-join': 'round' },
        paint: {
          'line-color': rgbToCss(MULTISPEED_OUTLINE_COLOR),
          'line-width': MULTISPEED_OUTLINE_WIDTH_PX,
          'line-opacity': ['case', state('flag'), 1, 0] as never,
        },
      },
    ],
    highlights: [
      {
        ...base,
        id: ids.selected,
        type: 'line',
        layout: { ...base.layout, 'line-join': 'round' },
        // a filter, not a feature-state: layers reading feature-state are re-evaluated, feature by feature, each
        // time the colours change; the selection changes rarely
        filter: ['==', ['get', 'code'], ''],
        paint: { 'line-color': rgbToCss(SELECTION_OUTLINE_COLOR), 'line-width': SELECTION_OUTLINE_WIDTH_PX },
      },
    ],
  };
}
