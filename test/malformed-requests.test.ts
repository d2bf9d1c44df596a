/**
 * A corpus of malformed requests against every operation in the registry (so routes added later are covered
 * without touching this file): every path and query parameter gets empty, repeated, very long, unicode, NUL,
 * SQL-injection, numeric-edge and wrong-typed values. No answer may be a 5xx; every 4xx is a problem+json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { start, type Running } from '../server/main.ts';
import { operations, type OperationSpec } from '../server/http/validation.ts';
import { backends, openDemoDatabase } from './helpers/db.ts';

/** Values that make a request well-formed on the demo territory, by parameter name (path first, then query). */
const PATH_SAMPLES: Record<string, string> = {
  level: 'epci',
  code: 'XE01',
  layer: 'commune',
  z: '8',
  x: '131',
  y: '90',
  format: 'csv',
  collectionId: 'commune',
  featureId: 'X0001',
};
const QUERY_SAMPLES: Record<string, string> = { indicator: 'fibre_coverage', x: 'fibre_coverage', y: 'ftth_takeup', q: 'laon', indicators: 'fibre_coverage' };

/** Raw (already URL-encoded) malformed values. */
const MALFORMED: [string, string][] = [
  ['empty', ''],
  ['10k characters', 'a'.repeat(10_000)],
  ['10k digits', '9'.repeat(10_000)],
  ['emoji', encodeURIComponent('🙂💥ñ漢字')],
  ['right-to-left override', encodeURIComponent('\u202eabc')],
  ['NUL', 'a%00b'],
  ['lone NUL', '%00'],
  ['invalid UTF-8', '%FF%FE'],
  ['broken escape', '%E0%A4%A'],
  ['SQL injection', encodeURIComponent("' OR '1'='1' --")],
  ['SQL statement', encodeURIComponent('1; DROP TABLE territory; --')],
  ['LIKE wildcards', encodeURIComponent('%_%\\')],
  ['negative', '-1'],
  ['huge', '99999999999999999999999999'],
  ['overflow', '1e309'],
  ['NaN', 'NaN'],
  ['decimal', '1.5'],
  ['hex', '0x10'],
  ['JSON object', encodeURIComponent('{"a":1}')],
  ['JSON array', encodeURIComponent('[1,2]')],
  ['boolean', 'true'],
  ['commas', encodeURIComponent(',,,a,,')],
  ['path traversal', encodeURIComponent('../../etc/passwd')],
  ['HTML', encodeURIComponent('<script>alert(1)</script>')],
];

const UNKNOWN_PATHS = [
  '/api/nothing',
  '/api/stats',
  '/api/stats/',
  '/api/stats/commune/extra',
  '/api/%FF',
  '/api/..%2F..%2Fpackage.json',
  '/api/territories/commune',
  '/tiles/nothing',
  '/tiles/commune/1/2',
  '/ogc/nothing',
  '/ogc/collections/nothing/items/nothing/more',
  '/%00',
  `/api/${'x'.repeat(8_000)}`,
  '/api/stats/commune?indicator[]=fibre_coverage',
  '/api/stats/commune?indicator[a]=1',
];

interface Probe {
  label: string;
  path: string;
}

function queryFields(spec: OperationSpec): string[] {
  return Object.keys(spec.query?.shape ?? {});
}

function pathFields(spec: OperationSpec): string[] {
  return [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

function requiredQuery(spec: OperationSpec): string[] {
  const shape = (spec.query?.shape ?? {}) as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  return Object.keys(shape).filter((name) => !shape[name]!.safeParse(undefined).success);
}

function buildPath(spec: OperationSpec, path: Record<string, string>, query: [string, string][]): string {
  const filled = spec.path.replace(/\{(\w+)\}/g, (_m, name: string) => path[name]!);
  const search = query.map(([k, v]) => `${k}=${v}`).join('&');
  return search ? `${filled}?${search}` : filled;
}

/** The requests for one operation: each parameter malformed in turn, the others well-formed. */
function probes(spec: OperationSpec): Probe[] {
  const basePath = Object.fromEntries(pathFields(spec).map((name) => [name, encodeURIComponent(PATH_SAMPLES[name] ?? 'x')]));
  const baseQuery: [string, string][] = requiredQuery(spec).map((name) => [name, QUERY_SAMPLES[name] ?? 'x']);
  const list: Probe[] = [{ label: 'well-formed', path: buildPath(spec, basePath, baseQuery) }];
  for (const name of pathFields(spec)) {
    for (const [label, value] of MALFORMED) {
      if (value === '') continue; // an empty path segment is another route: covered by UNKNOWN_PATHS
      list.push({ label: `path ${name}: ${label}`, path: buildPath(spec, { ...basePath, [name]: value }, baseQuery) });
    }
  }
  for (const name of queryFields(spec)) {
    const others = baseQuery.filter(([k]) => k !== name);
    for (const [label, value] of MALFORMED) list.push({ label: `query ${name}: ${label}`, path: buildPath(spec, basePath, [...others, [name, value]]) });
    list.push({ label: `query ${name}: repeated`, path: buildPath(spec, basePath, [...others, [name, '1'], [name, '2']]) });
    list.push({ label: `query ${name}: nested`, path: buildPath(spec, basePath, [...others, [`${name}[a]`, '1']]) });
  }
  return list;
}

interface Answer {
  label: string;
  path: string;
  status: number;
  type: string | null;
  body: string;
}

async function send(running: Running, probe: Probe): Promise<Answer> {
  try {
    // the path goes to the server as written (a malformed escape stays malformed)
    const response = await fetch(running.url.replace(/\/$/, '') + probe.path, { redirect: 'manual' });
    const body = await response.text();
    return { ...probe, status: response.status, type: response.headers.get('content-type'), body };
  } catch (error) {
    // a connection cut mid-answer is a server failure too
    return { ...probe, status: 599, type: null, body: `transport error: ${(error as Error).cause ?? (error as Error).message}` };
  }
}

/** Runs probes a few at a time (the embedded backend answers one query at a time anyway). */
async function sendAll(running: Running, list: Probe[], concurrency = 4): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) answers.push(await send(running, list[next++]!));
    }),
  );
  return answers;
}

function isProblem(answer: Answer): boolean {
  if (!/application\/problem\+json/.test(answer.type ?? '')) return false;
  try {
    return JSON.parse(answer.body).status === answer.status;
  } catch {
    return false;
  }
}

function faults(answers: Answer[]): string[] {
  return answers
    .filter((a) => a.status >= 500 || (a.status >= 400 && !isProblem(a)))
    .map((a) => `${a.status} ${a.label} ${a.path.slice(0, 160)} → ${a.type} ${a.body.slice(0, 240)}`);
}

describe.each(backends())('malformed requests on %s', (backend) => {
  let app: Running;
  beforeAll(async () => {
    // exports unthrottled here: the corpus must reach the export routes' own validation
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TERRINUM_DATA_DIR: 'memory://', TERRINUM_EXPORT_RATE_LIMIT: '0' });
    app = await start(config, { database: await openDemoDatabase(backend) });
  });
  afterAll(() => app?.close());

  it('covers every registered operation', () => {
    expect(operations().length).toBeGreaterThanOrEqual(12);
  });

  it.each(operations().map((spec) => [`${spec.method.toUpperCase()} ${spec.path}`, spec] as const))('%s: no 5xx, every 4xx a problem', { timeout: 300_000 }, async (_name, spec) => {
    const answers = await sendAll(app, probes(spec));
    expect(faults(answers)).toEqual([]);
    // the corpus does reach validation: most malformed values are refused
    expect(answers.some((a) => a.status >= 400)).toBe(queryFields(spec).length + pathFields(spec).length > 0);
  });

  it('unknown and mangled paths: 4xx problems', async () => {
    const answers = await sendAll(app, UNKNOWN_PATHS.map((path) => ({ label: 'unknown path', path })));
    expect(faults(answers)).toEqual([]);
    for (const answer of answers) expect(answer.status, answer.path).toBeGreaterThanOrEqual(400);
  });
});
