import type { Database } from './database.ts';

export interface DataVersionReader {
  /** The data version, from the database when the last read is older than the TTL. */
  read(): Promise<number>;
  /** The last version read while it is younger than the TTL, else null (synchronous: for cache hits). */
  fresh(): number | null;
}

/**
 * The data version (bumped by every import, `data_version`), read at most once per `ttlMs`: the caches of answers
 * and tiles key their entries by it, so an import made by another process shows within `ttlMs`.
 */
export function createDataVersionReader(database: Database, ttlMs: number): DataVersionReader {
  let known: { value: number; readAt: number } | null = null;
  let reading: Promise<number> | null = null;
  const fresh = () => (known && performance.now() - known.readAt < ttlMs ? known.value : null);
  return {
    fresh,
    read() {
      const value = fresh();
      if (value !== null) return Promise.resolve(value);
      reading ??= (async () => {
        try {
          const row = await database.db.selectFrom('data_version').select('version').executeTakeFirst();
          const read = Number(row?.version ?? 0);
          known = { value: read, readAt: performance.now() };
          return read;
        } finally {
          reading = null;
        }
      })();
      return reading;
    },
  };
}
