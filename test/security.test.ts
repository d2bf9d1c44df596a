import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.ts';
import { start, type Running } from '../server/main.ts';
import { backends, openDemoDatabase } from './helpers/db.ts';

describe('security settings', () => {
  it('frame ancestors: default self; keywords with or without quotes; host sources; invalid ones refused', () => {
    expect(loadConfig({}).frameAncestors).toEqual(["'self'"]);
    expect(loadConfig({ TERRINUM_FRAME_ANCESTORS: "self https://www.ville-laon.fr, https://*.aisne.fr  http://localhost:8080" }).frameAncestors).toEqual([
      "'self'",
      'https://www.ville-laon.fr',
      'https://*.aisne.fr',
      'http://localhost:8080',
    ]);
    expect(loadConfig({ TERRINUM_FRAME_ANCESTORS: "'none'" }).frameAncestors).toEqual(["'none'"]);
    expect(loadConfig({ TERRINUM_FRAME_ANCESTORS: '*' }).frameAncestors).toEqual(['*']);
    for (const bad of ["'none' https://a.fr", 'https://a.fr/path', 'javascript:alert(1)', "https://a.fr'; script-src *"]) {
      expect(() => loadConfig({ TERRINUM_FRAME_ANCESTORS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TERRINUM_FRAME_ANCESTORS: bad })).toThrow(/TERRINUM_FRAME_ANCESTORS/);
    }
  });

  it('CORS origins: default none; * alone; exact origins, normalised; anything else refused', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ TERRINUM_CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ TERRINUM_CORS_ORIGINS: 'https://www.ville-laon.fr, http://localhost:8080/' }).corsOrigins).toEqual(['https://www.ville-laon.fr', 'http://localhost:8080']);
    for (const bad of ['* https://a.fr', 'https://a.fr/carte', 'ftp://a.fr', 'www.a.fr', 'https://a.fr?x=1']) {
      expect(() => loadConfig({ TERRINUM_CORS_ORIGINS: bad }), bad).toThrow(/TERRINUM_CORS_ORIGINS/);
    }
  });

  it('export rate limit: default 30 a minute, 0 for none, whole numbers only', () => {
    expect(loadConfig({}).exportRateLimit).toBe(30);
    expect(loadConfig({ TERRINUM_EXPORT_RATE_LIMIT: '0' }).exportRateLimit).toBe(0);
    expect(loadConfig({ TERRINUM_EXPORT_RATE_LIMIT: ' 120 ' }).exportRateLimit).toBe(120);
    for (const bad of ['-1', '1.5', 'ten', '99999999']) expect(() => loadConfig({ TERRINUM_EXPORT_RATE_LIMIT: bad })).toThrow(/TERRINUM_EXPORT_RATE_LIMIT/);
  });
});

/** Every log line the server writes, parsed. */
function captureLogger() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe.each(backends())('security headers, CORS, methods, rate limit and access log on %s', (backend) => {
  const allowed = 'https://www.ville-laon.fr';
  let app: Running;
  let plain: Running;
  let lines: any[];
  beforeAll(async () => {
    const capture = captureLogger();
    lines = capture.lines;
    const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TERRINUM_DATA_DIR: 'memory://' };
    app = await start(
      loadConfig({
        ...env,
        TERRINUM_FRAME_ANCESTORS: `'self' ${allowed}`,
        TERRINUM_CORS_ORIGINS: allowed,
        TERRINUM_EXPORT_RATE_LIMIT: '3',
        TERRINUM_BASEMAP_STYLE: 'https://tiles.example.org/styles/plan.json',
      }),
      { database: await openDemoDatabase(backend), logger: capture.logger },
    );
    plain = await start(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { database: await openDemoDatabase(backend) });
  });
  afterAll(async () => {
    await app?.close();
    await plain?.close();
  });

  const get = (running: Running, path: string, init: RequestInit = {}) => fetch(new URL(path, running.url), init);

  it('sends a CSP fit for MapLibre, the basemap host and the configured frame ancestors', async () => {
    const response = await get(app, '/');
    const csp = response.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['worker-src']).toEqual(expect.arrayContaining(['blob:']));
    expect(directives['img-src']).toEqual(expect.arrayContaining(["'self'", 'data:', 'blob:', 'https://tiles.example.org']));
    expect(directives['connect-src']).toEqual(["'self'", 'https://tiles.example.org']);
    expect(directives['frame-ancestors']).toEqual(["'self'", allowed]);
    expect(directives['object-src']).toEqual(["'none'"]);
    // X-Frame-Options could only say SAMEORIGIN: left to frame-ancestors when other origins may frame
    expect(response.headers.get('x-frame-options')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
    const defaults = await get(plain, '/api/health');
    expect(defaults.headers.get('content-security-policy')).toMatch(/frame-ancestors 'self'/);
    expect(defaults.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('answers CORS for the allowed origin only, never with credentials, on /api, /tiles and /ogc', async () => {
    for (const path of ['/api/health', '/api/stats/epci?indicator=fibre_coverage', '/tiles/commune.json', '/ogc', '/api/nothing-here']) {
      const ok = await get(app, path, { headers: { Origin: allowed } });
      expect(ok.headers.get('access-control-allow-origin'), path).toBe(allowed);
      expect(ok.headers.get('access-control-allow-credentials'), path).toBeNull();
      const other = await get(app, path, { headers: { Origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const preflight = await get(app, '/api/health', { method: 'OPTIONS', headers: { Origin: allowed, 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,HEAD');
    // none by default
    const closed = await get(plain, '/api/health', { headers: { Origin: allowed } });
    expect(closed.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is read-only: other methods are a 405 problem, whatever the body', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await get(app, '/api/stats/commune?indicator=fibre_coverage', { method, body: 'x'.repeat(2_000_000), headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('refuses a NUL character in a parameter, naming it', async () => {
    const response = await get(app, '/api/search?q=la%00on');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: 400, parameter: 'q' });
    const path = await get(app, '/api/territories/commune/X00%0001');
    expect(path.status).toBe(400);
  });

  it('limits exports per client and minute, with a 429 problem and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await get(app, '/api/export/epci.csv?indicators=fibre_coverage');
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await response.json()).toMatchObject({ status: 429, title: 'too-many-requests' });
      } else {
        await response.arrayBuffer();
      }
    }
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429]);
    // the rest of the API is not limited
    expect((await get(app, '/api/health')).status).toBe(200);
  });

  it('logs each request at info level with method, url, status, duration, bytes and client address', async () => {
    // uncompressed, the bytes logged are the body's
    const response = await get(app, '/api/indicators?probe=access-log', { headers: { 'Accept-Encoding': 'identity' } });
    const body = await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const line = lines.find((l) => l.msg === 'request' && l.url === '/api/indicators?probe=access-log');
    expect(line).toMatchObject({ level: 30, method: 'GET', status: 200, bytes: body.byteLength, ip: expect.stringMatching(/127\.0\.0\.1/) });
    expect(line.ms).toBeGreaterThan(0);
    // gzip-compressed, they are the bytes sent, fewer than the body's
    await (await get(app, '/api/indicators?probe=access-log-gzip', { headers: { 'Accept-Encoding': 'gzip' } })).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const gzipped = lines.find((l) => l.msg === 'request' && l.url === '/api/indicators?probe=access-log-gzip');
    expect(gzipped.bytes).toBeGreaterThan(0);
    expect(gzipped.bytes).toBeLessThan(body.byteLength);
    await (await get(app, '/api/stats/commune?probe=access-log')).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.find((l) => l.msg === 'request' && l.url === '/api/stats/commune?probe=access-log')).toMatchObject({ level: 30, status: 400 });
  });
});
