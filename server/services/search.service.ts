import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { loadCog } from '../import/cog.ts';

/** How a result matched, best first (the order results are ranked in). */
export type SearchMatch = 'code' | 'postal_code' | 'name' | 'prefix' | 'word' | 'similar';

export interface SearchResult {
  level: string;
  code: string;
  name: string;
  population: number | null;
  match: SearchMatch;
  /** Trigram similarity of the name to the query (0–1), for `similar` matches; 1 otherwise. */
  score: number;
  /** The département holding the commune (or most of the EPCI's communes), to tell namesakes apart. */
  departement: { code: string; name: string } | null;
  postal_codes: string[];
  /** Extent of the outline (minLon, minLat, maxLon, maxLat), null without one. */
  bbox: [number, number, number, number] | null;
}

export interface SearchRequest {
  q: string;
  limit: number;
  /** Levels to search; all when null. */
  levels: string[] | null;
}

/** Ranks of the match tiers: exact code or postal code > exact name > name prefix > word prefix > similar. */
const TIERS: Record<SearchMatch, number> = { code: 0, postal_code: 0, name: 1, prefix: 2, word: 3, similar: 4 };

/** "St-Quentin" and "Ste Marie" as written on signs: the COG writes Saint and Sainte in full. */
export function expandAbbreviations(q: string): string {
  return q.replace(/(^|[^\p{L}\p{N}])(st|ste)\.?(?=[^\p{L}\p{N}]|$)/giu, (_m, before: string, word: string) => `${before}${word.toLowerCase() === 'st' ? 'saint' : 'sainte'}`);
}

/**
 * Search of territories by name (accent- and case-insensitive, with the database's own `search_key`, so queries and
 * the indexed names are normalised alike), INSEE/SIREN code or postal code. Every tier is one indexed lookup.
 */
export function createSearchService(db: Kysely<DB>) {
  let syncing: Promise<void> | null = null;

  /**
   * Postal codes come from the COG (@etalab/decoupage-administratif) for the communes the database holds: refilled
   * once per data version (each import bumps it), so any import of communes brings its postal codes along.
   */
  async function syncPostalCodes(): Promise<void> {
    const { rows } = await sql<{ current: number; synced: number }>`
      SELECT (SELECT version FROM data_version) AS current, (SELECT data_version FROM search_state) AS synced`.execute(db);
    const state = rows[0];
    if (!state || Number(state.current) === Number(state.synced)) return;
    await db.transaction().execute(async (trx) => {
      // another process may have just done it: re-read under the row lock
      const locked = await sql<{ synced: number }>`SELECT data_version AS synced FROM search_state FOR UPDATE`.execute(trx);
      const current = (await sql<{ version: number }>`SELECT version FROM data_version`.execute(trx)).rows[0]!.version;
      if (Number(locked.rows[0]?.synced) === Number(current)) return;
      await sql`DELETE FROM postal_code`.execute(trx);
      const real = await trx.selectFrom('territory').select('id').where('level', '=', 'commune').where('synthetic', '=', false).limit(1).executeTakeFirst();
      if (real) {
        const pairs: { code: string; postal: string }[] = [];
        for (const commune of loadCog().communes.values()) for (const postal of commune.postalCodes) pairs.push({ code: commune.code, postal });
        // one JSON parameter: no bound-parameter limit, one round trip
        await sql`
          INSERT INTO postal_code (postal_code, territory_id)
          SELECT DISTINCT x.postal, t.id
          FROM json_to_recordset(${JSON.stringify(pairs)}::json) AS x(code text, postal text)
          JOIN territory t ON t.level = 'commune' AND t.code = x.code
          ON CONFLICT DO NOTHING`.execute(trx);
      }
      await sql`UPDATE search_state SET data_version = ${current}`.execute(trx);
    });
  }

  function ensurePostalCodes(): Promise<void> {
    syncing ??= syncPostalCodes().finally(() => {
      syncing = null;
    });
    return syncing;
  }

  async function search({ q, limit, levels }: SearchRequest): Promise<SearchResult[]> {
    const text = q.trim();
    // one round trip for the normalised query and whether postal codes are up to date
    const { rows: prepared } = await sql<{ key: string | null; current: number; synced: number }>`
      SELECT search_key(${expandAbbreviations(text)}) AS key,
             (SELECT version FROM data_version) AS current, (SELECT data_version FROM search_state) AS synced`.execute(db);
    if (Number(prepared[0]?.current) !== Number(prepared[0]?.synced)) await ensurePostalCodes();
    const key = prepared[0]?.key ?? '';
    const digits = text.replace(/\s+/g, '');
    // Each arm is one indexed lookup keeping only its best `limit` rows in the final order (tier, then larger
    // population): the best `limit` overall are among them, and a one-letter query sorts no more than it shows.
    const inLevels = levels ? sql`AND t.level IN (${sql.join(levels)})` : sql``;
    const byPopulation = sql`t.population DESC NULLS LAST, t.name, t.code`;
    const arm = (select: RawBuilder<unknown>, from: RawBuilder<unknown>, where: RawBuilder<unknown>, order: RawBuilder<unknown> = byPopulation) =>
      sql`(SELECT t.id, ${select} FROM ${from} WHERE ${where} ${inLevels} ORDER BY ${order} LIMIT ${limit})`;
    const fixed = (tier: number, match: SearchMatch) => sql`${tier}::int AS tier, 1::float8 AS score, ${match}::text AS match`;
    const arms: RawBuilder<unknown>[] = [arm(fixed(TIERS.code, 'code'), sql`territory t`, sql`t.code = ${text.toUpperCase()}`)];
    if (/^\d{5}$/.test(digits)) {
      arms.push(arm(fixed(TIERS.postal_code, 'postal_code'), sql`postal_code p JOIN territory t ON t.id = p.territory_id`, sql`p.postal_code = ${digits}`));
    } else if (/^\d{2,4}$/.test(digits)) {
      // a postal code being typed: communes under it, ranked with name prefixes
      arms.push(arm(fixed(TIERS.prefix, 'postal_code'), sql`postal_code p JOIN territory t ON t.id = p.territory_id`, sql`p.postal_code LIKE ${`${digits}%`}`));
    }
    if (key !== '') {
      // the key holds only [a-z0-9 ]: no LIKE wildcard to escape; a constant pattern lets the planner use the index
      const exact = sql`t.search_name = ${key}`;
      arms.push(
        arm(
          sql`CASE WHEN ${exact} THEN ${TIERS.name}::int ELSE ${TIERS.prefix}::int END AS tier, 1::float8 AS score, CASE WHEN ${exact} THEN 'name' ELSE 'prefix' END AS match`,
          sql`territory t`,
          sql`t.search_name LIKE ${`${key}%`}`,
          sql`(${exact}) DESC, ${byPopulation}`,
        ),
      );
      if (key.length >= 2) arms.push(arm(fixed(TIERS.word, 'word'), sql`territory t`, sql`t.search_name LIKE ${`% ${key}%`}`));
    }
    const results = await ranked(db, arms, limit);
    // Similar names (a typo) only when nothing matched exactly or by prefix, and a query that found names needs
    // no guess. Stricter for long queries: one wrong letter in a long name keeps a high similarity ("chateau
    // thiery": 0.82) and a low threshold there lets hundreds of names in; 0.4 still finds "laom" → Laon (0.43).
    if (results.length > 0 || key.length < 3) return results;
    const threshold = key.length >= 8 ? 0.55 : 0.4;
    const similarity = sql`similarity(t.search_name, ${key})`;
    const similar = (where: RawBuilder<unknown>) =>
      arm(sql`${TIERS.similar}::int AS tier, ${similarity}::float8 AS score, 'similar' AS match`, sql`territory t`, where, sql`${similarity} DESC, ${byPopulation}`);
    // First among the names starting with the query's first two letters (a typo is rarely there): a prefix range
    // of the index, scored one by one, is several times cheaper than the trigram index for a long query.
    const sameStart = await ranked(db, [similar(sql`t.search_name LIKE ${`${key.slice(0, 2)}%`} AND ${similarity} >= ${threshold}`)], limit);
    if (sameStart.length > 0) return sameStart;
    return db.transaction().execute(async (trx) => {
      await sql`SET LOCAL pg_trgm.similarity_threshold = ${sql.lit(threshold)}`.execute(trx);
      return ranked(trx, [similar(sql`t.search_name % ${key}`)], limit);
    });
  }

  /** Runs the union of match arms: best match per territory, ranked, with postal codes and département. */
  async function ranked(executor: Kysely<DB>, arms: RawBuilder<unknown>[], limit: number): Promise<SearchResult[]> {
    const { rows } = await sql<{
      level: string;
      code: string;
      name: string;
      population: number | null;
      match: SearchMatch;
      score: number;
      departement: { code: string; name: string } | null;
      postal_codes: string[] | null;
      xmin: number | null;
      ymin: number;
      xmax: number;
      ymax: number;
    }>`
      WITH hits AS (${sql.join(arms, sql` UNION ALL `)}),
      best AS (SELECT DISTINCT ON (id) id, tier, score, match FROM hits ORDER BY id, tier, score DESC),
      ranked AS (
        SELECT t.id, t.level, t.code, t.name, t.population, b.tier, b.score, b.match,
               ST_XMin(t.geom) AS xmin, ST_YMin(t.geom) AS ymin, ST_XMax(t.geom) AS xmax, ST_YMax(t.geom) AS ymax
        FROM best b JOIN territory t ON t.id = b.id
        ORDER BY b.tier, CASE WHEN b.tier = ${TIERS.similar} THEN -b.score ELSE 0 END, t.population DESC NULLS LAST, t.name, t.code
        LIMIT ${limit}
      )
      SELECT r.level, r.code, r.name, r.population, r.match, r.score, r.xmin, r.ymin, r.xmax, r.ymax,
             (SELECT array_agg(p.postal_code ORDER BY p.postal_code) FROM postal_code p WHERE p.territory_id = r.id) AS postal_codes,
             CASE WHEN r.level IN ('commune', 'epci') THEN
               (SELECT json_build_object('code', d.code, 'name', d.name)
                  FROM territory_member m JOIN territory d ON d.id = m.territory_id AND d.level = 'departement'
                 WHERE m.commune_id IN (SELECT r.id WHERE r.level = 'commune' UNION ALL SELECT commune_id FROM territory_member WHERE territory_id = r.id)
                 GROUP BY d.code, d.name ORDER BY count(*) DESC, d.code LIMIT 1)
             END AS departement
      FROM ranked r
      ORDER BY r.tier, CASE WHEN r.tier = ${TIERS.similar} THEN -r.score ELSE 0 END, r.population DESC NULLS LAST, r.name, r.code`.execute(executor);
    return rows.map((r) => ({
      level: r.level,
      code: r.code,
      name: r.name,
      population: r.population,
      match: r.match,
      score: Number(r.score),
      departement: r.departement,
      postal_codes: r.postal_codes ?? [],
      bbox: r.xmin === null ? null : [r.xmin, r.ymin, r.xmax, r.ymax],
    }));
  }

  return { search, ensurePostalCodes };
}

export type SearchService = ReturnType<typeof createSearchService>;
