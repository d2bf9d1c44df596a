import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import { runNamedQuery } from '../db/database.ts';
import type { DB, IndicatorTable } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { recomputeAggregates } from './aggregate.ts';
import type { AnalysisStep } from './recompute.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** Publisher of the indicators this module computes: it owns (rewrites, deletes) only those. */
export const COMPUTED_PUBLISHER = 'terrinum (calcul)';
export const PREMISES_COVERAGE = 'fibre_coverage_premises';

/**
 * Grid of the coverage overlay, in degrees: 2^-30 (about 0.1 mm). Clipping and merging zones snap-round onto it,
 * which never fails (PGlite's WebAssembly GEOS cannot recover from a failed floating-point overlay); a power of two
 * keeps the snapped coordinates exact, so both PostGIS versions produce the same outlines. See coverage_areas.sql.
 */
export const OVERLAY_GRID_DEGREES = 2 ** -30;

/** The value to show: a ratio is capped at 1 (ARCEP counts more connectable premises than INSEE premises); others raw. */
export function displayValue(value: number | null, unit: string): number | null {
  if (value === null) return null;
  return unit === 'ratio' ? Math.min(value, 1) : value;
}

/** The [a-z0-9_] key of a technology name in indicator ids: `THD radio` → `thd_radio`, `4G+` → `4g_plus`. */
export function technologyKey(technology: string): string {
  const key = technology
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\+/g, '_plus')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return key || 'other';
}

/**
 * Recomputes the computed coverage indicators from whatever inputs exist: premises points
 * (`fibre_coverage_premises`) and coverage zones (`coverage_area_<technology>`, `coverage_population_<technology>`),
 * then their aggregates. Indicators whose inputs are gone are removed. Returns the ids written.
 */
export async function recomputeCoverage(db: Db): Promise<string[]> {
  const owned = await db.selectFrom('indicator').select('id').where('publisher', '=', COMPUTED_PUBLISHER).execute();
  if (owned.length) await db.deleteFrom('indicator_value').where('indicator_id', 'in', owned.map((o) => o.id)).execute();

  const premisesSources = await db
    .selectFrom('source')
    .select(sql<boolean>`bool_or(synthetic)`.as('synthetic'))
    .where('id', 'in', (qb) => qb.selectFrom('premises_point').select('source_id').distinct())
    .executeTakeFirstOrThrow();
  // null: no premises point at all
  if (premisesSources.synthetic !== null) {
    await upsertIndicator(db, {
      id: PREMISES_COVERAGE,
      label_fr: 'Couverture fibre (points locaux)',
      label_en: 'Fibre coverage (premises points)',
      description_fr: 'Locaux des points au statut « déployé » ÷ tous les locaux des points de la commune. Calculé par terrinum depuis les points locaux importés.',
      description_en: 'Premises of points with status "deployed" ÷ all premises of the points in the commune. Computed by terrinum from the imported premises points.',
      synthetic: premisesSources.synthetic,
    });
    await runNamedQuery(db, namedQuery('coverage_premises'), [PREMISES_COVERAGE]);
  }

  const technologies = await db
    .selectFrom('coverage_area as z')
    .innerJoin('source as s', 's.id', 'z.source_id')
    .select(['z.technology'])
    .select(sql<boolean>`bool_or(s.synthetic)`.as('synthetic'))
    .groupBy('z.technology')
    .orderBy('z.technology')
    .execute();
  // Two names with the same key (e.g. `THD radio` and `thd-radio`) are one layer.
  const layers = new Map<string, { names: string[]; synthetic: boolean }>();
  for (const t of technologies) {
    const key = technologyKey(t.technology);
    const layer = layers.get(key) ?? { names: [], synthetic: false };
    layer.names.push(t.technology);
    layer.synthetic ||= t.synthetic;
    layers.set(key, layer);
  }
  for (const [key, { names, synthetic }] of layers) {
    const name = names.join(', ');
    await upsertIndicator(db, {
      id: `coverage_area_${key}`,
      label_fr: `Surface couverte – ${name}`,
      label_en: `Area covered – ${name}`,
      description_fr: `Part de la surface de la commune dans les zones de couverture « ${name} » (surfaces sur l'ellipsoïde). Calculé par terrinum.`,
      description_en: `Share of the commune's area inside the "${name}" coverage zones (ellipsoidal areas). Computed by terrinum.`,
      synthetic,
    });
    await upsertIndicator(db, {
      id: `coverage_population_${key}`,
      label_fr: `Population couverte – ${name} (estimée)`,
      label_en: `Population covered – ${name} (estimated)`,
      description_fr: `Population supposée répartie uniformément sur la commune (pas de carroyage) : égale à la part de surface couverte, agrégée en population. Calculé par terrinum.`,
      description_en: `Population assumed evenly spread over the commune (no population grid): equal to the covered area share, aggregated by population. Computed by terrinum.`,
      synthetic,
    });
  }
  if (layers.size) {
    const mapping = [...layers].flatMap(([key, { names }]) => names.map((technology) => ({ technology, key })));
    await runNamedQuery(db, namedQuery('coverage_areas'), [JSON.stringify(mapping), OVERLAY_GRID_DEGREES]);
    // Every commune with an outline gets a row per layer and vintage (0 when uncovered). Fewer rows means the
    // overlay stopped without an error, as PGlite's PostGIS can on a GEOS failure (pglite #916): the snapped
    // overlay should not fail, but a silent gap in the data must never be stored.
    const ids = [...layers.keys()].map((key) => `coverage_area_${key}`);
    const { rows } = await sql<{ written: number; layers: number; communes: number }>`
      SELECT (SELECT count(*)::int FROM indicator_value WHERE indicator_id IN (${sql.join(ids)})) AS written,
             (SELECT count(DISTINCT (indicator_id, vintage))::int FROM indicator_value WHERE indicator_id IN (${sql.join(ids)})) AS layers,
             (SELECT count(*)::int FROM territory t JOIN level l ON l.id = t.level AND l.rank = 0 WHERE t.geom IS NOT NULL AND t.area_m2 > 0) AS communes`.execute(db);
    const check = rows[0]!;
    if (check.communes > 0 && (check.layers < layers.size || check.written !== check.layers * check.communes)) {
      throw new Error(
        `overlaying coverage zones on communes wrote ${check.written} values for ${check.layers} layers × ${check.communes} communes ` +
          '(a geometry operation failed silently in the database); nothing was written',
      );
    }
  }

  // An indicator left without any value (its inputs gone, or no commune with a population) leaves the catalogue.
  await db
    .deleteFrom('indicator')
    .where('publisher', '=', COMPUTED_PUBLISHER)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('indicator_value as v').select('v.indicator_id').whereRef('v.indicator_id', '=', 'indicator.id'))))
    .execute();
  const written = (await db.selectFrom('indicator').select('id').where('publisher', '=', COMPUTED_PUBLISHER).orderBy('id').execute()).map((i) => i.id);
  for (const id of written) await recomputeAggregates(db, id);
  return written;
}

type ComputedIndicator = Pick<Insertable<IndicatorTable>, 'id' | 'label_fr' | 'label_en' | 'description_fr' | 'description_en' | 'synthetic'>;

async function upsertIndicator(db: Db, indicator: ComputedIndicator): Promise<void> {
  const row = { ...indicator, theme: 'infrastructure', unit: 'ratio' as const, higher_is_better: true, aggregation: 'ratio_of_sums' as const, publisher: COMPUTED_PUBLISHER, licence: null };
  await db
    .insertInto('indicator')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({ label_fr: row.label_fr, label_en: row.label_en, description_fr: row.description_fr, description_en: row.description_en, synthetic: row.synthetic, publisher: row.publisher }))
    .execute();
}

/** Computed coverage indicators; their inputs (premises, zones, territories) change only when everything reruns. */
export const coverageStep: AnalysisStep = {
  name: 'coverage',
  async run(db, indicators) {
    if (indicators !== null) return;
    await recomputeCoverage(db);
  },
};
