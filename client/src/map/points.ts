/**
 * Points over the map with deck.gl: the mediation places, one dot each when zoomed in, aggregated into hexagons
 * (count per cell) when zoomed out. deck.gl is loaded on demand (dynamic import), so views without points do not
 * pay for it. Places come from the server's `places` vector tiles: the few tiles covering the territory at one
 * zoom are fetched once and decoded here (every place is in them: the server does not thin points), which
 * gives the aggregation all the points, not only those of the tiles on screen.
 */
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import type { Map as MapLibreMap } from 'maplibre-gl';
import type { Bbox } from '../api.ts';
import { PLACE_AGGREGATE_RAMP, PLACE_COLOR } from '../colors.ts';

export interface Place {
  name: string;
  kind: string;
  position: [number, number];
}

/** Zoom at which `bbox` spans at most ~2 tiles across (capped: z8 tiles place points within ~40 m). */
export function placesZoom(bbox: Bbox): number {
  const width = Math.max(1e-6, bbox[2] - bbox[0]);
  return Math.max(0, Math.min(8, Math.floor(Math.log2(360 / width))));
}

function tileRange(bbox: Bbox, z: number): { x: [number, number]; y: [number, number] } {
  const n = 2 ** z;
  const tx = (lon: number) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
  const ty = (lat: number) => {
    const rad = (Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180;
    return Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n)));
  };
  return { x: [tx(bbox[0]), tx(bbox[2])], y: [ty(bbox[3]), ty(bbox[1])] };
}

/** Every place in `bbox`, from the `places` tiles; null when the server has no such tiles. */
export async function loadPlaces(bbox: Bbox): Promise<Place[] | null> {
  const z = placesZoom(bbox);
  const range = tileRange(bbox, z);
  const requests: Promise<Place[] | null>[] = [];
  for (let x = range.x[0]; x <= range.x[1]; x++) {
    for (let y = range.y[0]; y <= range.y[1]; y++) {
      requests.push(
        fetch(`/tiles/places/${z}/${x}/${y}.mvt`).then(async (response) => {
          if (response.status === 204) return [];
          if (!response.ok) return null;
          const tile = new VectorTile(new PbfReader(new Uint8Array(await response.arrayBuffer())));
          const layer = tile.layers.places;
          if (!layer) return [];
          const places: Place[] = [];
          for (let i = 0; i < layer.length; i++) {
            const feature = layer.feature(i).toGeoJSON(x, y, z);
            if (feature.geometry.type !== 'Point') continue;
            const [lon, lat] = feature.geometry.coordinates as [number, number];
            // a point in a tile's buffer also belongs to the next tile: keep it in its own tile only
            const props = feature.properties as { name?: string; kind?: string };
            places.push({ name: String(props.name ?? ''), kind: String(props.kind ?? ''), position: [lon, lat] });
          }
          return places.filter((p) => inTile(p.position, x, y, z));
        }),
      );
    }
  }
  const answers = await Promise.all(requests);
  if (answers.some((a) => a === null)) return null;
  return answers.flat() as Place[];
}

function inTile([lon, lat]: [number, number], x: number, y: number, z: number): boolean {
  const n = 2 ** z;
  const fx = ((lon + 180) / 360) * n;
  const rad = (lat * Math.PI) / 180;
  const fy = ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n;
  return fx >= x && fx < x + 1 && fy >= y && fy < y + 1;
}

/** Below this zoom places are aggregated into hexagons. */
export const AGGREGATE_BELOW_ZOOM = 8;

export interface PointsOverlay {
  setPlaces(places: Place[] | null): void;
  /** Resolves after the next deck.gl frame in which every layer has its data. */
  drawn(): Promise<void>;
  onHover(handler: (hover: { x: number; y: number; text: string } | null) => void): void;
}

/** Creates the deck.gl overlay (loading deck.gl) over a MapLibre map. */
export async function createPointsOverlay(map: MapLibreMap, labels: { places: (count: number) => string }): Promise<PointsOverlay> {
  const [{ MapboxOverlay }, { ScatterplotLayer }, { HexagonLayer }] = await Promise.all([
    import('@deck.gl/mapbox'),
    import('@deck.gl/layers'),
    import('@deck.gl/aggregation-layers'),
  ]);
  let places: Place[] | null = null;
  let afterRender: (() => void) | null = null;
  let hoverHandler: ((hover: { x: number; y: number; text: string } | null) => void) | null = null;
  const overlay = new MapboxOverlay({ interleaved: false, layers: [], onAfterRender: () => afterRender?.() });
  map.addControl(overlay);

  const layers = () => {
    if (!places?.length) return [];
    const zoom = map.getZoom();
    if (zoom < AGGREGATE_BELOW_ZOOM) {
      // ~28 px hexagons whatever the zoom (metres per pixel at the map's latitude)
      const metresPerPixel = (40075016.686 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / (512 * 2 ** Math.round(zoom));
      return [
        new HexagonLayer<Place>({
          id: 'places-hexagons',
          data: places,
          getPosition: (p) => p.position,
          radius: Math.max(500, 28 * metresPerPixel),
          colorRange: PLACE_AGGREGATE_RAMP.map((c) => [...c] as [number, number, number]),
          opacity: 0.85,
          extruded: false,
          pickable: true,
          onHover: (info) => {
            hoverHandler?.(info.object ? { x: info.x, y: info.y, text: labels.places((info.object as { count: number }).count) } : null);
            return true;
          },
        }),
      ];
    }
    return [
      new ScatterplotLayer<Place>({
        id: 'places',
        data: places,
        getPosition: (p) => p.position,
        getRadius: 6,
        radiusUnits: 'pixels',
        getFillColor: [...PLACE_COLOR, 255],
        getLineColor: [255, 255, 255, 255],
        lineWidthUnits: 'pixels',
        getLineWidth: 1.5,
        stroked: true,
        pickable: true,
        onHover: (info) => {
          hoverHandler?.(info.object ? { x: info.x, y: info.y, text: (info.object as Place).name } : null);
        },
      }),
    ];
  };
  const update = () => overlay.setProps({ layers: layers() });
  map.on('zoomend', update);
  return {
    setPlaces(next) {
      places = next;
      update();
    },
    drawn() {
      return new Promise((resolve) => {
        afterRender = () => {
          afterRender = null;
          resolve();
        };
        map.triggerRepaint();
      });
    },
    onHover(handler) {
      hoverHandler = handler;
    },
  };
}
