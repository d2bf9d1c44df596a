import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../server/db/database.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { createFeaturesRepository, vintageAtOrBefore, vintageEndDate, vintageStartDate, type FeatureOptions } from '../server/repositories/features.repository.ts';
import { featureJson } from '../server/export/geojson.ts';
import { backends, openDemoDatabase } from './helpers/db.ts';

const demo = generateDemo();

describe('vintage of an indicator column', () => {
  const quarters = ['2023-Q3', '2023-Q4', '2024-Q1'];
  const years = ['2022', '2023'];
  it('is the requested vintage when the indicator has it, else its latest ending at or before it', () => {
    expect(vintageAtOrBefore(quarters, '2023-Q4')).toBe('2023-Q4');
    expect(vintageAtOrBefore(quarters, '2024-Q3')).toBe('2024-Q1');
    expect(vintageAtOrBefore(quarters, '2023')).toBe('2023-Q4');
    expect(vintageAtOrBefore(quarters, '2023-11')).toBe('2023-Q3');
    expect(vintageAtOrBefore(years, '2024-Q1')).toBe('2023');
    expect(vintageAtOrBefore(years, '2023-Q4')).toBe('2023');
    expect(vintageAtOrBefore(years, '2023-Q3')).toBe('2022');
    expect(vintageAtOrBefore(years, '2021')).toBeNull();
    expect(vintageAtOrBefore(years, undefined)).toBe('2023');
    expect(vintageAtOrBefore([], undefined)).toBeNull();
  });
  it('periods end and start on the right days', () => {
    expect(vintageEndDate('2024-Q1')).toBe('2024-03-31');
    expect(vintageEndDate('2024-02')).toBe('2024-02-29');
    expect(vintageEndDate('2023')).toBe('2023-12-31');
    expect(vintageStartDate('2024-Q3')).toBe('2024-07-01');
    expect(vintageStartDate('2024-12')).toBe('2024-12-01');
  });
});

describe.each(backends())('feature query on %s', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await openDemoDatabase(backend);
  });
  afterAll(() => database?.close());

  const options: FeatureOptions = {
    indicators: [
      { id: 'fibre_coverage', vintage: demo.quarters.at(-1)! },
      { id: 'fibre_coverage', vintage: demo.quarters[0]! },
      { id: 'illectronisme', vintage: null },
    ],
    geometry: { format: 'geojson', srid: 2154, precision: 1, orientation: 'cw' },
    parentLevels: ['epci', 'departement'],
  };

  it.each([false, true])('reads the same rows in small keyset batches as in one page, from any offset and up to any limit (prefetch %s)', async (prefetch) => {
    const features = createFeaturesRepository(database.db, { prefetch });
    const filter = { level: 'commune', requireGeometry: true };
    const all = await features.page(filter, options, { limit: 1000 });
    expect(all.map((r) => r.code)).toEqual(demo.communes.map((c) => c.code).sort());
    expect(await features.count(filter)).toBe(all.length);
    for (const [offset, limit] of [
      [0, undefined],
      [5, 100],
      [290, 50],
      [13, 7],
      [400, 10],
    ] as const) {
      const rows = [];
      let batches = 0;
      for await (const batch of features.batches(filter, options, { offset, limit }, 40)) {
        expect(batch.length).toBeLessThanOrEqual(40);
        rows.push(...batch);
        batches++;
      }
      const expected = all.slice(offset, limit === undefined ? undefined : offset + limit);
      expect(rows).toEqual(expected);
      expect(batches).toBe(Math.ceil(expected.length / 40));
    }
    const row = all.find((r) => r.code === demo.communes[5]!.code)!;
    expect(row.parents).toEqual({ epci: demo.communes[5]!.epci, departement: demo.departement.code });
    // an indicator column without a vintage is empty; two vintages of one indicator are two columns
    expect(row.values[2]).toEqual({ value: null, numerator: null, denominator: null });
    expect(row.values[0]!.value).not.toBe(row.values[1]!.value);
    const deployed = demo.deployments.find((d) => d.commune === row.code && d.vintage === demo.quarters[0])!;
    expect(row.values[1]!.numerator).toBe(deployed.locauxRaccordables);
    // Lambert-93 metres at 1 decimal, exterior rings clockwise (Shapefile order)
    const geometry = JSON.parse(row.geometry as string);
    expect(geometry.coordinates[0][0][0][0]).toBeGreaterThan(100_000);
    expect(JSON.stringify(geometry.coordinates).match(/\.\d{2,}/)).toBeNull();
  });

  it('writes the GeoJSON export text in the database exactly as featureJson writes the rows, in keyset batches', async () => {
    const features = createFeaturesRepository(database.db, { prefetch: backend === 'postgis' });
    const filter = { level: 'commune', requireGeometry: true };
    // distinct ids, as exports have them (the same id twice would be one key of the row path's object)
    const indicators = [options.indicators[0]!, options.indicators[2]!];
    const rows = await features.page(filter, { indicators, geometry: { format: 'geojson', srid: 4326, precision: 5, orientation: 'ccw' } }, { limit: 1000 });
    const batches = [];
    for await (const batch of features.featureTextBatches(filter, { indicators, precision: 5 }, 70)) batches.push(batch);
    expect(batches.map((b) => b.count)).toEqual(Array.from({ length: Math.ceil(rows.length / 70) }, (_, i) => Math.min(70, rows.length - i * 70)));
    expect(batches.map((b) => b.text).join(',\n')).toBe(rows.map((row) => featureJson(row, indicators)).join(',\n'));
    // integers as reals, an empty column as null, names escaped as JSON
    const first = JSON.parse(batches[0]!.text.split(',\n')[0]!);
    expect(first.properties.fibre_coverage_numerator).toBe(rows[0]!.values[0]!.numerator);
    expect(batches[0]!.text).toMatch(/"fibre_coverage_numerator":\d+\.0,/);
    expect(first.properties.illectronisme).toBeNull();
  });

  it('filters by within, codes, code, name and boxes in WGS 84 or Lambert-93, and gives WKB with its envelope', async () => {
    const features = createFeaturesRepository(database.db);
    const epci = await database.db.selectFrom('territory').select('id').where('level', '=', 'epci').where('code', '=', demo.epcis[1]!.code).executeTakeFirstOrThrow();
    const within = await features.page({ level: 'commune', withinId: epci.id }, { indicators: [], geometry: null });
    expect(within.map((r) => r.code)).toEqual(demo.communes.filter((c) => c.epci === demo.epcis[1]!.code).map((c) => c.code).sort());
    const departementWithin = await features.page({ level: 'epci', withinId: epci.id }, { indicators: [], geometry: null });
    expect(departementWithin.map((r) => r.code)).toEqual([demo.epcis[1]!.code]);
    const codes = await features.page({ level: 'commune', codes: [demo.communes[9]!.code, demo.communes[2]!.code] }, { indicators: [], geometry: null });
    expect(codes.map((r) => r.code)).toEqual([demo.communes[2]!.code, demo.communes[9]!.code]);
    const byName = await features.page({ level: 'commune', name: demo.communes[9]!.name }, { indicators: [], geometry: null });
    expect(byName.map((r) => r.code)).toContain(demo.communes[9]!.code);

    const [wkb] = await features.page({ level: 'commune', code: demo.communes[9]!.code }, { indicators: [], geometry: { format: 'wkb', srid: 2154 } });
    expect(wkb!.geometry).toBeInstanceOf(Uint8Array);
    const bytes = wkb!.geometry as Uint8Array;
    expect(bytes[0]).toBe(1); // little-endian
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(1, true)).toBe(6); // MultiPolygon
    const [minX, minY, maxX, maxY] = wkb!.envelope!;
    // the same box in Lambert-93 finds it; a box in the sea off Brittany finds nothing
    const inLambert = await features.page({ level: 'commune', bbox: { box: [minX, minY, maxX, maxY], srid: 2154 } }, { indicators: [], geometry: null });
    expect(inLambert.map((r) => r.code)).toContain(demo.communes[9]!.code);
    expect(await features.count({ level: 'commune', bbox: { box: [-8, 47, -7, 48], srid: 4326 } })).toBe(0);
    expect(await features.count({ level: 'commune', bbox: { box: [9e6, 9e6, 1e7, 1e7], srid: 2154 } })).toBe(0);
    const extent = await features.extent({ level: 'commune' }, 2154);
    expect(extent![0]).toBeLessThanOrEqual(minX);
    expect(extent![3]).toBeGreaterThanOrEqual(maxY);
  });
});
