import type { Writable } from 'node:stream';
import type { FeatureRow, IndicatorColumn } from '../repositories/features.repository.ts';
import { featureProperties } from './features.ts';
import type { Provenance } from './provenance.ts';
import { writeChunk } from './stream.ts';

/**
 * One GeoJSON Feature as text. The geometry text comes from PostGIS (ST_AsGeoJSON) and is spliced in
 * without being parsed again: that is most of the bytes, and parsing them would cost more than the query.
 */
export function featureJson(row: FeatureRow, indicators: readonly IndicatorColumn[], extra = ''): string {
  return `{"type":"Feature","id":${JSON.stringify(row.code)},"geometry":${row.geometry ?? 'null'},"properties":${propertiesJson(row, indicators)}${extra}}`;
}

/**
 * Properties with every indicator number written as a JSON real (82 → 82.0). Readers that infer a field's type
 * from the first features (GDAL's GeoJSON and OAPIF drivers, hence QGIS) would otherwise make a ratio whose
 * first values are 0 and 1 an integer field and truncate the 0.83 that follow.
 */
export function propertiesJson(row: FeatureRow, indicators: readonly IndicatorColumn[]): string {
  const parts = [`"code":${JSON.stringify(row.code)}`, `"name":${JSON.stringify(row.name)}`];
  for (const [key, value] of Object.entries(featureProperties(row, indicators)).slice(2)) parts.push(`${JSON.stringify(key)}:${realJson(value as number | null)}`);
  return `{${parts.join(',')}}`;
}

/** A number as a JSON real: integers get ".0"; null stays null. */
export function realJson(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'null';
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(1) : String(value);
}

/**
 * Streams an RFC 7946 FeatureCollection batch by batch; each batch is features as text joined by ",\n"
 * (FeaturesRepository.featureTextBatches). The provenance is the foreign member "terrinum", written first so a
 * reader has it before the features; "name" is the layer name GDAL and QGIS show.
 * Returns the number of features written (fewer when the client went away).
 */
export async function writeGeoJson(out: Writable, batches: AsyncIterable<{ text: string; count: number }>, options: { name: string; provenance: Provenance }): Promise<number> {
  let written = 0;
  if (!(await writeChunk(out, `{"type":"FeatureCollection","name":${JSON.stringify(options.name)},"terrinum":${JSON.stringify(options.provenance)},"features":[\n`))) return written;
  for await (const batch of batches) {
    if (!(await writeChunk(out, written ? `,\n${batch.text}` : batch.text))) return written;
    written += batch.count;
  }
  await writeChunk(out, '\n]}\n');
  return written;
}
