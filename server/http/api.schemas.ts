import { z } from 'zod';
import { text } from './validation.ts';

/**
 * Request and response schemas of the JSON API (api.routes.ts). Response schemas document the answers in the
 * OpenAPI document; tests parse real answers with them, so they describe what the server sends.
 */

// ---- Request pieces -------------------------------------------------------------------------------------------

/** A required single-valued parameter, with an example in the message when it is missing. */
export const required = (example: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `is required, e.g. ${example}` : 'must be given once, as a plain value') });

/**
 * An indicator id as a query value. Not pattern-checked: an id that is not in the catalogue is a 404 naming the
 * parameter, whatever it looks like.
 */
export const indicatorName = (parameter: string) =>
  required(`${parameter}=fibre_coverage`).max(100, 'must be at most 100 characters').meta({ description: 'Indicator id (see /api/indicators), e.g. fibre_coverage.' });

export const thresholdsParam = text()
  .max(200, 'must be at most 200 characters')
  .meta({ description: 'Fixed class limits "x1,x2;y1,y2" in each indicator’s own units (terciles when absent).' });

/** `levels=commune,epci` */
export const levelsParam = text()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'each level must be a level id such as commune or epci')).min(1, 'must list at least one level').max(20, 'at most 20 levels'))
  .meta({ description: 'Comma-separated levels to search (all when absent), e.g. commune,epci.' });

export const searchLimitParam = text()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().min(1, 'must be at least 1').max(50, 'must be at most 50'))
  .meta({ description: 'Number of results (1–50, default 10).' });

export const codeParam = text().min(1, 'must not be empty').max(20, 'must be at most 20 characters').meta({ description: 'Territory code: INSEE (commune, département, région) or SIREN (EPCI).' });

// ---- Responses ------------------------------------------------------------------------------------------------

const num = z.number().nullable();
const labels = z.object({ fr: z.string(), en: z.string() });
const bbox = z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable().meta({ description: 'minLon, minLat, maxLon, maxLat (WGS84).' });

export const healthResponse = z.object({
  status: z.literal('ok'),
  database: z.object({ backend: z.enum(['embedded', 'postgis']), postgis: z.string() }),
});

export const metaResponse = z.object({
  name: z.string(),
  synthetic: z.boolean(),
  attribution: z.array(z.string()),
  bbox,
  basemapStyle: z.string().nullable(),
  levels: z.array(z.object({ id: z.string(), label: labels })),
});

export const indicatorsResponse = z.array(
  z.object({
    id: z.string(),
    label: labels,
    theme: z.string(),
    theme_label: labels,
    unit: z.enum(['ratio', 'index', 'count', 'metres']),
    higher_is_better: z.boolean(),
    aggregation: z.string(),
    description: z.object({ fr: z.string().nullable(), en: z.string().nullable() }),
    publisher: z.string().nullable(),
    licence: z.string().nullable(),
    synthetic: z.boolean(),
    vintages: z.array(z.string()),
  }),
);

const lisaClass = z.enum(['HH', 'LL', 'HL', 'LH', 'ns', 'island']).nullable();
const typology = z.enum(['connecte', 'fracture-usage', 'fracture-infrastructure', 'double-fracture']);

export const statsRow = z
  .object({
    code: z.string(),
    name: z.string(),
    value: num,
    display_value: num.meta({ description: 'value, capped at 1 for ratios (ARCEP counts can exceed 100 %).' }),
    numerator: num,
    denominator: num,
    communes: z.number().meta({ description: 'Member communes with a value.' }),
    communes_expected: z.number(),
    partial: z.boolean(),
    vintage: z.string(),
    trend_per_quarter: num,
    projected_full: z.string().nullable(),
    distance_m: num.meta({ description: 'Distance to the nearest mediation place (communes), population-weighted mean above.' }),
    lisa_i: num.optional().meta({ description: 'Communes only.' }),
    lisa_p: num.optional(),
    lisa_class: lisaClass.optional(),
    gini: num.optional().meta({ description: 'Coarser levels only: disparity of member communes.' }),
    theil: num.optional(),
    cv: num.optional(),
    interdecile_ratio: num.optional(),
    share_population_below: num.optional(),
    multispeed: z.boolean().nullable().optional(),
    share_population_beyond_10km: num.optional().meta({ description: 'Coarser levels only.' }),
    share_population_beyond_20km: num.optional(),
    y: num.optional().meta({ description: 'With y=: the y indicator’s value, and the bivariate class of the territory (null when it has no pair of values).' }),
    y_vintage: z.string().nullable().optional(),
    x_class: z.number().nullable().optional(),
    y_class: z.number().nullable().optional(),
    bivariate_class: z.string().nullable().optional(),
    typology: typology.nullable().optional(),
    gap: num.optional(),
  })
  .meta({ id: 'StatsRow' });

/** The fields a stats row can carry, in the order they are documented (fields= picks among them). */
export const STATS_FIELDS = Object.keys(statsRow.shape) as (keyof typeof statsRow.shape)[];

/** `fields=code,name,value`: the row fields to send; `code` always is. */
export const statsFieldsParam = z
  .string({ error: 'must be given once, as a plain value' })
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.enum(STATS_FIELDS, { error: (issue) => `each field must be one of ${STATS_FIELDS.join(', ')}${typeof issue.input === 'string' ? `, got "${issue.input.slice(0, 40)}"` : ''}` }))
      .min(1, 'must list at least one field')
      .max(STATS_FIELDS.length, `at most ${STATS_FIELDS.length} fields`),
  )
  .meta({
    description:
      'Comma-separated row fields to send (code always is; a field the level does not carry is left out), e.g. code,name,value,numerator,denominator. Default: every field. Clients drawing a map ask for the few they show: national answers shrink several times.',
  });

export const statsResponse = z.object({
  level: z.string(),
  indicator: z.string(),
  vintage: z.string(),
  y: z.string().optional(),
  synthetic: z.boolean(),
  total: z.number(),
  rows: z.array(statsRow),
});

export const multispeedResponse = z.object({
  level: z.string(),
  indicator: z.string(),
  vintage: z.string(),
  /** X in points: the threshold of share_population_below (the stored one unless threshold= asked another). */
  threshold: z.number(),
  rule: z.object({ minSharePopulationBelow: z.number(), minGini: z.number() }).loose(),
  total: z.number(),
  rows: z.array(
    z
      .object({
        code: z.string(),
        name: z.string(),
        value: num,
        gini: num,
        theil: num,
        cv: num,
        interdecile_ratio: num,
        share_population_below: num,
        threshold_points: z.number(),
        multispeed: z.boolean(),
        rank: z.number().nullable(),
        partial: z.boolean(),
        communes: z.number(),
        communes_expected: z.number(),
      })
      .loose(),
  ),
});

export const bivariateResponse = z.object({
  level: z.string(),
  x: z.string(),
  y: z.string(),
  vintage: z.string(),
  total: z.number(),
  rows: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      x: z.number(),
      y: z.number(),
      x_vintage: z.string(),
      y_vintage: z.string(),
      x_class: z.number(),
      y_class: z.number(),
      bivariate_class: z.string(),
      typology,
      gap: z.number(),
    }),
  ),
});

export const accessResponse = z.object({
  level: z.string(),
  total: z.number(),
  rows: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      distance_m: num,
      share_population_beyond_10km: num,
      share_population_beyond_20km: num,
      origin: z.string().nullable(),
      nearest_place: z.string().nullable(),
    }),
  ),
});

export const geometriesResponse = z
  .object({
    type: z.literal('FeatureCollection'),
    features: z.array(
      z.object({
        type: z.literal('Feature'),
        properties: z.object({ code: z.string(), name: z.string() }),
        geometry: z.object({ type: z.string(), coordinates: z.array(z.unknown()) }),
      }),
    ),
  })
  .meta({ description: 'GeoJSON FeatureCollection (RFC 7946, WGS84).' });

const source = z.object({
  id: z.number(),
  kind: z.string(),
  name: z.string(),
  publisher: z.string().nullable(),
  licence: z.string().nullable(),
  vintage: z.string().nullable(),
  url: z.string().nullable(),
  synthetic: z.boolean(),
});

export const sourcesResponse = z.array(source.extend({ file_name: z.string().nullable(), sha256: z.string().nullable(), rows: z.number().nullable() }).loose());

export const searchResponse = z.object({
  q: z.string(),
  results: z.array(
    z.object({
      level: z.string(),
      code: z.string(),
      name: z.string(),
      population: z.number().nullable(),
      match: z.enum(['code', 'postal_code', 'name', 'prefix', 'word', 'similar']).meta({ description: 'Best first: code or postal code, whole name, name prefix, word prefix, similar (trigrams).' }),
      score: z.number(),
      departement: z.object({ code: z.string(), name: z.string() }).nullable(),
      postal_codes: z.array(z.string()),
      bbox,
    }),
  ),
});

const ranked = z.object({ rank: z.number(), of: z.number() });

export const territoryResponse = z.object({
  level: z.string(),
  level_label: labels,
  code: z.string(),
  name: z.string(),
  population: z.number().nullable(),
  population_vintage: z.string().nullable(),
  area_m2: num,
  synthetic: z.boolean(),
  bbox,
  parents: z.array(z.object({ level: z.string(), code: z.string(), name: z.string(), communes: z.number().meta({ description: 'How many of this territory’s communes it holds.' }) })),
  members: z.object({ count: z.number(), communes: z.array(z.object({ code: z.string(), name: z.string(), population: z.number().nullable() })) }).nullable(),
  neighbours: z.array(z.object({ code: z.string(), name: z.string() })),
  indicators: z.array(
    z.object({
      id: z.string(),
      label: labels,
      theme: z.string(),
      unit: z.string(),
      higher_is_better: z.boolean(),
      synthetic: z.boolean(),
      latest_vintage: z.string().nullable(),
      values: z.array(
        z.object({
          vintage: z.string(),
          value: num,
          display_value: num,
          numerator: num,
          denominator: num,
          communes: z.number(),
          communes_expected: z.number(),
          partial: z.boolean(),
          source_ids: z.array(z.number()),
        }),
      ),
      rank: z
        .object({
          vintage: z.string(),
          national: ranked,
          parent: ranked.extend({ level: z.string(), code: z.string(), name: z.string() }).nullable(),
        })
        .nullable()
        .meta({ description: 'Rank at the latest vintage (1 = best) among the territories of the level with a value.' }),
    }),
  ),
  disparity: z.array(z.object({ indicator: z.string(), vintage: z.string(), gini: num, theil: num, cv: num, interdecile_ratio: num, share_population_below: num, multispeed: z.boolean() }).loose()),
  lisa: z.array(z.object({ indicator: z.string(), vintage: z.string(), lisa_i: num, lisa_p: num, lisa_class: lisaClass, neighbours: z.number() })),
  trend: z.array(z.object({ indicator: z.string(), vintage: z.string(), trend_per_quarter: num, quarters_used: z.number(), projected_full: z.string().nullable() })),
  access: z
    .object({
      distance_m: num,
      share_population_beyond_10km: num,
      share_population_beyond_20km: num,
      origin: z.string(),
      nearest_place: z.string().nullable(),
      nearest_place_kind: z.string().nullable(),
    })
    .nullable(),
  sources: z.array(source.extend({ imported_at: z.string() })),
});
