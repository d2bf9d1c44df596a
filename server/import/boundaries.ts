import path from 'node:path';
import type { Geometry, Position } from 'geojson';
import { sql, type Transaction } from 'kysely';
import { runNamedQuery, type Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { createCommunePlacer, loadCog, padCode, type Placement } from './cog.ts';
import { ImportError } from './errors.ts';
import { silentProgress, type Progress } from './progress.ts';
import { openGeoJson } from './readers/geojson.ts';
import { openGeoPackage } from './readers/geopackage.ts';
import { openShapefile } from './readers/shapefile.ts';
import { parseCrsName, requireGeometry, WGS84, type FeatureRecord, type FeatureSource, type SourceCrs } from './readers/feature-source.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { runImport } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export const BOUNDARY_LEVELS = ['commune', 'epci', 'departement', 'region'] as const;
export type BoundaryLevel = (typeof BOUNDARY_LEVELS)[number];

export interface BoundariesOptions {
  level: BoundaryLevel;
  /** Property holding the territory code; default: the first of CODE_FIELDS[level] the file has. */
  codeField?: string;
  /** Property holding the name; default: the first of NAME_FIELDS the file has. */
  nameField?: string;
  /** Year of the boundaries (e.g. 2018): part of the source's identity. */
  vintage?: string;
  /** Keep codes that match no current territory as rejects instead of failing. */
  keepUnplaced?: boolean;
  /** The input's coordinate system, e.g. "EPSG:2154": needed for a Shapefile without .prj; overrides the file's. */
  crs?: string;
  /** GeoPackage only: the feature table to read when there are several. */
  layer?: string;
  /** Features per staging statement. */
  batchSize?: number;
}

/** Default code properties per level, tried in order (exact name first, then ignoring case). */
export const CODE_FIELDS: Record<BoundaryLevel, string[]> = {
  commune: ['code', 'INSEE_COM', 'insee', 'CODE_INSEE', 'codgeo'],
  epci: ['SIREN_EPCI', 'CODE_SIREN', 'siren', 'code'],
  departement: ['INSEE_DEP', 'code'],
  region: ['INSEE_REG', 'code'],
};
export const NAME_FIELDS = ['nom', 'NOM', 'NOM_COM', 'name', 'libelle'];

const CODE_LENGTH: Record<BoundaryLevel, number> = { commune: 5, epci: 9, departement: 2, region: 2 };

interface StagedRow {
  feature: number;
  code: string;
  name: string;
  reconciled: boolean;
  geojson: Geometry | null;
  wkb: string | null;
}

/**
 * Imports territory outlines (GeoJSON, Shapefile or GeoPackage) of one level in one transaction: reprojected to
 * WGS84, repaired, MultiPolygon, areas in m². Commune codes of an older COG are folded into the current commune
 * (geometries unioned); codes that match no current territory fail the import unless keepUnplaced.
 */
export async function importBoundaries(database: Database, file: string, options: BoundariesOptions, progress: Progress = silentProgress): Promise<ImportReport> {
  const { name: fileName } = checkInputFile(file);
  if (!BOUNDARY_LEVELS.includes(options.level)) throw new ImportError({ file: fileName }, `unknown level "${options.level}": expected ${BOUNDARY_LEVELS.join(', ')}`);
  if (options.vintage !== undefined && !/^\d{4}$/.test(options.vintage)) throw new ImportError({ file: fileName }, `--vintage must be a year (YYYY), got "${options.vintage}"`);
  const crsOverride = options.crs === undefined ? undefined : parseCrsOption(fileName, options.crs);
  const source = await openSource(file, options, crsOverride);
  const report = emptyReport(`import boundaries --level ${options.level}`, fileName);
  const batchSize = options.batchSize ?? 500;

  return runImport(
    database,
    {
      kind: 'boundaries',
      name: fileName,
      fileName,
      sha256: await sha256File(file),
      vintage: options.vintage ?? null,
      publisher: null,
      licence: null,
    },
    report,
    async (context) => {
      const { trx, sourceId } = context;
      const place = await createPlacer(trx, options.level);
      await runNamedQuery(trx, namedQuery('create_boundary_stage'));
      let fields: { code: string; name: string } | null = null;
      let crs: SourceCrs | null = null;
      const unplaced: { index: number; code: string }[] = [];
      const absorbing = new Set<string>();
      const placedCodes = new Set<string>();
      let batch: StagedRow[] = [];

      const flush = async () => {
        if (batch.length === 0) return;
        crs ??= await checkCrs(trx, fileName, crsOverride ?? source.crs ?? WGS84);
        report.repaired += await stageBatch(trx, fileName, batch, crs);
        batch = [];
      };

      for await (const feature of source) {
        report.read += 1;
        progress.tick();
        fields ??= chooseFields(fileName, feature, options);
        const fileCode = readCode(fileName, feature, fields.code, options.level);
        const placement = place(fileCode);
        if (!placement) {
          unplaced.push({ index: feature.index, code: fileCode });
          continue;
        }
        if (placement.reconciled) {
          report.reconciled += 1;
          absorbing.add(placement.code);
        }
        const geometry = checkGeometry(fileName, feature);
        placedCodes.add(placement.code);
        const nameValue = feature.properties[fields.name];
        batch.push({
          feature: feature.index,
          code: placement.code,
          name: nameValue === null || nameValue === undefined || String(nameValue).trim() === '' ? fileCode : String(nameValue).trim(),
          reconciled: placement.reconciled,
          geojson: geometry.type === 'wkb' ? null : geometry,
          wkb: geometry.type === 'wkb' ? geometry.hex : null,
        });
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      progress.done();

      if (report.read === 0) throw new ImportError({ file: fileName }, 'expected at least one feature, found none');
      if (unplaced.length && !options.keepUnplaced) {
        throw new ImportError(
          { file: fileName, column: fields?.code },
          `${unplaced.length} code(s) match no current ${options.level}${options.level === 'commune' ? ' nor a commune merged since' : ''}: ` +
            `${unplaced.map((u) => `${u.code} (feature ${u.index})`).join(', ')}; nothing was imported — ` +
            (unplaced.length === report.read ? `no code matched: is --level ${options.level} right, and --code-field?` : 'use --keep-unplaced to import the others'),
        );
      }
      for (const u of unplaced) {
        report.rejects.push({ code: u.code, reason: `feature ${u.index}: ${u.code} matches no current ${options.level}` });
      }
      report.rejected = unplaced.length;

      const cog = loadCog();
      const names = [...absorbing].flatMap((code) => (cog.communes.has(code) ? [{ code, name: cog.communes.get(code)!.name }] : []));
      const written = await runNamedQuery<{ code: string }>(trx, namedQuery('upsert_boundaries'), [options.level, sourceId, JSON.stringify(names)]);
      // the embedded PostGIS answers some errors (a GEOS failure in ST_Union) with no rows instead of raising them
      if (written.length !== placedCodes.size) {
        throw new ImportError({ file: fileName }, `PostGIS could not union or write the outlines (${written.length} of ${placedCodes.size} written)`);
      }
      report.imported = written.length;
      const used = crs as SourceCrs | null;
      if (used && !('srid' in used && used.srid === 4326)) report.notes.push(`reprojected from ${used.label} to EPSG:4326`);
      if (report.reconciled) report.notes.push(`${report.reconciled} features of communes merged since the file's vintage were unioned into ${absorbing.size} current communes`);
      if (options.level === 'commune') {
        // coarser outlines dissolved from member communes follow the new commune outlines; imported ones stay
        await runNamedQuery(trx, namedQuery('dissolve_territories'));
      }
      // outlines feed contiguity (hence LISA), coverage overlays, access centres and tile geometry: every analysis
      // reruns; memberships are unchanged, so the aggregates (ratios of sums over member communes) stay as they are
      context.analysisInputsChanged = true;
    },
    { replacesDemo: true },
  );
}

async function openSource(file: string, options: BoundariesOptions, crs: SourceCrs | undefined): Promise<FeatureSource> {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.geojson' || extension === '.json') return openGeoJson(file);
  if (extension === '.shp') return openShapefile(file, { crs });
  if (extension === '.gpkg') return openGeoPackage(file, { layer: options.layer, crs });
  throw new ImportError({ file: path.basename(file) }, `unsupported format "${extension || 'no extension'}": expected .geojson/.json, .shp (with .dbf and .prj) or .gpkg`);
}

function parseCrsOption(fileName: string, value: string): SourceCrs {
  const srid = parseCrsName(value);
  if (srid === null) throw new ImportError({ file: fileName }, `--crs must name an EPSG code (e.g. EPSG:2154), got "${value}"`);
  return { srid, label: `EPSG:${srid}` };
}

/** Places file codes on current territories: communes through the COG's successors, other levels as they are. */
async function createPlacer(trx: Transaction<DB>, level: BoundaryLevel): Promise<(code: string) => Placement | null> {
  const rows = await trx.selectFrom('territory').select('code').where('level', '=', level).execute();
  const cog = loadCog();
  const reference = { commune: cog.communes, epci: cog.epcis, departement: cog.departements, region: cog.regions }[level];
  const present = new Set([...rows.map((r) => r.code), ...reference.keys()]);
  if (level === 'commune') return createCommunePlacer(present, cog);
  return (code) => (present.has(code) ? { code, reconciled: false } : null);
}

function chooseFields(fileName: string, feature: FeatureRecord, options: BoundariesOptions): { code: string; name: string } {
  const available = Object.keys(feature.properties);
  const find = (candidates: string[]) =>
    candidates.find((c) => available.includes(c)) ?? available.find((a) => candidates.some((c) => c.toLowerCase() === a.toLowerCase()));
  const pick = (explicit: string | undefined, candidates: string[], what: string, option: string): string => {
    const field = explicit !== undefined ? (available.includes(explicit) ? explicit : undefined) : find(candidates);
    if (field === undefined) {
      throw new ImportError(
        { file: fileName, feature: feature.index, column: explicit },
        `${explicit !== undefined ? `no property "${explicit}"` : `no ${what} property (tried ${candidates.join(', ')})`}; ` +
          `the properties are ${available.length ? available.join(', ') : 'none'}: choose one with ${option}`,
      );
    }
    return field;
  };
  return {
    code: pick(options.codeField, CODE_FIELDS[options.level], `${options.level} code`, '--code-field'),
    name: pick(options.nameField, NAME_FIELDS, 'name', '--name-field'),
  };
}

/** The code as text: numeric DBF fields and spreadsheets lose leading zeros (2553 → 02553, 2 → 02). */
function readCode(fileName: string, feature: FeatureRecord, field: string, level: BoundaryLevel): string {
  const value = feature.properties[field];
  const text = value === null || value === undefined ? '' : String(value).trim().toUpperCase();
  if (!text) throw new ImportError({ file: fileName, feature: feature.index, column: field }, `expected a ${level} code, found ${value === undefined ? 'no value' : JSON.stringify(value)}`);
  const length = CODE_LENGTH[level];
  return level === 'commune' ? padCode(text, 5) : /^\d+$/.test(text) && text.length < length ? text.padStart(length, '0') : text;
}

/**
 * A Polygon or MultiPolygon with closed rings of at least 4 numeric positions. Checked here because the
 * embedded PostGIS turns a GEOS error on an unclosed ring into an empty answer instead of an error
 * (electric-sql/pglite#916), and because the message can then name the feature.
 */
function checkGeometry(fileName: string, feature: FeatureRecord): NonNullable<FeatureRecord['geometry']> {
  const type = requireGeometry(fileName, feature);
  const geometry = feature.geometry!;
  const fail = (problem: string): never => {
    throw new ImportError({ file: fileName, feature: feature.index }, problem);
  };
  if (type !== 'Polygon' && type !== 'MultiPolygon') fail(`expected a Polygon or MultiPolygon, found a ${type}`);
  if (geometry.type === 'wkb') return geometry;
  const coordinates = (geometry as { coordinates?: unknown }).coordinates;
  if (!Array.isArray(coordinates)) return fail(`expected "coordinates" to be an array, found ${JSON.stringify(coordinates ?? null)}`);
  const polygons = (type === 'Polygon' ? [coordinates] : coordinates) as unknown[];
  for (const polygon of polygons) {
    if (!Array.isArray(polygon)) fail('expected a polygon to be an array of rings');
    for (const ring of polygon as unknown[]) {
      if (!Array.isArray(ring)) return fail('expected a ring to be an array of positions');
      if (ring.length === 0) continue;
      for (const position of ring as unknown[]) {
        if (!Array.isArray(position) || position.length < 2 || !position.every((n) => typeof n === 'number' && Number.isFinite(n))) {
          fail(`expected positions [longitude, latitude], found ${JSON.stringify(position)}`);
        }
      }
      const first = ring[0] as Position;
      const last = ring[ring.length - 1] as Position;
      if (ring.length < 4) fail(`expected a ring of at least 4 positions, found ${ring.length}`);
      if (first[0] !== last[0] || first[1] !== last[1]) fail(`expected a closed ring (last position equal to the first), found ${JSON.stringify(first)} … ${JSON.stringify(last)}`);
    }
  }
  return geometry;
}

/** Checks that PostGIS knows the coordinate system: an EPSG code in spatial_ref_sys, or a definition PROJ reads. */
async function checkCrs(trx: Transaction<DB>, fileName: string, crs: SourceCrs): Promise<SourceCrs> {
  if ('srid' in crs) {
    const [row] = await runNamedQuery<{ known: boolean }>(trx, namedQuery('srid_exists'), [crs.srid]);
    if (!row?.known) throw new ImportError({ file: fileName }, `unknown coordinate system ${crs.label}: PostGIS has no such EPSG code`);
    return crs;
  }
  let readable = false;
  try {
    readable = (await runNamedQuery(trx, namedQuery('crs_definition_readable'), [crs.definition])).length === 1;
  } catch (error) {
    throw new ImportError({ file: crs.label }, `PROJ cannot read this coordinate system: ${(error as Error).message}`);
  }
  if (!readable) throw new ImportError({ file: crs.label }, 'PROJ cannot read this coordinate system definition');
  return crs;
}

/**
 * Stages one batch; returns how many geometries were repaired. On a PostGIS failure the batch is retried one
 * feature at a time (each behind a savepoint) so that the error names the feature.
 */
async function stageBatch(trx: Transaction<DB>, fileName: string, batch: StagedRow[], crs: SourceCrs): Promise<number> {
  const attempt = async (rows: StagedRow[]): Promise<{ repaired: number; empty: number[] } | string> => {
    await sql`SAVEPOINT boundary_batch`.execute(trx);
    try {
      const result = await runNamedQuery<{ repaired: number; empty: number[] }>(trx, namedQuery('stage_boundaries'), [
        JSON.stringify(rows),
        'srid' in crs ? crs.srid : null,
        'definition' in crs ? crs.definition : null,
      ]);
      await sql`RELEASE SAVEPOINT boundary_batch`.execute(trx);
      // no summary row: the embedded PostGIS swallowed an error (electric-sql/pglite#916)
      return result[0] ?? 'PostGIS could not read, reproject or repair this geometry';
    } catch (error) {
      await sql`ROLLBACK TO SAVEPOINT boundary_batch`.execute(trx);
      return `PostGIS could not read, reproject or repair this geometry: ${(error as Error).message}`;
    }
  };
  const outcome = await attempt(batch);
  if (typeof outcome === 'string') {
    for (const row of batch) {
      const single = await attempt([row]);
      if (typeof single === 'string') throw new ImportError({ file: fileName, feature: row.feature }, single);
    }
    throw new ImportError({ file: fileName, feature: batch[0]!.feature }, `${outcome} (features ${batch[0]!.feature}–${batch.at(-1)!.feature})`);
  }
  if (outcome.empty.length) {
    throw new ImportError({ file: fileName, feature: outcome.empty[0] }, 'expected a polygon with an area, found an empty geometry (or one that is empty once repaired)');
  }
  return outcome.repaired;
}
