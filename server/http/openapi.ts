import { z } from 'zod';
import { operations, problemSchema, type OperationSpec } from './validation.ts';

/**
 * The OpenAPI 3.1 document, generated from the operation registry (validation.ts) each time it is asked for, so
 * routes registered by any router, whenever, are in it. Parameter schemas are the zod schemas' input side (what a
 * client sends: strings), response schemas their output side. JSON Schema 2020-12 is OpenAPI 3.1's dialect.
 */

type JsonSchema = Record<string, unknown>;

/** Converts one schema; named sub-schemas (`.meta({ id })`) are moved to `components` and referenced. */
function toSchema(schema: z.ZodType, io: 'input' | 'output', components: Record<string, JsonSchema>): JsonSchema {
  const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
  const relink = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'));
  for (const [id, definition] of Object.entries($defs ?? {})) components[id] = relink(definition);
  return relink(rest);
}

function parameters(spec: OperationSpec, components: Record<string, JsonSchema>) {
  const list: JsonSchema[] = [];
  for (const [where, object] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!object) continue;
    for (const [name, field] of Object.entries(object.shape as Record<string, z.ZodType>)) {
      const schema = toSchema(field, 'input', components);
      const { description, ...rest } = schema;
      list.push({
        name,
        in: where,
        required: where === 'path' || !field.safeParse(undefined).success,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }
  return list;
}

function responses(spec: OperationSpec, components: Record<string, JsonSchema>) {
  const out: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    out[status] = {
      description: response.description,
      ...(response.content
        ? { content: Object.fromEntries(Object.entries(response.content).map(([type, schema]) => [type, schema ? { schema: toSchema(schema, 'output', components) } : {}])) }
        : {}),
    };
  }
  const problem = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  out['4XX'] ??= { description: 'Bad request: the problem names the parameter at fault (`parameter`).', ...problem };
  out['5XX'] ??= { description: 'Server error (details in the server log).', ...problem };
  return out;
}

/** OpenAPI path of an operation: the spec's path, with `{name}` parameters as OpenAPI writes them. */
export function openApiDocument(options: { version: string; serverUrl?: string }): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  toSchema(problemSchema, 'output', components);
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const spec of operations()) {
    spec.tags.forEach((t) => tags.add(t));
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method] = {
      operationId: spec.operationId,
      tags: spec.tags,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      parameters: parameters(spec, components),
      responses: responses(spec, components),
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'terrinum API',
      version: options.version,
      summary: 'Déploiement de la fibre et usages numériques, par commune, EPCI, département et région.',
      description:
        'API de terrinum : indicateurs (valeurs, numérateurs, dénominateurs, millésimes, sources), analyses (disparités, ' +
        'clusters LISA, tendances, accès à la médiation numérique), recherche de territoires, tuiles vectorielles, OGC API – ' +
        'Features et exports. Toute erreur de requête est une réponse application/problem+json (RFC 9457) qui nomme le ' +
        'paramètre en cause.\n\nterrinum API: fibre deployment and digital usage by commune, EPCI, département and région. ' +
        'Every request error is an application/problem+json answer naming the parameter at fault.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: [...tags].map((name) => ({ name })),
    paths,
    components: { schemas: components },
  };
}
