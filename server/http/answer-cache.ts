import crypto from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Request, RequestHandler, Response } from 'express';
import type { DataVersionReader } from '../db/data-version.ts';
import { TileCache, type CachedTile } from '../tiles/cache.ts';

const gzip = promisify(zlib.gzip);

/**
 * A cache of JSON answers for the heavy read endpoints (a national /api/stats list is a 1–2 s query on the
 * embedded database, which runs in the server's own thread and holds every other request meanwhile). Entries are
 * keyed by the data version and the request URL, so an import retires them all; the body is kept serialised and
 * gzipped once (in zlib's thread pool). Every answer carries a strong ETag of its body: a browser revalidating
 * with If-None-Match gets a 304. Bounded by bytes, least recently used first.
 */
export function createAnswerCache(dataVersion: DataVersionReader, maxBytes: number) {
  const cache = new TileCache(maxBytes);

  /** Wraps a handler that answers with res.json(): its 200 answers are kept and replayed. */
  function cached(handler: RequestHandler): RequestHandler {
    return async (req, res, next) => {
      const key = `${await dataVersion.read()} ${req.originalUrl}`;
      const hit = cache.get(key);
      if (hit) {
        send(req, res, hit, 'hit');
        return;
      }
      // the handler's res.json() is replaced by one that stores, then sends, the serialised body; other answers
      // (a problem+json from the error handler) go out as they would have
      const original = res.json.bind(res);
      res.json = (body: unknown) => {
        if (res.statusCode !== 200) return original(body);
        const raw = Buffer.from(JSON.stringify(body));
        const etag = `"${crypto.createHash('sha1').update(raw).digest('base64url')}"`;
        void (async () => {
          const entry: CachedTile = { raw, gzip: raw.length > 1024 ? await gzip(raw, { level: 6 }) : null, etag };
          cache.set(key, entry);
          send(req, res, entry, 'miss');
        })().catch(next);
        return res;
      };
      await handler(req, res, next);
    };
  }

  return { cached, stats: () => cache.stats };
}

function send(req: Request, res: Response, entry: CachedTile, state: 'hit' | 'miss'): void {
  res.setHeader('ETag', entry.etag);
  // reusable, but checked with the server every time: an import changes the answer
  res.setHeader('Cache-Control', 'no-cache');
  res.vary('Accept-Encoding');
  res.setHeader('X-Answer-Cache', state);
  const known = req.get('if-none-match');
  if (known && known.split(',').some((tag) => tag.trim().replace(/^W\//, '') === entry.etag)) {
    res.status(304).end();
    return;
  }
  res.type('application/json');
  const body = entry.gzip && req.acceptsEncodings('gzip', 'identity') === 'gzip' ? entry.gzip : entry.raw;
  // set before the compression middleware looks: it leaves an encoded body alone
  if (body === entry.gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}
