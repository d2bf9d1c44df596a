import type { FeaturesRepository } from '../repositories/features.repository.ts';
import { crsLabel, indicatorFields, type ExportIndicator } from './features.ts';

/** Where a file's numbers come from: written into every export (GeoJSON member, CSV comments, GPKG metadata…). */
export interface Provenance {
  generator: 'terrinum';
  title: string;
  generated_at: string;
  /** The import stamp: two exports with the same data_version hold the same data. */
  data_version: { version: number; changed_at: string };
  level: { id: string; label_fr: string; label_en: string };
  crs: string;
  filters: Record<string, unknown>;
  synthetic: boolean;
  notice?: string;
  indicators: {
    id: string;
    label: { fr: string; en: string };
    unit: string;
    aggregation: string;
    /** The vintage the column holds (null: the indicator has none at or before the requested one). */
    vintage: string | null;
    requested_vintage: string | null;
    publisher: string | null;
    licence: string | null;
    synthetic: boolean;
    fields: { value: string; numerator: string; denominator: string };
    sources: SourceInfo[];
  }[];
  boundaries: { sources: SourceInfo[] };
  licences: string[];
  attribution: string[];
  method: string;
}

export interface SourceInfo {
  name: string;
  kind: string;
  publisher: string | null;
  vintage: string | null;
  licence: string | null;
  url: string | null;
  file_name: string | null;
  sha256: string | null;
  synthetic: boolean;
  imported_at: string;
}

const SYNTHETIC_NOTICE = 'Données synthétiques de démonstration — pas des données réelles / Synthetic demonstration data — not real data';

const METHOD =
  'Communes: values as published. Coarser levels: ratio of sums of member communes (numerator and denominator given), ' +
  'partial when some communes lack a value. Each indicator column holds one vintage: the one requested, else the ' +
  'latest before it. / Communes : valeurs publiées. Niveaux supérieurs : rapport des sommes des communes membres.';

export interface ProvenanceInput {
  level: { id: string; label_fr: string; label_en: string };
  indicators: readonly ExportIndicator[];
  requestedVintage: string | undefined;
  srid: number | null;
  filters: Record<string, unknown>;
}

export async function buildProvenance(features: FeaturesRepository, input: ProvenanceInput): Promise<Provenance> {
  const [dataVersion, boundarySources, indicatorSources] = await Promise.all([
    features.dataVersion(),
    features.boundarySources(input.level.id),
    Promise.all(input.indicators.map((i) => (i.vintage ? features.indicatorSources(i.id, i.vintage) : Promise.resolve([])))),
  ]);
  const indicators = input.indicators.map((indicator, index) => ({
    id: indicator.id,
    label: { fr: indicator.label_fr, en: indicator.label_en },
    unit: indicator.unit,
    aggregation: indicator.aggregation,
    vintage: indicator.vintage,
    requested_vintage: input.requestedVintage ?? null,
    publisher: indicator.publisher,
    licence: indicator.licence,
    synthetic: indicator.synthetic,
    fields: indicatorFields(indicator.id),
    sources: indicatorSources[index]!.map(sourceInfo),
  }));
  const boundaries = { sources: boundarySources.map(sourceInfo) };
  const allSources = [...boundaries.sources, ...indicators.flatMap((i) => i.sources)];
  const synthetic = input.indicators.some((i) => i.synthetic) || allSources.some((s) => s.synthetic);
  const licences = unique([...input.indicators.map((i) => i.licence), ...allSources.map((s) => s.licence)]);
  const attribution = unique([
    ...(synthetic ? [SYNTHETIC_NOTICE] : []),
    ...allSources.filter((s) => !s.synthetic).map((s) => [s.publisher ?? s.name, s.vintage, s.licence].filter(Boolean).join(' · ')),
  ]);
  const vintages = unique(indicators.map((i) => (i.vintage ? `${i.id} ${i.vintage}` : null)));
  return {
    generator: 'terrinum',
    title: `terrinum — ${input.level.label_fr} — ${vintages.join(', ') || 'aucun indicateur'}`,
    generated_at: new Date().toISOString(),
    data_version: dataVersion,
    level: input.level,
    crs: input.srid === null ? 'none (no geometry)' : crsLabel(input.srid),
    filters: input.filters,
    synthetic,
    ...(synthetic ? { notice: SYNTHETIC_NOTICE } : {}),
    indicators,
    boundaries,
    licences,
    attribution,
    method: METHOD,
  };
}

/** The provenance as short `key: value` lines (CSV comments, GDAL metadata items, shapefile sidecar). */
export function provenanceLines(provenance: Provenance): [string, string][] {
  const lines: [string, string][] = [
    ['title', provenance.title],
    ['generated_at', provenance.generated_at],
    ['data_version', `${provenance.data_version.version} (${provenance.data_version.changed_at})`],
    ['level', provenance.level.id],
    ['crs', provenance.crs],
  ];
  if (Object.keys(provenance.filters).length) lines.push(['filters', JSON.stringify(provenance.filters)]);
  if (provenance.notice) lines.push(['notice', provenance.notice]);
  for (const i of provenance.indicators) {
    lines.push([
      `indicator ${i.id}`,
      [i.label.fr, `vintage ${i.vintage ?? 'none'}`, i.unit, i.publisher, i.licence, i.sources.map((s) => describeSource(s)).join('; ')].filter(Boolean).join(' | '),
    ]);
  }
  if (provenance.boundaries.sources.length) lines.push(['boundaries', provenance.boundaries.sources.map(describeSource).join('; ')]);
  lines.push(['licences', provenance.licences.join('; ')]);
  if (provenance.attribution.length) lines.push(['attribution', provenance.attribution.join('; ')]);
  return lines;
}

function describeSource(s: SourceInfo): string {
  return [s.publisher ?? s.name, s.name !== s.publisher ? s.name : null, s.vintage, s.file_name, s.sha256 ? `sha256 ${s.sha256.slice(0, 12)}…` : null].filter(Boolean).join(', ');
}

function sourceInfo(row: Awaited<ReturnType<FeaturesRepository['boundarySources']>>[number]): SourceInfo {
  return {
    name: row.name,
    kind: row.kind,
    publisher: row.publisher,
    vintage: row.vintage,
    licence: row.licence,
    url: row.url,
    file_name: row.file_name,
    sha256: row.sha256,
    synthetic: row.synthetic,
    imported_at: new Date(row.imported_at).toISOString(),
  };
}

function unique(values: (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}
