import type { Writable } from 'node:stream';
import * as flatbuffers from 'flatbuffers';
import type { MultiPolygon, Polygon } from 'geojson';
import { magicbytes } from 'flatgeobuf/lib/mjs/constants.js';
import { Column } from 'flatgeobuf/lib/mjs/flat-geobuf/column.js';
import { ColumnType } from 'flatgeobuf/lib/mjs/flat-geobuf/column-type.js';
import { Crs } from 'flatgeobuf/lib/mjs/flat-geobuf/crs.js';
import { GeometryType } from 'flatgeobuf/lib/mjs/flat-geobuf/geometry-type.js';
import { Header } from 'flatgeobuf/lib/mjs/flat-geobuf/header.js';
import { buildFeature } from 'flatgeobuf/lib/mjs/generic/feature.js';
import { parseGeometry } from 'flatgeobuf/lib/mjs/geojson/geometry.js';
import type { ColumnMeta } from 'flatgeobuf/lib/mjs/column-meta.js';
import type { HeaderMeta } from 'flatgeobuf/lib/mjs/header-meta.js';
import type { FeatureRow } from '../repositories/features.repository.ts';
import { featureProperties, indicatorFields, type ExportIndicator } from './features.ts';
import type { Provenance } from './provenance.ts';
import { writeChunk } from './stream.ts';

/**
 * Streams a FlatGeobuf file with the `flatgeobuf` package's feature encoder. The header is built here rather
 * than with the package's `buildHeader`, which writes neither the CRS's WKT, the envelope, the title nor the
 * metadata: the provenance goes in the header's `metadata` (JSON), the CRS as EPSG code plus WKT.
 * No spatial index (it needs every feature before the first one is written): readers scan, which QGIS does
 * in well under a second for 35,000 communes.
 */
export interface FlatGeobufOptions {
  name: string;
  srid: number;
  wkt: string;
  /** Exact feature count and extent, from the same filter (readers preallocate from the count). */
  count: number;
  extent: [number, number, number, number] | null;
  indicators: readonly ExportIndicator[];
  provenance: Provenance;
}

export async function writeFlatGeobuf(out: Writable, batches: AsyncIterable<FeatureRow[]>, options: FlatGeobufOptions): Promise<number> {
  const columns = columnMetas(options.indicators);
  const header: HeaderMeta = {
    geometryType: GeometryType.MultiPolygon,
    columns,
    envelope: options.extent ? Float64Array.from(options.extent) : null,
    featuresCount: options.count,
    indexNodeSize: 0,
    crs: null,
    title: options.provenance.title,
    description: options.provenance.attribution.join(' ; '),
    metadata: JSON.stringify(options.provenance),
  };
  const head = buildHeader(header, options);
  const start = new Uint8Array(magicbytes.length + head.length);
  start.set(magicbytes);
  start.set(head, magicbytes.length);
  if (!(await writeChunk(out, start))) return 0;
  let written = 0;
  for await (const batch of batches) {
    const parts: Uint8Array[] = [];
    for (const row of batch) {
      if (typeof row.geometry !== 'string') continue;
      const geometry = JSON.parse(row.geometry) as Polygon | MultiPolygon;
      const multi: MultiPolygon = geometry.type === 'Polygon' ? { type: 'MultiPolygon', coordinates: [geometry.coordinates] } : geometry;
      parts.push(buildFeature(parseGeometry(multi), featureProperties(row, options.indicators), header));
    }
    if (!(await writeChunk(out, Buffer.concat(parts)))) return written;
    written += parts.length;
  }
  return written;
}

function columnMetas(indicators: readonly ExportIndicator[]): ColumnMeta[] {
  const column = (name: string, type: ColumnType, title: string | null, nullable = true): ColumnMeta => ({
    name,
    type,
    title,
    description: null,
    width: -1,
    precision: -1,
    scale: -1,
    nullable,
    unique: false,
    primary_key: false,
  });
  return [
    column('code', ColumnType.String, 'Code', false),
    column('name', ColumnType.String, 'Nom / Name', false),
    ...indicators.flatMap((i) => {
      const fields = indicatorFields(i.id);
      return [
        column(fields.value, ColumnType.Double, `${i.label_fr} (${i.vintage ?? '—'})`),
        column(fields.numerator, ColumnType.Double, `${i.label_fr} — numérateur`),
        column(fields.denominator, ColumnType.Double, `${i.label_fr} — dénominateur`),
      ];
    }),
  ];
}

function buildHeader(header: HeaderMeta, options: FlatGeobufOptions): Uint8Array {
  const builder = new flatbuffers.Builder(1024);
  const columnOffsets = header.columns!.map((c) => {
    const name = builder.createString(c.name);
    const title = c.title ? builder.createString(c.title) : 0;
    Column.startColumn(builder);
    Column.addName(builder, name);
    Column.addType(builder, c.type);
    if (title) Column.addTitle(builder, title);
    Column.addNullable(builder, c.nullable);
    return Column.endColumn(builder);
  });
  const columns = Header.createColumnsVector(builder, columnOffsets);
  const name = builder.createString(options.name);
  const envelope = header.envelope ? Header.createEnvelopeVector(builder, header.envelope) : 0;
  const org = builder.createString('EPSG');
  const wkt = builder.createString(options.wkt);
  Crs.startCrs(builder);
  Crs.addOrg(builder, org);
  Crs.addCode(builder, options.srid);
  Crs.addWkt(builder, wkt);
  const crs = Crs.endCrs(builder);
  const title = builder.createString(header.title ?? '');
  const description = builder.createString(header.description ?? '');
  const metadata = builder.createString(header.metadata ?? '');
  Header.startHeader(builder);
  Header.addName(builder, name);
  if (envelope) Header.addEnvelope(builder, envelope);
  Header.addGeometryType(builder, header.geometryType);
  Header.addColumns(builder, columns);
  Header.addFeaturesCount(builder, BigInt(header.featuresCount));
  Header.addIndexNodeSize(builder, 0);
  Header.addCrs(builder, crs);
  Header.addTitle(builder, title);
  Header.addDescription(builder, description);
  Header.addMetadata(builder, metadata);
  builder.finishSizePrefixed(Header.endHeader(builder));
  return builder.asUint8Array();
}
