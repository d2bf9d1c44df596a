import type { Kysely, Transaction } from 'kysely';
import { recomputeAllAggregates } from '../analysis/aggregate.ts';
import { recomputeAnalysis } from '../analysis/recompute.ts';
import { runNamedQuery } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { namedQuery } from '../db/sql-files.ts';
import { generateDemo } from './generate.ts';
import type { DemoDataset } from './types.ts';

export const DEMO_SOURCE_NAME = 'Territoire de démonstration (données synthétiques)';

type Db = Kysely<DB> | Transaction<DB>;

/** True when the database holds no territory at all: the zero-config start loads the demo then. */
export async function isEmpty(db: Db): Promise<boolean> {
  const row = await db.selectFrom('territory').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n) === 0;
}

/** Loads the synthetic demonstration territory in one transaction; returns the dataset loaded. */
export async function loadDemo(db: Kysely<DB>, dataset: DemoDataset = generateDemo()): Promise<DemoDataset> {
  await db.transaction().execute(async (trx) => {
    const source = await trx
      .insertInto('source')
      .values({
        kind: 'demo',
        name: DEMO_SOURCE_NAME,
        file_name: null,
        sha256: null,
        rows: dataset.communes.length,
        vintage: dataset.quarters.at(-1) ?? null,
        publisher: 'terrinum (générateur déterministe, graine ' + dataset.seed + ')',
        licence: 'Données synthétiques, libres de droits',
        url: null,
        synthetic: true,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await writeTerritories(trx, dataset, source.id);
    await writeIndicators(trx, dataset, source.id);
    await runNamedQuery(trx, namedQuery('insert_places'), [JSON.stringify(dataset.places), source.id, true]);
    await runNamedQuery(trx, namedQuery('insert_premises'), [JSON.stringify(dataset.premises), source.id]);
    await runNamedQuery(trx, namedQuery('insert_coverage_areas'), [
      JSON.stringify(dataset.coverage.map((c) => ({ technology: c.technology, max_down_mbps: c.maxDownMbps, geometry: c.geometry }))),
      source.id,
    ]);
    await recomputeAllAggregates(trx);
    await recomputeAnalysis(trx);
  });
  return dataset;
}

async function writeTerritories(trx: Transaction<DB>, dataset: DemoDataset, sourceId: number): Promise<void> {
  const vintage = dataset.quarters.at(-1)?.slice(0, 4) ?? null;
  const upsert = (level: string, rows: object[]) =>
    runNamedQuery(trx, namedQuery('upsert_territories'), [JSON.stringify(rows), level, sourceId, vintage, true]);
  const totalPopulation = (codes: (c: DemoDataset['communes'][number]) => boolean) =>
    dataset.communes.filter(codes).reduce((sum, c) => sum + c.population, 0);
  await upsert(
    'commune',
    dataset.communes.map((c) => ({ code: c.code, name: c.name, population: c.population, geometry: c.geometry })),
  );
  await upsert('epci', dataset.epcis.map((e) => ({ ...e, population: totalPopulation((c) => c.epci === e.code), geometry: null })));
  await upsert('departement', [{ ...dataset.departement, population: totalPopulation(() => true), geometry: null }]);
  await upsert('region', [{ ...dataset.region, population: totalPopulation(() => true), geometry: null }]);
  const memberships = dataset.communes.flatMap((c) => [
    { level: 'epci', code: c.epci, commune: c.code },
    { level: 'departement', code: dataset.departement.code, commune: c.code },
    { level: 'region', code: dataset.region.code, commune: c.code },
  ]);
  await runNamedQuery(trx, namedQuery('upsert_memberships'), [JSON.stringify(memberships)]);
  await runNamedQuery(trx, namedQuery('dissolve_territories'));
}

async function writeIndicators(trx: Transaction<DB>, dataset: DemoDataset, sourceId: number): Promise<void> {
  const premises = new Map(dataset.communes.map((c) => [c.code, c.logements + c.etablissements]));
  const coverage = dataset.deployments.map((d) => ({
    code: d.commune,
    vintage: d.vintage,
    numerator: d.locauxRaccordables,
    denominator: premises.get(d.commune) ?? null,
  }));
  await runNamedQuery(trx, namedQuery('upsert_indicator_values'), ['fibre_coverage', JSON.stringify(coverage), sourceId]);
  for (const indicator of dataset.usageIndicators) {
    await trx
      .insertInto('indicator')
      .values({
        id: indicator.id,
        label_fr: indicator.labelFr,
        label_en: indicator.labelEn,
        theme: indicator.theme,
        unit: indicator.unit,
        description_fr: indicator.descriptionFr,
        description_en: indicator.descriptionEn,
        higher_is_better: indicator.higherIsBetter,
        aggregation: indicator.values.every((v) => v.numerator !== null && v.denominator !== null) ? 'ratio_of_sums' : 'population_weighted_mean',
        publisher: 'terrinum (synthétique)',
        licence: 'Données synthétiques',
        synthetic: true,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const values = indicator.values.map((v) => ({ code: v.commune, vintage: v.vintage, value: v.value, numerator: v.numerator, denominator: v.denominator }));
    await runNamedQuery(trx, namedQuery('upsert_indicator_values'), [indicator.id, JSON.stringify(values), sourceId]);
  }
}
