import type { RequestHandler } from 'express';
import cors from 'cors';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { HttpError } from './errors.ts';

/** Origin of the configured basemap style, which the map fetches style, tiles, sprites and glyphs from. */
function basemapOrigin(config: Readonly<Config>): string | null {
  if (!config.basemapStyle) return null;
  try {
    return new URL(config.basemapStyle).origin;
  } catch {
    return null;
  }
}

/**
 * Content-Security-Policy directives for terrinum's pages (the map client, the embed, the API docs): scripts from
 * this origin only; MapLibre's workers are blob: URLs and its canvas images data:/blob:; the basemap host when one
 * is configured; framing by the configured ancestors (the embed on council websites).
 */
export function cspDirectives(config: Readonly<Config>): Record<string, string[] | null> {
  const basemap = basemapOrigin(config);
  const extra = basemap ? [basemap] : [];
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'script-src': ["'self'"],
    // MapLibre and deck.gl set inline styles on the elements they create
    'style-src': ["'self'", "'unsafe-inline'", ...extra],
    'img-src': ["'self'", 'data:', 'blob:', ...extra],
    'font-src': ["'self'", 'data:', ...extra],
    'connect-src': ["'self'", ...extra],
    'worker-src': ["'self'", 'blob:'],
    'child-src': ["'self'", 'blob:'],
    'object-src': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': config.frameAncestors,
    // plain-http deployments (an intranet, localhost) must keep loading their own resources
    'upgrade-insecure-requests': null,
  };
}

/** helmet with terrinum's CSP. */
export function securityHeaders(config: Readonly<Config>): RequestHandler {
  const sameOriginOnly = config.frameAncestors.length === 1 && config.frameAncestors[0] === "'self'";
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(config) },
    // Public open data: tiles, the embed script and its assets are loaded by other origins' pages.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    // frame-ancestors decides; X-Frame-Options (older browsers) can only say "same origin", so only then is it sent
    xFrameOptions: sameOriginOnly ? { action: 'sameorigin' } : false,
  });
}

/** CORS for /api, /tiles and /ogc: the configured origins (or any with *), GET/HEAD only, never credentials. */
export function corsPolicy(config: Readonly<Config>): RequestHandler {
  const allowed = config.corsOrigins;
  return cors({
    origin: allowed === '*' ? '*' : allowed.length ? [...allowed] : false,
    credentials: false,
    methods: ['GET', 'HEAD'],
    exposedHeaders: ['ETag', 'Content-Disposition', 'Content-Length', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
    maxAge: 600,
  });
}

/** The API is read-only: other methods are a 405 (before any body is read), OPTIONS is left to CORS preflight. */
export const readOnly: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  res.set('Allow', 'GET, HEAD, OPTIONS');
  next(new HttpError(405, 'method-not-allowed', `${req.method} is not allowed: this API is read-only (GET, HEAD)`));
};

/**
 * A NUL character (%00) can reach no query: PostgreSQL refuses it in text with an error that is not the
 * client's to see. Refused here, naming the parameter.
 */
export const noNulCharacters: RequestHandler = (req, _res, next) => {
  for (const [name, value] of Object.entries(req.query)) {
    if (JSON.stringify(value).includes('\\u0000') || name.includes('\0')) {
      return next(new HttpError(400, 'invalid-parameter', `query parameter ${name.replace(/\0/g, '')}: must not contain a NUL character (%00)`, name.replace(/\0/g, '')));
    }
  }
  if (/%00/.test(req.path)) return next(new HttpError(400, 'invalid-path', 'the path must not contain a NUL character (%00)'));
  next();
};

/** Rate limit of the expensive exports, per client address, answered as a 429 problem. */
export function exportRateLimit(config: Readonly<Config>): RequestHandler {
  if (config.exportRateLimit === 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: config.exportRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Retry-After and RateLimit headers are set by the limiter before this
    handler: (_req, _res, next) => {
      next(new HttpError(429, 'too-many-requests', `at most ${config.exportRateLimit} exports per minute per client; retry later (TERRINUM_EXPORT_RATE_LIMIT)`));
    },
  });
}

/**
 * Access log, one JSON line per request when it ends: method, url, status, duration, bytes sent and client.
 * Info level (what an operator reads to follow use and latency); warn for server errors, whose cause the error
 * line logged by the problem handler carries.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const socket = req.socket;
    const bytesBefore = socket.bytesWritten;
    res.on('finish', () => {
      const length = Number(res.getHeader('content-length'));
      const entry = {
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        // with the headers when the body had no length (streamed, chunked)
        bytes: Number.isFinite(length) ? length : socket.bytesWritten - bytesBefore,
        ip: req.ip,
      };
      if (res.statusCode >= 500) logger.warn(entry, 'request');
      else logger.info(entry, 'request');
    });
    next();
  };
}
