import { Validator } from '@seriousme/openapi-schema-validator';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schemas from '../server/http/api.schemas.ts';
import { operation, operations } from '../server/http/validation.ts';
import type { Running } from '../server/main.ts';
import { backends } from './helpers/db.ts';
import { getJson, startDemoServer } from './helpers/server.ts';

describe.each(backends())('OpenAPI document and docs page on %s', (backend) => {
  let app: Running;
  beforeAll(async () => {
    app = await startDemoServer(backend);
  });
  afterAll(() => app?.close());

  it('is a valid OpenAPI 3.1 document whose references all resolve', async () => {
    const { status, body } = await getJson(app, '/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // every $ref points into components
    const refs = [...JSON.stringify(body).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(body.components.schemas).toHaveProperty(ref);
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('lists every registered operation, its path parameters and its problem answers', async () => {
    const { body } = await getJson(app, '/api/openapi.json');
    const registered = operations();
    expect(registered.length).toBeGreaterThanOrEqual(12);
    const ids = new Set<string>();
    for (const spec of registered) {
      const documented = body.paths[spec.path]?.[spec.method];
      expect(documented, `${spec.method} ${spec.path}`).toBeDefined();
      expect(documented.operationId).toBe(spec.operationId);
      expect(ids.has(spec.operationId), `duplicate operationId ${spec.operationId}`).toBe(false);
      ids.add(spec.operationId);
      const inPath = [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(documented.parameters.filter((p: any) => p.in === 'path').map((p: any) => p.name).sort()).toEqual(inPath.sort());
      expect(documented.responses['4XX'].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
    }
    // the stats operation documents its filters with their descriptions and patterns
    const stats = body.paths['/api/stats/{level}'].get.parameters;
    expect(stats.find((p: any) => p.name === 'indicator')).toMatchObject({ in: 'query', required: true });
    expect(stats.find((p: any) => p.name === 'bbox')).toMatchObject({ in: 'query', required: false, description: expect.stringContaining('minLon') });
    expect(stats.find((p: any) => p.name === 'vintage').schema.pattern).toBeDefined();
  });

  it('is generated when asked for: an operation registered later is in it', async () => {
    operation({ method: 'get', path: '/api/late-registered-probe', operationId: 'lateProbe', tags: ['meta'], summary: 'Registered after start', responses: { '200': { description: 'ok' } } });
    const { body } = await getJson(app, '/api/openapi.json');
    expect(body.paths['/api/late-registered-probe'].get.operationId).toBe('lateProbe');
    const validator = new Validator();
    expect((await validator.validate(body)).valid).toBe(true);
  });

  it('documents what the server answers: real answers parse with the response schemas', async () => {
    const cases: [string, z.ZodType][] = [
      ['/api/health', schemas.healthResponse],
      ['/api/meta', schemas.metaResponse],
      ['/api/indicators', schemas.indicatorsResponse],
      ['/api/stats/commune?indicator=fibre_coverage&y=ftth_takeup', schemas.statsResponse],
      ['/api/stats/epci?indicator=fibre_coverage&y=ftth_takeup', schemas.statsResponse],
      ['/api/multispeed?indicator=fibre_coverage', schemas.multispeedResponse],
      ['/api/bivariate/commune?x=fibre_coverage&y=ftth_takeup', schemas.bivariateResponse],
      ['/api/access/epci', schemas.accessResponse],
      ['/api/geometries/epci', schemas.geometriesResponse],
      ['/api/territories/commune/X0001', schemas.territoryResponse],
      ['/api/territories/epci/XE01', schemas.territoryResponse],
      ['/api/search?q=be', schemas.searchResponse],
      ['/api/sources', schemas.sourcesResponse],
    ];
    for (const [path, schema] of cases) {
      const { status, body } = await getJson(app, path);
      expect(status, path).toBe(200);
      const parsed = schema.safeParse(body);
      expect(parsed.success ? [] : parsed.error.issues.slice(0, 3), path).toEqual([]);
    }
  });

  it('serves a French docs page that needs nothing but this server', async () => {
    const response = await fetch(new URL('/api/docs', app.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toMatch(/<html lang="fr">/);
    expect(html).toMatch(/documentation de l’API/);
    // no absolute URL to load: every script and stylesheet comes from here
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
    expect(assets.filter((u) => /^[a-z]+:|^\/\//i.test(u))).toEqual([]);
    for (const asset of assets) {
      const url = new URL(asset, new URL('/api/docs', app.url));
      const answer = await fetch(url);
      expect(answer.status, url.pathname).toBe(200);
      await answer.arrayBuffer();
    }
    const init = await (await fetch(new URL('/api/docs/init.js', app.url))).text();
    expect(init).toMatch(/validatorUrl: null/);
    // /api/docs/ would break the page's relative links: redirected
    const slash = await fetch(new URL('/api/docs/', app.url), { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('/api/docs');
  });
});
