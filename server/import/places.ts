import path from 'node:path';
import { runNamedQuery, type Database } from '../db/database.ts';
import { namedQuery } from '../db/sql-files.ts';
import { ImportError } from './errors.ts';
import { silentProgress, type Progress } from './progress.ts';
import { checkLonLat } from './readers/coordinates.ts';
import { openDelimited } from './readers/delimited.ts';
import { openWgs84GeoJson } from './readers/geojson.ts';
import { parseLocaleNumber } from './readers/numbers.ts';
import { emptyReport, type ImportReport } from './report.ts';
import { runImport } from './run-import.ts';
import { checkInputFile, sha256File } from './source-file.ts';

export interface PlacesOptions {
  vintage?: string;
  publisher?: string;
  licence?: string;
}

interface Place {
  name: string;
  kind: string;
  lon: number;
  lat: number;
}

const BATCH = 5000;

/**
 * Imports digital mediation places and public services (name, kind, lon, lat) from a CSV or GeoJSON points,
 * each placed in the commune that contains it. Rows without coordinates (an address only: geocoding needs the
 * internet) are recorded as rejects; the import fails only when no row has coordinates. One transaction.
 */
export async function importPlaces(database: Database, file: string, options: PlacesOptions = {}, progress: Progress = silentProgress): Promise<ImportReport> {
  const fileName = path.basename(file);
  checkInputFile(file);
  const report = emptyReport('import places', fileName);
  const rows = /\.(geo)?json$/i.test(file) ? readGeoJsonPlaces(file, report) : readCsvPlaces(file, report);
  try {
    return await runImport(
      database,
      { kind: 'places', name: fileName, fileName, sha256: await sha256File(file), vintage: options.vintage ?? null, publisher: options.publisher ?? null, licence: options.licence ?? null },
      report,
      async (context) => {
        const { trx, sourceId } = context;
        // the analyses read these points/zones: they rerun in full before commit
        context.analysisInputsChanged = true;
        await runNamedQuery(trx, namedQuery('analyze_territory'));
        let batch: Place[] = [];
        const flush = async () => {
          await runNamedQuery(trx, namedQuery('insert_places'), [JSON.stringify(batch), sourceId, false]);
          report.imported += batch.length;
          progress.tick(batch.length);
          batch = [];
        };
        for await (const place of rows) {
          batch.push(place);
          if (batch.length >= BATCH) await flush();
        }
        if (batch.length) await flush();
        if (report.read === 0) throw new ImportError({ file: fileName }, 'no places in the file');
        if (report.imported === 0) throw new ImportError({ file: fileName }, `none of the ${report.read} places has coordinates (lon, lat): geocode the addresses first`);
        const [unplaced] = await runNamedQuery<{ places: number }>(trx, namedQuery('count_unplaced_points'), [sourceId]);
        if (unplaced!.places) report.notes.push(`${unplaced!.places} places outside every commune, stored without a commune`);
      },
    );
  } finally {
    progress.done();
  }
}

async function* readCsvPlaces(file: string, report: ImportReport): AsyncGenerator<Place> {
  const fileName = path.basename(file);
  const table = await openDelimited(file);
  const column = (names: string[], required: boolean) => {
    const index = table.header.findIndex((h) => names.includes(h.toLowerCase()));
    if (index < 0 && required) {
      throw new ImportError({ file: fileName, line: table.headerLine, column: names[0] }, `missing column "${names[0]}"; expected name,kind,lon,lat, found ${table.header.join(',')}`);
    }
    return index;
  };
  const [name, kind, lon, lat] = [column(['name', 'nom'], true), column(['kind', 'type'], true), column(['lon', 'lng', 'longitude'], true), column(['lat', 'latitude'], true)];
  for await (const { line, cells } of table.rows) {
    report.read += 1;
    const cell = (index: number) => (cells[index] ?? '').trim();
    for (const [index, what] of [[name, 'a name'], [kind, 'a kind']] as const) {
      if (!cell(index)) throw new ImportError({ file: fileName, line, column: table.header[index] }, `expected ${what}, found an empty cell`);
    }
    if (!cell(lon) || !cell(lat)) {
      report.rejects.push({ line, code: cell(name), reason: 'no coordinates (geocoding an address needs the internet: geocode the file first)' });
      report.rejected += 1;
      continue;
    }
    const coordinate = (index: number) => {
      const value = parseLocaleNumber(cell(index));
      if (value === null) throw new ImportError({ file: fileName, line, column: table.header[index] }, `expected a coordinate, found "${cell(index)}"`);
      return value;
    };
    const place = { name: cell(name), kind: cell(kind), lon: coordinate(lon), lat: coordinate(lat) };
    checkLonLat({ file: fileName, line }, place.lon, place.lat);
    yield place;
  }
}

async function* readGeoJsonPlaces(file: string, report: ImportReport): AsyncGenerator<Place> {
  const fileName = path.basename(file);
  for await (const { index, properties, geometry } of openWgs84GeoJson(file)) {
    report.read += 1;
    const property = (key: string, alias: string) => {
      const value = properties[key] ?? properties[alias];
      if (typeof value !== 'string' && typeof value !== 'number') throw new ImportError({ file: fileName, feature: index, column: key }, `expected a "${key}" property, found ${JSON.stringify(value ?? null)}`);
      return String(value).trim();
    };
    const [name, kind] = [property('name', 'nom'), property('kind', 'type')];
    if (geometry === null) {
      report.rejects.push({ code: name, reason: `feature ${index}: no geometry (geocoding an address needs the internet: geocode the file first)` });
      report.rejected += 1;
      continue;
    }
    const coordinates = geometry.type === 'Point' ? geometry.coordinates : null;
    if (coordinates === null || typeof coordinates[0] !== 'number' || typeof coordinates[1] !== 'number') {
      throw new ImportError({ file: fileName, feature: index }, `expected a Point geometry, found ${geometry.type}`);
    }
    checkLonLat({ file: fileName, feature: index }, coordinates[0], coordinates[1]);
    yield { name, kind, lon: coordinates[0], lat: coordinates[1] };
  }
}
