import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../server/main.ts';
import { generateDemo } from '../server/demo/generate.ts';
import { sql } from 'kysely';
import { expandAbbreviations, localSearchKey, similarity, trigrams } from '../server/services/search.service.ts';
import { backends } from './helpers/db.ts';
import { getJson, startDemoServer } from './helpers/server.ts';

const demo = generateDemo();
const codesOf = (body: any) => body.results.map((r: any) => r.code);

it('writes St and Ste in full, as the COG does', () => {
  expect(expandAbbreviations('St-Quentin')).toBe('saint-Quentin');
  expect(expandAbbreviations('ste marie')).toBe('sainte marie');
  expect(expandAbbreviations('St. Omer')).toBe('saint Omer');
  expect(expandAbbreviations('Estrées')).toBe('Estrées');
  expect(expandAbbreviations('Stenay')).toBe('Stenay');
});

describe.each(backends())('GET /api/search on the demonstration territory (%s)', (backend) => {
  let app: Running;
  beforeAll(async () => {
    app = await startDemoServer(backend);
  });
  afterAll(() => app?.close());

  const accented = demo.communes.find((c) => /^[A-Z][a-zé]+$/.test(c.name) && /é/.test(c.name))!;
  const plain = accented.name.normalize('NFD').replace(/\p{M}/gu, '');

  it('finds a commune by its name whatever the accents and the case', async () => {
    for (const q of [accented.name, plain, plain.toUpperCase(), plain.toLowerCase(), `  ${plain} `]) {
      const { status, body } = await getJson(app, `/api/search?q=${encodeURIComponent(q)}`);
      expect(status).toBe(200);
      expect(body.results[0]).toMatchObject({ level: 'commune', code: accented.code, name: accented.name, match: 'name', departement: { code: demo.departement.code } });
    }
  });

  it('hyphens, apostrophes and spaces are alike', async () => {
    const hyphenated = demo.communes.find((c) => /^[^' ]+-[^' ]+-[^' ]+$/.test(c.name))!;
    const spaced = hyphenated.name.replace(/-/g, ' ').normalize('NFD').replace(/\p{M}/gu, '');
    const { body } = await getJson(app, `/api/search?q=${encodeURIComponent(spaced)}`);
    expect(body.results[0].code).toBe(hyphenated.code);
  });

  it('finds by code: commune, EPCI, département', async () => {
    for (const code of [demo.communes[5]!.code, demo.epcis[3]!.code, demo.departement.code]) {
      const { body } = await getJson(app, `/api/search?q=${code.toLowerCase()}`);
      expect(body.results[0]).toMatchObject({ code, match: 'code' });
    }
  });

  it('ranks: whole name, then name prefix (larger population first), then word prefix, then similar names', async () => {
    // the EPCI named after its main town: the town (whole name) first, the EPCI (a word of its name) after
    const epci = demo.epcis.find((e) => demo.communes.some((c) => e.name.endsWith(` ${c.name}`)))!;
    const town = demo.communes.find((c) => epci.name.endsWith(` ${c.name}`))!;
    const { body } = await getJson(app, `/api/search?q=${encodeURIComponent(town.name)}&limit=50`);
    expect(body.results[0]).toMatchObject({ code: town.code, match: 'name' });
    const tiers = ['code', 'postal_code', 'name', 'prefix', 'word', 'similar'];
    const order = body.results.map((r: any) => tiers.indexOf(r.match));
    expect(order).toEqual([...order].sort((a: number, b: number) => a - b));
    expect(body.results.find((r: any) => r.code === epci.code)).toMatchObject({ level: 'epci', match: 'word' });

    const prefix = 'Bea';
    const byPrefix = await getJson(app, `/api/search?q=${prefix}&levels=commune&limit=50`);
    const expected = demo.communes
      .filter((c) => c.name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().startsWith(prefix.toLowerCase()))
      .sort((a, b) => b.population - a.population || a.name.localeCompare(b.name))
      .map((c) => c.code);
    expect(codesOf(byPrefix.body).slice(0, expected.length)).toEqual(expected);
  });

  it("keys queries and scores similar names as the database's search_key and pg_trgm's similarity() do", async () => {
    const names = demo.communes.slice(0, 40).map((c) => c.name);
    const queries = ['laom', 'chateau thiery', 'sant quentin', 'bea', 'x1 y2', "  L'Île-d'Yeu ", 'ŒUF-EN-TERNOIS', 'Straße', 'Ærø', 'e\u0301cole', '🙂', ...names.slice(0, 5).map((n) => n.slice(0, 3) + n.slice(4))];
    const { rows } = await sql<{ name: string; q: string; key: string; qkey: string; score: number }>`
      SELECT n AS name, q, search_key(n) AS key, search_key(q) AS qkey, similarity(search_key(n), search_key(q))::float8 AS score
      FROM unnest(${names}::text[]) n, unnest(${queries}::text[]) q`.execute(app.database.db);
    expect(rows).toHaveLength(names.length * queries.length);
    for (const row of rows) expect([row.name, row.q, similarity(trigrams(row.key), trigrams(row.qkey))]).toEqual([row.name, row.q, Number(row.score)]);
    // folded here when it can be, and then as the database folds it
    const folded = rows.filter((row) => localSearchKey(row.q) !== null);
    expect(new Set(folded.map((row) => row.q)).size).toBeGreaterThanOrEqual(queries.length - 3);
    for (const row of [...rows.map((r) => ({ text: r.q, key: r.qkey })), ...rows.map((r) => ({ text: r.name, key: r.key }))]) {
      const local = localSearchKey(row.text);
      if (local !== null) expect([row.text, local]).toEqual([row.text, row.key]);
    }
  });

  it('tolerates a typo (trigram similarity)', async () => {
    const name = plain.toLowerCase();
    const typo = name.slice(0, 3) + name.slice(4);
    const { body } = await getJson(app, `/api/search?q=${encodeURIComponent(typo)}`);
    expect(codesOf(body)).toContain(accented.code);
  });

  it('levels= restricts the levels; limit= the count', async () => {
    const { body } = await getJson(app, `/api/search?q=communaute&levels=epci&limit=3`);
    expect(body.results).toHaveLength(3);
    expect(body.results.every((r: any) => r.level === 'epci')).toBe(true);
    const none = await getJson(app, `/api/search?q=communaute&levels=commune`);
    expect(none.body.results.every((r: any) => r.level === 'commune')).toBe(true);
  });

  it('finds nothing, without error, for what matches nothing', async () => {
    for (const q of ['zzzzqqqq', '%', '_', "'; DROP TABLE territory; --", '🙂', '\\']) {
      const { status, body } = await getJson(app, `/api/search?q=${encodeURIComponent(q)}`);
      expect(status).toBe(200);
      expect(body.results).toEqual([]);
    }
  });

  it.each([
    ['/api/search', 400, 'q'],
    ['/api/search?q=', 400, 'q'],
    ['/api/search?q=%20%20', 400, 'q'],
    ['/api/search?q=a&q=b', 400, 'q'],
    [`/api/search?q=${'a'.repeat(101)}`, 400, 'q'],
    ['/api/search?q=laon&limit=0', 400, 'limit'],
    ['/api/search?q=laon&limit=51', 400, 'limit'],
    ['/api/search?q=laon&levels=canton', 404, 'levels'],
    ['/api/search?q=laon&levels=EPCI', 400, 'levels'],
  ])('answers %s with %i naming %s', async (path, status, parameter) => {
    const response = await getJson(app, path);
    expect(response.status).toBe(status);
    expect(response.type).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status, parameter });
  });
});
