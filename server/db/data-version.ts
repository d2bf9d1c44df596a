import type { Database } from './database.ts';

/**
 * The data version (bumped by every import, `data_version`), read at most once per `ttlMs`: the caches of answers
 * and tiles key their entries by it, so an import made by another process shows within `ttlMs`.
 */
export function createDataVersionReader(database: Database, ttlMs: number): () => Promise<number> {
  let known: { value: number; readAt: number } | null = null;
  let reading: Promise<number> | null = null;
  return () => {
    if (known && performance.now() - known.readAt < ttlMs) return Promise.resolve(known.value);
    reading ??= (async () => {
      try {
        const row = await database.db.selectFrom('data_version').select('version').executeTakeFirst();
        const value = Number(row?.version ?? 0);
        known = { value, readAt: performance.now() };
        return value;
      } finally {
        reading = null;
      }
    })();
    return reading;
  };
}
