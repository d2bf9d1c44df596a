/**
 * The base map (MapLibre GL 6, no network: a plain background unless the server names a basemap
 * style) and the deck.gl layers drawn over it: communes filled by class, EPCI outlines on top.
 */
import { AttributionControl, Map as MapLibreMap, NavigationControl, setWorkerUrl, type StyleSpecification } from 'maplibre-gl';
import maplibreWorkerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { GeoJsonLayer, MapLibreOverlay, type Layer, type PickingInfo } from 'deck.gl';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import type { Bbox, Territories, TerritoryProperties } from './api.ts';
import {
  BACKGROUND_COLOR,
  COMMUNE_OUTLINE_COLOR,
  COMMUNE_OUTLINE_WIDTH_PX,
  EPCI_CASING_COLOR,
  EPCI_CASING_WIDTH_PX,
  EPCI_OUTLINE_COLOR,
  EPCI_OUTLINE_WIDTH_PX,
  rgbToCss,
  type Rgb,
} from './colors.ts';

// MapLibre 6 resolves its worker from import.meta.url, which a bundler rewrites: without this
// the worker never starts and the map stays blank.
setWorkerUrl(maplibreWorkerUrl);

export type TerritoryFeature = Feature<Polygon | MultiPolygon, TerritoryProperties>;

/** A style with a single background layer: nothing to fetch (no tiles, no glyphs, no sprite). */
export const OFFLINE_STYLE: StyleSpecification = {
  version: 8,
  name: 'terrinum-offline',
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': rgbToCss(BACKGROUND_COLOR) } }],
};

export function createBaseMap(container: HTMLElement, basemapStyle: string | null, bbox: Bbox | null): MapLibreMap {
  const map = new MapLibreMap({
    container,
    style: basemapStyle ?? OFFLINE_STYLE,
    bounds: bbox ?? undefined,
    fitBoundsOptions: { padding: 24, animate: false },
    center: bbox ? undefined : [2.5, 46.6],
    zoom: bbox ? undefined : 5,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    maxPitch: 0,
    renderWorldCopies: false,
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  return map;
}

/** The attribution control lists the sources; on synthetic data it says so in plain words. */
export class Attribution {
  private control: AttributionControl | null = null;

  constructor(private readonly map: MapLibreMap) {}

  update(sources: readonly string[], syntheticNotice: string | null): void {
    if (this.control) this.map.removeControl(this.control);
    const items = sources.map(escapeHtml);
    if (syntheticNotice) items.unshift(`<strong class="synthetic-notice">${escapeHtml(syntheticNotice)}</strong>`);
    // One string: MapLibre sorts separate attributions by length, and the notice must come first.
    this.control = new AttributionControl({ compact: false, customAttribution: items.join(' | ') });
    this.map.addControl(this.control, 'bottom-right');
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface LayerInput {
  communes: Territories;
  epcis: Territories;
  /** Fill colour of a commune, by code. */
  colorOf: (code: string) => Rgb;
  /** Changes whenever colorOf would answer differently (indicator, vintage). */
  colorKey: string;
  onHover: (info: PickingInfo<TerritoryFeature>) => void;
}

export function buildLayers(input: LayerInput): Layer[] {
  return [
    new GeoJsonLayer<TerritoryProperties>({
      id: 'communes',
      data: input.communes,
      filled: true,
      stroked: true,
      getFillColor: (feature) => [...input.colorOf(feature.properties.code), 255],
      getLineColor: [...COMMUNE_OUTLINE_COLOR],
      getLineWidth: COMMUNE_OUTLINE_WIDTH_PX,
      lineWidthUnits: 'pixels',
      pickable: true,
      autoHighlight: true,
      highlightColor: [255, 255, 255, 90],
      onHover: input.onHover,
      updateTriggers: { getFillColor: input.colorKey },
    }),
    new GeoJsonLayer<TerritoryProperties>({
      id: 'epci-casing',
      data: input.epcis,
      filled: false,
      stroked: true,
      getLineColor: [...EPCI_CASING_COLOR],
      getLineWidth: EPCI_CASING_WIDTH_PX,
      lineWidthUnits: 'pixels',
      lineJointRounded: true,
      pickable: false,
    }),
    new GeoJsonLayer<TerritoryProperties>({
      id: 'epci-outlines',
      data: input.epcis,
      filled: false,
      stroked: true,
      getLineColor: [...EPCI_OUTLINE_COLOR, 255],
      getLineWidth: EPCI_OUTLINE_WIDTH_PX,
      lineWidthUnits: 'pixels',
      lineJointRounded: true,
      pickable: false,
    }),
  ];
}

/**
 * deck.gl in overlaid mode: its own canvas above MapLibre's, redrawn on every MapLibre render.
 * `afterRender` is called after each deck.gl frame (used to know when new layers are on screen).
 */
export function createOverlay(afterRender: () => void): MapLibreOverlay {
  return new MapLibreOverlay({ interleaved: false, layers: [], onAfterRender: afterRender });
}

/** Bounds of a feature collection, for servers that give no bbox. */
export function boundsOf(collection: Territories): Bbox | null {
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  const visit = (ring: number[][]) => {
    for (const [lon, lat] of ring) {
      if (lon === undefined || lat === undefined) continue;
      minLon = Math.min(minLon, lon);
      maxLon = Math.max(maxLon, lon);
      minLat = Math.min(minLat, lat);
      maxLat = Math.max(maxLat, lat);
    }
  };
  for (const feature of collection.features) {
    const geometry = feature.geometry;
    if (geometry.type === 'Polygon') geometry.coordinates.forEach(visit);
    else geometry.coordinates.forEach((polygon) => polygon.forEach(visit));
  }
  return Number.isFinite(minLon) ? [minLon, minLat, maxLon, maxLat] : null;
}
