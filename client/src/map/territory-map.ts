/**
 * The map of territories, built from a container and options: used by the planners' map, the fact sheet and
 * (later) the embed. MapLibre GL draws the polygons:
 *
 * - Geometry comes from the server's vector tiles (`/tiles/{level}/{z}/{x}/{y}.mvt`, described by
 *   `/tiles/{level}.json`) when it has them, else from `/api/geometries/{level}` (GeoJSON, tiled in a worker).
 * - Colours are not in the tiles: each territory's colour is a feature-state (`promoteId: code`) set from a view's
 *   JSON rows. Switching indicator, vintage or view fetches one small JSON and updates states: tiles are neither
 *   refetched nor re-parsed (a data-driven `match` expression would re-lay out every tile in the worker).
 *
 * Points (mediation places) are drawn by deck.gl over the map (points.ts, loaded on demand).
 */
import { AttributionControl, Map as MapLibreMap, NavigationControl, setWorkerCount, setWorkerUrl, type GeoJSONSource, type LayerSpecification, type LngLatBoundsLike, type MapMouseEvent, type MapSourceDataEvent } from 'maplibre-gl';
import maplibreWorkerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { FeatureCollection } from 'geojson';
import { LEVELS, fetchTileJsons, type Bbox, type Level, type TileJson } from '../api.ts';
import { geometriesUrl } from '../views/requests.ts';
import { rgbToCss, type Rgb } from '../colors.ts';
import type { Camera } from '../state.ts';
import { OFFLINE_STYLE, layerIds, levelLayers, sourceId } from './layers.ts';

// MapLibre 6 resolves its worker from import.meta.url, which a bundler rewrites: without this
// the worker never starts and the map stays blank.
setWorkerUrl(maplibreWorkerUrl);
// MapLibre 6 parses tiles in one worker by default: national views parse tens of thousands of polygons, spread
// them over one worker per core, up to 4 (the main thread mostly waits meanwhile).
setWorkerCount(Math.max(1, Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 2)));

export type GeometryMode = 'tiles' | 'geojson';

/** Time given to MapLibre's worker to send the tile requests it was just asked for (tilesRequested). */
const WORKER_HEADSTART_MS = 30;

export interface TerritoryMapOptions {
  container: HTMLElement;
  /** A MapLibre style URL (deployments that have a basemap); null: terrinum's layers over a plain background. */
  basemapStyle?: string | null;
  /** Initial extent (ignored when `camera` is given). */
  bbox?: Bbox | null;
  camera?: Camera | null;
  /** 'auto': vector tiles when /tiles/{level}.json answers, else GeoJSON. */
  geometry?: 'auto' | GeometryMode;
  /** The TileJSON of every level (fetchTileJsons), when the caller asked for it early; else asked here. */
  tileJson?: Promise<ReadonlyMap<Level, TileJson> | null>;
  /** GeoJSON mode: restrict geometries to the territories sharing communes with this one (`epci:XE01`). */
  within?: string | null;
  /** GeoJSON mode: outlines the caller asked for early (the embed, with `within`), by level; else fetched here. */
  geometries?: ReadonlyMap<Level, Promise<FeatureCollection>>;
  interactive?: boolean;
  /** Keep the drawing buffer (the fact sheet copies the canvas into an image for printing). */
  preserveDrawingBuffer?: boolean;
  navigation?: boolean;
  /** Device pixels per CSS pixel (the fact sheet draws at 2 for print). */
  pixelRatio?: number;
}

export interface TerritoryEvent {
  level: Level;
  code: string;
  name: string;
  /** Pixels from the top-left corner of the map container. */
  x: number;
  y: number;
}

export interface ShowOptions {
  /** The level whose territories are filled. */
  level: Level;
  /** Outlined over the fills (the level above), or null. */
  outline: Level | null;
  /** Draw the multi-speed flags of this level (states set by setFlags). */
  flags?: Level | null;
}

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

export class TerritoryMap {
  readonly map: MapLibreMap;
  mode: GeometryMode = 'geojson';
  private readonly tileJson = new Map<Level, TileJson>();
  private readonly geojsonLoaded = new Map<Level, Promise<void>>();
  private readonly colored = new Map<Level, Set<string>>();
  private readonly flagged = new Map<Level, Set<string>>();
  private selected: { level: Level; code: string } | null = null;
  private shown: ShowOptions | null = null;
  private hoverHandler: ((event: TerritoryEvent | null) => void) | null = null;
  private clickHandler: ((event: TerritoryEvent) => void) | null = null;
  private attribution: AttributionControl | null = null;

  private constructor(
    private readonly options: TerritoryMapOptions,
    map: MapLibreMap,
  ) {
    this.map = map;
  }

  /** Creates the map, waits for its style, and adds the sources and layers of every level (hidden). */
  static async create(options: TerritoryMapOptions): Promise<TerritoryMap> {
    const { bbox, camera } = options;
    const map = new MapLibreMap({
      container: options.container,
      style: options.basemapStyle ?? OFFLINE_STYLE,
      ...(camera
        ? { center: [camera.lon, camera.lat] as [number, number], zoom: camera.zoom }
        : bbox
          ? { bounds: bbox as LngLatBoundsLike, fitBoundsOptions: { padding: 24, animate: false } }
          : { center: [2.5, 46.6] as [number, number], zoom: 5 }),
      attributionControl: false,
      interactive: options.interactive ?? true,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      maxPitch: 0,
      renderWorldCopies: false,
      fadeDuration: 0,
      canvasContextAttributes: options.preserveDrawingBuffer ? { preserveDrawingBuffer: true } : undefined,
      ...(options.pixelRatio ? { pixelRatio: options.pixelRatio } : {}),
    });
    map.touchZoomRotate.disableRotation();
    map.keyboard.disableRotation();
    if (options.navigation ?? true) map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    const instance = new TerritoryMap(options, map);
    const [, tiles] = await Promise.all([map.once('load'), options.geometry === 'geojson' ? Promise.resolve(null) : (options.tileJson ?? fetchTileJsons())]);
    if (tiles && options.geometry !== 'geojson') {
      instance.mode = 'tiles';
      for (const [level, answer] of tiles) instance.tileJson.set(level, answer);
    }
    instance.addLevels();
    instance.listen();
    return instance;
  }

  private addLevels(): void {
    type Group = 'fills' | 'borders' | 'outlines' | 'highlights';
    const groups: Record<Group, LayerSpecification[]> = { fills: [], borders: [], outlines: [], highlights: [] };
    for (const level of LEVELS) {
      const tiles = this.tileJson.get(level);
      if (this.mode === 'tiles' && tiles) {
        this.map.addSource(sourceId(level), {
          type: 'vector',
          // absolute as given, or made absolute without encoding the {z}/{x}/{y} placeholders
          tiles: tiles.tiles.map((url) => (/^https?:/.test(url) ? url : `${window.location.origin}${url.startsWith('/') ? '' : '/'}${url}`)),
          minzoom: tiles.minzoom ?? 0,
          maxzoom: tiles.maxzoom ?? 14,
          ...(tiles.bounds ? { bounds: tiles.bounds } : {}),
          promoteId: 'code',
        });
      } else {
        // MapLibre's worker simplifies each GeoJSON outline on its own (tolerance in tile pixels): neighbours'
        // shared borders then part into slivers. A territory's few dozen outlines (`within`) need no simplifying;
        // the national fallback keeps MapLibre's default, or it could not be drawn at low zoom.
        this.map.addSource(sourceId(level), { type: 'geojson', data: EMPTY, promoteId: 'code', tolerance: this.options.within ? 0 : 0.375 });
      }
      const layers = levelLayers(level, this.mode === 'tiles' ? (tiles?.vector_layers?.[0]?.id ?? level) : null);
      for (const key of Object.keys(groups) as Group[]) groups[key].push(...layers[key]);
    }
    for (const layer of [...groups.fills, ...groups.borders, ...groups.outlines, ...groups.highlights]) this.map.addLayer(layer);
  }

  private target(level: Level, code: string) {
    return { source: sourceId(level), ...(this.mode === 'tiles' ? { sourceLayer: this.sourceLayer(level) } : {}), id: code };
  }

  private sourceLayer(level: Level): string {
    return this.tileJson.get(level)?.vector_layers?.[0]?.id ?? level;
  }

  /** GeoJSON mode: loads a level's geometries once (tiled by the worker). */
  private ensureGeometry(level: Level): Promise<void> {
    if (this.mode === 'tiles') return Promise.resolve();
    let loaded = this.geojsonLoaded.get(level);
    if (!loaded) {
      const source = this.map.getSource(sourceId(level)) as GeoJSONSource;
      const early = this.options.geometries?.get(level);
      // a URL is fetched by MapLibre's worker; an early answer is handed over as it is
      loaded = early
        ? early.then((data) => source.setData(data))
        : source.setData(new URL(geometriesUrl(level, this.options.within), window.location.href).href);
      this.geojsonLoaded.set(level, loaded);
    }
    return loaded;
  }

  /** Shows a level's fills (and the outlines of another), hiding every other terrinum layer. */
  async show(options: ShowOptions): Promise<void> {
    this.shown = options;
    const needed = new Set([options.level, options.outline, options.flags].filter((l): l is Level => Boolean(l)));
    await Promise.all([...needed].map((level) => this.ensureGeometry(level)));
    if (this.shown !== options) return;
    for (const level of LEVELS) {
      const ids = layerIds(level);
      const isFill = level === options.level;
      const isOutline = level === options.outline;
      const isFlag = level === options.flags;
      this.visible(ids.fill, isFill);
      this.visible(ids.border, isFill);
      this.visible(ids.selected, this.selected?.level === level);
      this.visible(ids.casing, isOutline || isFlag);
      this.visible(ids.outline, isOutline);
      this.visible(ids.flag, isFlag);
    }
  }

  private visible(layer: string, visible: boolean): void {
    const value = visible ? 'visible' : 'none';
    if (this.map.getLayoutProperty(layer, 'visibility') !== value) this.map.setLayoutProperty(layer, 'visibility', value);
  }

  /** Colours of a level's territories (feature-state `fill`); territories left out are drawn as no data. */
  setColors(level: Level, colors: ReadonlyMap<string, Rgb>): void {
    const previous = this.colored.get(level) ?? new Set<string>();
    const css = new Map<Rgb, string>();
    for (const [code, color] of colors) {
      let text = css.get(color);
      if (!text) css.set(color, (text = rgbToCss(color)));
      this.map.setFeatureState(this.target(level, code), { fill: text });
      previous.delete(code);
    }
    for (const code of previous) this.map.setFeatureState(this.target(level, code), { fill: null });
    this.colored.set(level, new Set(colors.keys()));
  }

  /** Territories of a level to outline in the multi-speed colour. */
  setFlags(level: Level, codes: ReadonlySet<string>): void {
    const previous = this.flagged.get(level) ?? new Set<string>();
    for (const code of codes) if (!previous.has(code)) this.map.setFeatureState(this.target(level, code), { flag: true });
    for (const code of previous) if (!codes.has(code)) this.map.setFeatureState(this.target(level, code), { flag: false });
    this.flagged.set(level, new Set(codes));
  }

  setSelected(selection: { level: Level; code: string } | null): void {
    if (this.selected) this.visible(layerIds(this.selected.level).selected, false);
    this.selected = selection;
    if (selection) {
      const id = layerIds(selection.level).selected;
      this.map.setFilter(id, ['==', ['get', 'code'], selection.code]);
      void this.ensureGeometry(selection.level);
      this.visible(id, true);
    }
  }

  onHover(handler: (event: TerritoryEvent | null) => void): void {
    this.hoverHandler = handler;
  }

  onClick(handler: (event: TerritoryEvent) => void): void {
    this.clickHandler = handler;
  }

  private eventAt(event: MapMouseEvent): TerritoryEvent | null {
    const level = this.shown?.level;
    if (!level) return null;
    const feature = this.map.queryRenderedFeatures(event.point, { layers: [layerIds(level).fill] })[0];
    if (!feature) return null;
    const properties = feature.properties as { code?: string; name?: string };
    if (!properties.code) return null;
    return { level, code: properties.code, name: properties.name ?? properties.code, x: event.point.x, y: event.point.y };
  }

  private listen(): void {
    this.map.on('mousemove', (event) => {
      const hit = this.eventAt(event);
      this.map.getCanvas().style.cursor = hit ? 'pointer' : '';
      this.hoverHandler?.(hit);
    });
    const leave = () => {
      this.map.getCanvas().style.cursor = '';
      this.hoverHandler?.(null);
    };
    this.map.on('mouseout', leave);
    this.map.getCanvasContainer().addEventListener('mouseleave', leave);
    this.map.on('click', (event) => {
      const hit = this.eventAt(event);
      if (hit) this.clickHandler?.(hit);
    });
  }

  /**
   * Resolves shortly after MapLibre asked its worker for a level's first tiles, or after `ms` (at once in GeoJSON
   * mode). The embedded database answers one request at a time, in the server's own thread: a caller that waits
   * for this before asking for a national JSON answer has the tiles served first, and MapLibre's workers parse
   * them while the server reads the answer.
   */
  tilesRequested(level: Level, ms: number): Promise<void> {
    if (this.mode !== 'tiles') return Promise.resolve();
    const id = sourceId(level);
    return new Promise((resolve) => {
      const done = () => {
        window.clearTimeout(timer);
        this.map.off('sourcedataloading', requested);
        resolve();
      };
      const requested = (event: MapSourceDataEvent) => {
        // the worker sends the tile's request once it reads the message posted just before this event
        if (event.sourceId === id && event.tile) {
          this.map.off('sourcedataloading', requested);
          window.clearTimeout(timer);
          timer = window.setTimeout(done, WORKER_HEADSTART_MS);
        }
      };
      let timer = window.setTimeout(done, ms);
      this.map.on('sourcedataloading', requested);
    });
  }

  /** Resolves once everything asked for is on screen (tiles loaded, states applied, nothing moving). */
  async rendered(): Promise<void> {
    const idle = this.map.once('idle');
    this.map.triggerRepaint();
    await idle;
  }

  camera(): Camera {
    const center = this.map.getCenter();
    return { lon: center.lng, lat: center.lat, zoom: this.map.getZoom() };
  }

  jumpTo(camera: Camera): void {
    this.map.jumpTo({ center: [camera.lon, camera.lat], zoom: camera.zoom });
  }

  fit(bbox: Bbox, padding: number | { top: number; right: number; bottom: number; left: number } = 24, animate = false): void {
    this.map.fitBounds(bbox as LngLatBoundsLike, { padding, animate, maxZoom: 13 });
  }

  /** Replaces the attribution: sources, with the synthetic-data notice first when there is one. */
  setAttribution(sources: readonly string[], notice: string | null): void {
    if (this.attribution) this.map.removeControl(this.attribution);
    const items = sources.map(escapeHtml);
    if (notice) items.unshift(`<strong class="synthetic-notice">${escapeHtml(notice)}</strong>`);
    // One string: MapLibre sorts separate attributions by length, and the notice must come first.
    this.attribution = new AttributionControl({ compact: false, customAttribution: items.join(' | ') });
    this.map.addControl(this.attribution, 'bottom-right');
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Bounds of a feature collection (GeoJSON answers carry no bbox). */
export function boundsOf(collection: FeatureCollection): Bbox | null {
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  const visit = (coordinates: unknown): void => {
    if (!Array.isArray(coordinates)) return;
    if (typeof coordinates[0] === 'number') {
      const [lon, lat] = coordinates as number[];
      if (lon === undefined || lat === undefined) return;
      minLon = Math.min(minLon, lon);
      maxLon = Math.max(maxLon, lon);
      minLat = Math.min(minLat, lat);
      maxLat = Math.max(maxLat, lat);
      return;
    }
    for (const child of coordinates) visit(child);
  };
  for (const feature of collection.features) if (feature.geometry && 'coordinates' in feature.geometry) visit(feature.geometry.coordinates);
  return Number.isFinite(minLon) ? [minLon, minLat, maxLon, maxLat] : null;
}
