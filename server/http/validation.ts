import type { Request } from 'express';
import { z } from 'zod';
import { HttpError } from './errors.ts';

/**
 * One description per HTTP operation: the zod schemas here both validate requests and generate the OpenAPI
 * document (`openapi.ts`), so the documentation cannot drift from what the server accepts.
 */
export interface OperationSpec<P extends z.ZodObject = z.ZodObject, Q extends z.ZodObject = z.ZodObject> {
  method: 'get';
  /** OpenAPI path, e.g. `/api/stats/{level}`. */
  path: string;
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  /** Media types of the 200 answer, with an optional schema each. */
  responses: Record<string, { description: string; content?: Record<string, z.ZodType | null> }>;
}

const registry: OperationSpec[] = [];

/** All operations defined so far, in definition order (for the OpenAPI document). */
export function operations(): readonly OperationSpec[] {
  return registry;
}

export interface Operation<P extends z.ZodObject, Q extends z.ZodObject> {
  spec: OperationSpec<P, Q>;
  /** Validated path parameters; a bad one is a 400 naming it. */
  params(req: Request): z.output<P>;
  /** Validated query parameters; a repeated, unknown-typed or malformed one is a 400 naming it. */
  query(req: Request): z.output<Q>;
}

/** Registers an operation and returns its request parsers. */
export function operation<P extends z.ZodObject = z.ZodObject<{}>, Q extends z.ZodObject = z.ZodObject<{}>>(spec: OperationSpec<P, Q>): Operation<P, Q> {
  if (!registry.some((s) => s.method === spec.method && s.path === spec.path)) registry.push(spec as unknown as OperationSpec);
  return {
    spec,
    params: (req) => parse(spec.params ?? z.object({}), req.params, 'path'),
    query: (req) => {
      const schema = spec.query ?? z.object({});
      return parse(schema, knownQuery(req.query as Record<string, unknown>, Object.keys(schema.shape)), 'query');
    },
  } as Operation<P, Q>;
}

/**
 * The query as the schemas read it: a parameter given empty (`within=`, as forms send them) counts as absent, and an
 * unknown one is a 400 naming it — a misspelt `vintge=` must not silently answer the latest vintage.
 */
function knownQuery(query: Record<string, unknown> | undefined, known: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query ?? {})) {
    if (!known.includes(key)) {
      throw new HttpError(400, 'unknown-parameter', `unknown query parameter "${key.slice(0, 40)}"; known: ${known.join(', ') || 'none'}`, key.slice(0, 40));
    }
    if (value !== '') kept[key] = value;
  }
  return kept;
}

function parse<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const parameter = issue.path.length ? String(issue.path[0]) : undefined;
  const value = parameter !== undefined ? (input as Record<string, unknown>)?.[parameter] : undefined;
  const shown = Array.isArray(value) ? ' (given more than once)' : value !== undefined && typeof value !== 'object' ? ` (got "${String(value).slice(0, 80)}")` : '';
  throw new HttpError(400, 'invalid-parameter', `${where} parameter ${parameter ?? ''}: ${issue.message}${shown}`.trim(), parameter);
}

// ---- Reusable parameter schemas ---------------------------------------------------------------------------

/** A single plain string (Express gives arrays for repeated parameters: those are refused). */
export const text = () => z.string({ error: 'must be given once, as a plain value' });

export const levelParam = text().regex(/^[a-z][a-z0-9_-]*$/, 'must be a level id such as commune, epci, departement, region').meta({ description: 'Level id: commune, epci, departement, region.' });

export const indicatorParam = text().regex(/^[a-z][a-z0-9_]*$/, 'must be an indicator id such as fibre_coverage').meta({ description: 'Indicator id (see /api/indicators), e.g. fibre_coverage.' });

/** `indicators=a,b,c` (comma-separated ids). */
export const indicatorsParam = text()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'each indicator must be an id such as fibre_coverage')).max(50, 'at most 50 indicators'))
  .meta({ description: 'Comma-separated indicator ids, e.g. fibre_coverage,ifn_score.' });

export const vintageParam = text()
  .regex(/^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$/, 'must be written YYYY, YYYY-Qn or YYYY-MM (e.g. 2018-Q1)')
  .meta({ description: 'Vintage: YYYY, YYYY-Qn or YYYY-MM; latest when absent.' });

export const withinParam = text()
  .regex(/^[a-z][a-z0-9_-]*:.+$/, 'must be LEVEL:CODE (e.g. epci:200043495)')
  .meta({ description: 'Restrict to one territory: LEVEL:CODE, e.g. epci:200043495 or departement:02.' });

/** `bbox=minLon,minLat,maxLon,maxLat` in WGS84. */
export const bboxParam = text()
  .transform((s, ctx) => {
    const parts = s.split(',').map(Number);
    if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
      ctx.addIssue({ code: 'custom', message: 'must be minLon,minLat,maxLon,maxLat (four numbers)' });
      return z.NEVER;
    }
    const [minX, minY, maxX, maxY] = parts as [number, number, number, number];
    if (minX < -180 || maxX > 180 || minY < -90 || maxY > 90 || minX > maxX || minY > maxY) {
      ctx.addIssue({ code: 'custom', message: 'must be minLon,minLat,maxLon,maxLat in degrees with min ≤ max' });
      return z.NEVER;
    }
    return parts as [number, number, number, number];
  })
  .meta({ description: 'Bounding box minLon,minLat,maxLon,maxLat (WGS84).' });

/** `codes=02408,02691` */
export const codesParam = text()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().max(20)).min(1, 'must list at least one code').max(5000, 'at most 5000 codes'))
  .meta({ description: 'Comma-separated territory codes (INSEE, SIREN…).' });

const wholeNumber = (min: number, max: number) =>
  text()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const limitParam = wholeNumber(1, 100_000).meta({ description: 'Page size.' });
export const offsetParam = wholeNumber(0, Number.MAX_SAFE_INTEGER).meta({ description: 'Rows to skip.' });
export const sortParam = text().regex(/^-?[a-z_0-9]+$/, 'must be a field name, optionally prefixed with -').meta({ description: 'Sort field; prefix with - for descending.' });

/** Query fields shared by the paged JSON lists. */
export const pagingQuery = { limit: limitParam.optional(), offset: offsetParam.optional(), sort: sortParam.optional() };

/** A problem+json answer, for the OpenAPI document. */
export const problemSchema = z
  .object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string(), parameter: z.string().optional(), instance: z.string() })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; `parameter` names the request parameter at fault.' });
