import { sql, type Kysely } from 'kysely';
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

  /**
   * The names, codes and postal codes of every territory (~37k for France), held in memory and matched there:
   * a scan of 37k short strings takes a millisecond or two, where the SQL arms and their ranking took 10–35 ms
   * on the server and 35–130 ms embedded. Built on the first search and rebuilt when the data version changes
   * (every import bumps it); the normalised names are the database's own `search_name`, so the query is keyed
   * by the same `search_key` and both sides fold accents alike.
   */
  let index: SearchIndex | null = null;
  let building: Promise<SearchIndex> | null = null;

  async function currentIndex(version: number): Promise<SearchIndex> {
    if (index && index.version === version) return index;
    building ??= loadIndex(db)
      .then((built) => (index = built))
      .finally(() => {
        building = null;
      });
    const built = await building;
    // an import landed while building: build again from the newer data
    return built.version >= version ? built : currentIndex(version);
  }

  /** When the data version was last read: trusted for VERSION_TTL_MS, as the tiles do. */
  let versionCheckedAt = -Infinity;

  /**
   * The query's search key and an index of the current data version. In the steady state no database round
   * trip: the key is folded here when the query holds only characters `localSearchKey` folds as search_key does
   * (checked against every name at each build), and the data version is re-read at most once per VERSION_TTL_MS.
   */
  async function prepare(text: string): Promise<{ key: string; built: SearchIndex }> {
    const query = expandAbbreviations(text);
    const local = localSearchKey(query);
    if (index && index.localKeys && local !== null && performance.now() - versionCheckedAt < VERSION_TTL_MS) return { key: local, built: index };
    // one round trip for the normalised query and whether postal codes and the index are up to date
    const { rows: prepared } = await sql<{ key: string | null; current: number; synced: number }>`
      SELECT search_key(${query}) AS key,
             (SELECT version FROM data_version) AS current, (SELECT data_version FROM search_state) AS synced`.execute(db);
    const current = Number(prepared[0]?.current);
    if (current !== Number(prepared[0]?.synced)) await ensurePostalCodes();
    const built = await currentIndex(current);
    versionCheckedAt = performance.now();
    return { key: prepared[0]?.key ?? '', built };
  }

  async function search({ q, limit, levels }: SearchRequest): Promise<SearchResult[]> {
    const text = q.trim();
    const { key, built } = await prepare(text);
    const { entries, byCode, byPostal, postings } = built;
    const digits = text.replace(/\s+/g, '');
    const wanted = levels ? new Set(levels) : null;
    // best match per territory: the lowest tier (the first found among equals)
    const best = new Map<Entry, { tier: number; match: SearchMatch; score: number }>();
    const add = (entry: Entry, tier: number, match: SearchMatch, score = 1) => {
      if (wanted && !wanted.has(entry.level)) return;
      const seen = best.get(entry);
      if (!seen || tier < seen.tier || (tier === seen.tier && score > seen.score)) best.set(entry, { tier, match, score });
    };
    for (const entry of byCode.get(text.toUpperCase()) ?? []) add(entry, TIERS.code, 'code');
    if (/^\d{5}$/.test(digits)) {
      for (const entry of byPostal.get(digits) ?? []) add(entry, TIERS.postal_code, 'postal_code');
    } else if (/^\d{2,4}$/.test(digits)) {
      // a postal code being typed: communes under it, ranked with name prefixes
      for (const [postal, list] of byPostal) if (postal.startsWith(digits)) for (const entry of list) add(entry, TIERS.prefix, 'postal_code');
    }
    if (key !== '') {
      const word = key.length >= 2 ? ` ${key}` : null;
      for (const entry of entries) {
        if (entry.key.startsWith(key)) add(entry, entry.key.length === key.length ? TIERS.name : TIERS.prefix, entry.key.length === key.length ? 'name' : 'prefix');
        else if (word !== null && entry.key.includes(word)) add(entry, TIERS.word, 'word');
      }
    }
    // Similar names (a typo) only when nothing matched exactly or by prefix, and a query that found names needs
    // no guess. Stricter for long queries: one wrong letter in a long name keeps a high similarity ("chateau
    // thiery": 0.82) and a low threshold there lets hundreds of names in; 0.4 still finds "laom" → Laon (0.43).
    // First among the names starting with the query's first two letters (a typo is rarely there), then all.
    if (best.size === 0 && key.length >= 3) {
      const threshold = key.length >= 8 ? 0.55 : 0.4;
      const query = trigrams(key);
      const start = key.slice(0, 2);
      // trigrams shared with each name, counted through the postings (a name sharing none scores 0)
      const shared = new Uint16Array(entries.length);
      const touched: number[] = [];
      for (const trigram of query) {
        for (const at of postings.get(trigram) ?? []) {
          if (shared[at] === 0) touched.push(at);
          shared[at]!++;
        }
      }
      const similar: [Entry, number][] = [];
      for (const at of touched) {
        const entry = entries[at]!;
        const score = Math.fround(shared[at]! / (query.length + entry.trigrams.length - shared[at]!));
        if (score >= threshold) similar.push([entry, score]);
      }
      const sameStart = similar.filter(([entry]) => entry.key.startsWith(start));
      for (const [entry, score] of sameStart.length ? sameStart : similar) add(entry, TIERS.similar, 'similar', score);
    }
    const ranked = [...best].sort(
      ([a, x], [b, y]) => x.tier - y.tier || (x.tier === TIERS.similar ? y.score - x.score : 0) || (b.population ?? -1) - (a.population ?? -1) || compareText(a.name, b.name) || compareText(a.code, b.code),
    );
    return ranked.slice(0, limit).map(([entry, { match, score }]) => ({
      level: entry.level,
      code: entry.code,
      name: entry.name,
      population: entry.population,
      match,
      score,
      departement: entry.departement,
      postal_codes: entry.postalCodes,
      bbox: entry.bbox,
    }));
  }

  return { search, ensurePostalCodes };
}

export type SearchService = ReturnType<typeof createSearchService>;

/** One territory as the search holds it. */
interface Entry {
  level: string;
  code: string;
  name: string;
  /** search_name: search_key(name). */
  key: string;
  population: number | null;
  postalCodes: string[];
  departement: { code: string; name: string } | null;
  bbox: [number, number, number, number] | null;
  /** The key's trigrams, as pg_trgm forms them (see `trigrams`). */
  trigrams: Uint16Array;
}

interface SearchIndex {
  version: number;
  entries: Entry[];
  byCode: Map<string, Entry[]>;
  byPostal: Map<string, Entry[]>;
  /** Trigram → positions in `entries` of the names holding it. */
  postings: Map<number, number[]>;
  /** Whether `localSearchKey` gave every name's search_key (else every query is keyed by the database). */
  localKeys: boolean;
}

/** How long a read of the data version is trusted: an import (this process or another) shows within it. */
export const VERSION_TTL_MS = 1000;

/**
 * search_key (unaccent, lower case, every run of other characters one space) for text whose every character is
 * ASCII once decomposed and stripped of its marks (é, Ç, ô…) or is œ/æ; null for anything else (ø, ß, ﬁ, 🙂…),
 * which is left to the database's unaccent rules.
 */
export function localSearchKey(text: string): string | null {
  const folded = text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[œŒæÆ]/g, (c) => ({ œ: 'oe', Œ: 'OE', æ: 'ae', Æ: 'AE' })[c]!);
  if (/[^\x00-\x7f]/.test(folded)) return null;
  return folded.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/**
 * Reads every territory with its postal codes, département (a commune's own; an EPCI's holding most of its
 * communes, ties to the lower code) and outline extent, in one transaction so that all are of one data version.
 */
async function loadIndex(db: Kysely<DB>): Promise<SearchIndex> {
  return db.transaction().execute(async (trx) => {
    const version = Number((await sql<{ version: number }>`SELECT version FROM data_version`.execute(trx)).rows[0]?.version ?? 0);
    const { rows } = await sql<{
      id: number;
      level: string;
      code: string;
      name: string;
      key: string;
      population: number | null;
      postal_codes: string[] | null;
      departement_code: string | null;
      departement_name: string | null;
      xmin: number | null;
      ymin: number;
      xmax: number;
      ymax: number;
    }>`
      WITH communes AS (
        SELECT t.id, t.id AS commune_id FROM territory t WHERE t.level = 'commune'
        UNION ALL
        SELECT m.territory_id, m.commune_id FROM territory_member m JOIN territory t ON t.id = m.territory_id WHERE t.level IN ('commune', 'epci')
      ),
      departements AS (
        SELECT DISTINCT ON (c.id) c.id, d.code, d.name
        FROM communes c JOIN territory_member m ON m.commune_id = c.commune_id JOIN territory d ON d.id = m.territory_id AND d.level = 'departement'
        GROUP BY c.id, d.code, d.name
        ORDER BY c.id, count(*) DESC, d.code
      ),
      postal AS (SELECT territory_id, array_agg(postal_code ORDER BY postal_code) AS postal_codes FROM postal_code GROUP BY territory_id)
      SELECT t.id, t.level, t.code, t.name, t.search_name AS key, t.population, p.postal_codes,
             d.code AS departement_code, d.name AS departement_name,
             ST_XMin(t.geom) AS xmin, ST_YMin(t.geom) AS ymin, ST_XMax(t.geom) AS xmax, ST_YMax(t.geom) AS ymax
      FROM territory t LEFT JOIN postal p ON p.territory_id = t.id LEFT JOIN departements d ON d.id = t.id`.execute(trx);
    const entries: Entry[] = [];
    const byCode = new Map<string, Entry[]>();
    const byPostal = new Map<string, Entry[]>();
    const push = (map: Map<string, Entry[]>, key: string, entry: Entry) => {
      const list = map.get(key);
      if (list) list.push(entry);
      else map.set(key, [entry]);
    };
    const postings = new Map<number, number[]>();
    let localKeys = true;
    for (const row of rows) {
      const local = localSearchKey(row.name);
      if (local !== null && local !== (row.key ?? '')) localKeys = false;
      const entry: Entry = {
        level: row.level,
        code: row.code,
        name: row.name,
        key: row.key ?? '',
        population: row.population === null ? null : Number(row.population),
        postalCodes: row.postal_codes ?? [],
        departement: row.departement_code !== null && (row.level === 'commune' || row.level === 'epci') ? { code: row.departement_code, name: row.departement_name! } : null,
        bbox: row.xmin === null ? null : [row.xmin, row.ymin, row.xmax, row.ymax],
        trigrams: trigrams(row.key ?? ''),
      };
      entries.push(entry);
      push(byCode, row.code, entry);
      for (const postal of entry.postalCodes) push(byPostal, postal, entry);
      for (const trigram of entry.trigrams) {
        const list = postings.get(trigram);
        if (list) list.push(entries.length - 1);
        else postings.set(trigram, [entries.length - 1]);
      }
    }
    return { version, entries, byCode, byPostal, postings, localKeys };
  });
}

/** Byte order, as the databases' C collation sorts names and codes. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The distinct trigrams of a search key, as pg_trgm forms them: each word padded with two spaces before and one
 * after. A key holds only [a-z0-9 ] (search_key), so a trigram is a number below 37³, sorted.
 */
export function trigrams(key: string): Uint16Array {
  const code = (c: string) => (c === ' ' ? 0 : c <= '9' ? c.charCodeAt(0) - 47 : c.charCodeAt(0) - 86);
  const set = new Set<number>();
  for (const word of key.split(' ')) {
    if (!word) continue;
    const padded = `  ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) set.add(code(padded[i]!) * 1369 + code(padded[i + 1]!) * 37 + code(padded[i + 2]!));
  }
  return Uint16Array.from([...set].sort((a, b) => a - b));
}

/** pg_trgm's similarity: shared trigrams over all distinct ones, computed in float4 as pg_trgm does. */
export function similarity(a: Uint16Array, b: Uint16Array): number {
  if (!a.length || !b.length) return 0;
  let shared = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return Math.fround(shared / (a.length + b.length - shared));
}
