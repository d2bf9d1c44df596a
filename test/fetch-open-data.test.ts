import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import type { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { registerFetchOpenDataCommand } from '../server/import/fetch-open-data.command.ts';
import { ARCEP_FILES, DownloadError, fetchOpenData, parseDepartement, type FetchOpenDataResult, type Manifest } from '../server/import/fetch-open-data.ts';
import { backends, openEmptyDatabase } from './helpers/db.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared/data');
const hasShared = fs.existsSync(SHARED);
if (!hasShared && process.env.CI) throw new Error(`${SHARED} is missing: the fetch-open-data tests need ../shared/data under CI`);
if (!hasShared) console.warn(`skipping the fetch-open-data tests on real data: ${SHARED} is absent`);

// The 2018 ARCEP names as published → the 02/62 subsets in ../shared/data (SOURCES.md §2).
const ARCEP_SAMPLES: Record<string, string> = {
  'ftthCommunes.csv': 'ftth-communes-02-62.csv',
  'communes.csv': 'communes-02-62.csv',
  'ftthEpci.csv': 'ftth-epci-02-62.csv',
  'epci.csv': 'epci-02-62.csv',
  'ftthDepartements.csv': 'ftth-departements-02-62.csv',
  'departements.csv': 'departements-02-62.csv',
};

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');
const shared = (file: string) => fs.readFileSync(path.join(SHARED, file));

/**
 * A stand-in for the open data servers, serving the shared samples: the per-département communes GeoJSON
 * gzip-encoded (fetch decodes it), a "national" communes file as a raw .gz (02 + 62), the ARCEP files (one as
 * raw gzip bytes), a truncated .gz, a 404, a server that never answers and one that stops in the middle of a body.
 */
function startServer(): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url!, 'http://localhost');
    const send = (body: Buffer, headers: http.OutgoingHttpHeaders = {}) => {
      response.writeHead(200, { 'content-length': body.length, ...headers });
      response.end(body);
    };
    if (url.pathname === '/geo/departements/02/communes' && url.searchParams.get('format') === 'geojson') {
      return send(zlib.gzipSync(shared('geo/communes-02-aisne.geojson')), { 'content-type': 'application/geo+json', 'content-encoding': 'gzip' });
    }
    if (url.pathname === '/contours/communes-100m.geojson.gz') {
      const features = ['geo/communes-02-aisne.geojson', 'geo/communes-62-pas-de-calais.geojson'].flatMap((f) => JSON.parse(shared(f).toString('utf8')).features);
      return send(zlib.gzipSync(JSON.stringify({ type: 'FeatureCollection', features })), { 'content-type': 'application/gzip' });
    }
    if (url.pathname === '/broken/communes.geojson.gz') return send(zlib.gzipSync(shared('geo/communes-02-aisne.geojson')).subarray(0, 20_000));
    const arcep = /^\/arcep\/([A-Za-z]+\.csv)$/.exec(url.pathname)?.[1];
    if (arcep && ARCEP_SAMPLES[arcep]) {
      const body = shared(`arcep/${ARCEP_SAMPLES[arcep]}`);
      return arcep === 'ftthCommunes.csv' ? send(zlib.gzipSync(body), { 'content-type': 'application/octet-stream' }) : send(body, { 'content-type': 'text/csv' });
    }
    if (url.pathname.startsWith('/hang/')) return; // never answers
    if (url.pathname.startsWith('/stall/')) {
      response.writeHead(200, { 'content-type': 'text/csv', 'content-length': 100_000 });
      response.write(shared('arcep/communes-02-62.csv').subarray(0, 5000));
      return; // and never the rest
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not here');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        base: `http://127.0.0.1:${port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

const temps: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terrinum-fetch-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every file under a folder, relative paths. */
function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

async function rejection(run: Promise<unknown>): Promise<Error> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('open data configuration', () => {
  it('defaults to geo.api.gouv.fr per département, data.gouv.fr for ARCEP and 300 s per file', () => {
    expect(loadConfig({})).toMatchObject({
      communesUrl: 'https://geo.api.gouv.fr/departements/{departement}/communes?format=geojson&geometry=contour',
      arcepUrl: expect.stringMatching(/^https:\/\/.*\{file\}$/),
      fetchTimeoutMs: 300_000,
    });
    expect(loadConfig({ TERRINUM_FETCH_TIMEOUT: '2.5' }).fetchTimeoutMs).toBe(2500);
  });

  it.each([
    [{ TERRINUM_ARCEP_URL: 'https://example.org/arcep/ftthCommunes.csv' }, /TERRINUM_ARCEP_URL must contain the placeholder \{file\}/],
    [{ TERRINUM_COMMUNES_URL: 'ftp://example.org/{departement}.geojson' }, /TERRINUM_COMMUNES_URL must be an http/],
    [{ TERRINUM_COMMUNES_URL: 'not a url' }, /TERRINUM_COMMUNES_URL is not a valid URL template/],
    [{ TERRINUM_FETCH_TIMEOUT: '0' }, /TERRINUM_FETCH_TIMEOUT must be a positive number of seconds/],
    [{ TERRINUM_FETCH_TIMEOUT: '10s' }, /TERRINUM_FETCH_TIMEOUT must be a positive number of seconds/],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('département codes', () => {
  it.each([
    ['2', '02'],
    ['02', '02'],
    ['2a', '2A'],
    ['2B', '2B'],
    ['95', '95'],
    ['971', '971'],
    ['976', '976'],
  ])('reads %s as %s', (input, code) => expect(parseDepartement(input)).toBe(code));

  it.each(['00', '20', '96', '99', '970', '977', '2C', 'Aisne', ''])('rejects "%s" with the expected forms', (input) => {
    expect(() => parseDepartement(input)).toThrow(/expected a département code \(01–95, 2A, 2B, 971–976\)/);
  });

  it('is a top-level command with its options in --help', () => {
    const program = new Command().exitOverride();
    registerFetchOpenDataCommand(program);
    const command = program.commands.find((c) => c.name() === 'fetch-open-data')!;
    const help = command.helpInformation();
    for (const option of ['--departement <code>', '--out <dir>', '--import', '--timeout <seconds>']) expect(help).toContain(option);
  });
});

describe.skipIf(!hasShared)('fetch-open-data against a local server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const config = (env: Record<string, string>) => loadConfig({ TERRINUM_COMMUNES_URL: `${server.base}/geo/departements/{departement}/communes?format=geojson&geometry=contour`, TERRINUM_ARCEP_URL: `${server.base}/arcep/{file}`, ...env });

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('cuts a national gzip communes file (no {departement} in the URL) down to the 804 features of 02', async () => {
    const out = tempDir();
    const result = await fetchOpenData({ departement: '2', out, config: config({ TERRINUM_COMMUNES_URL: `${server.base}/contours/communes-100m.geojson.gz` }) });
    const entry = result.manifest.files.find((f) => f.file === 'communes-02.geojson')!;
    // 804 + 891 features served (SOURCES.md §1)
    expect(entry.filtered).toMatchObject({ kept: 804, of: 1695, unit: 'features' });
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'communes-02.geojson'), 'utf8')) as { features: { properties: { code: string }; geometry: unknown }[] };
    const aisne = JSON.parse(shared('geo/communes-02-aisne.geojson').toString('utf8')) as typeof saved;
    expect(saved.features.map((f) => f.properties.code)).toEqual(aisne.features.map((f) => f.properties.code));
    expect(saved.features[17]!.geometry).toEqual(aisne.features[17]!.geometry);
    expect(entry.sha256).toBe(sha256(fs.readFileSync(path.join(out, 'communes-02.geojson'))));
  });

  it('names the URL and the HTTP status of a 404, and leaves no .part file', async () => {
    const out = tempDir();
    const error = await rejection(fetchOpenData({ departement: '02', out, config: config({ TERRINUM_ARCEP_URL: `${server.base}/missing/{file}` }) }));
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.message).toBe(`GET ${server.base}/missing/communes.csv: 404 Not Found`);
    // the communes file came before and is complete, and the manifest says so
    expect(listFiles(out)).toEqual(['communes-02.geojson', 'manifest.json']);
    expect((JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest).files.map((f) => f.file)).toEqual(['communes-02.geojson']);
  });

  it('gives up on a server that never answers after the timeout, naming the URL, and leaves no .part file', async () => {
    const out = tempDir();
    const started = Date.now();
    const error = await rejection(fetchOpenData({ departement: '02', out, config: config({ TERRINUM_COMMUNES_URL: `${server.base}/hang/{departement}.geojson`, TERRINUM_FETCH_TIMEOUT: '0.3' }) }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.message).toMatch(new RegExp(`^GET ${server.base}/hang/02\\.geojson: no complete answer within 0\\.3 s \\(waiting for the response`));
    expect(listFiles(out)).toEqual([]);
  });

  it('says so when a gzip file is cut short, and leaves no .part file', async () => {
    const out = tempDir();
    const error = await rejection(fetchOpenData({ departement: '02', out, config: config({ TERRINUM_COMMUNES_URL: `${server.base}/broken/communes.geojson.gz` }) }));
    expect(error.message).toMatch(new RegExp(`^GET ${server.base}/broken/communes\\.geojson\\.gz: not a valid gzip file: unexpected end of file`));
    expect(listFiles(out)).toEqual([]);
  });

  it('removes the partial file when the body stops coming', async () => {
    const out = tempDir();
    const error = await rejection(fetchOpenData({ departement: '02', out, config: config({ TERRINUM_ARCEP_URL: `${server.base}/stall/{file}`, TERRINUM_FETCH_TIMEOUT: '0.5' }) }));
    expect(error.message).toMatch(new RegExp(`^GET ${server.base}/stall/communes\\.csv: no complete answer within 0\\.5 s \\(reading the body`));
    expect(listFiles(out)).toEqual(['communes-02.geojson', 'manifest.json']);
  });

  describe.each(backends())('département 02, downloaded then imported (%s)', (backend) => {
    let database: Database;
    let out: string;
    let result: FetchOpenDataResult;

    beforeAll(async () => {
      database = await openEmptyDatabase(backend);
      await migrate(database);
      out = tempDir();
      result = await fetchOpenData({ departement: '02', out, import: true, database, config: config({}) });
    });
    afterAll(async () => {
      await database?.close();
    });

    it('writes every file, and a manifest with the URL, size and SHA-256 of what is on disk', () => {
      const arcep = ARCEP_FILES.map((name) => `arcep/${name.replace('.csv', '-02.csv')}`);
      expect(listFiles(out)).toEqual(['communes-02.geojson', 'manifest.json', ...arcep].sort());
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
      expect(manifest).toEqual(result.manifest);
      expect(manifest.departement).toBe('02');
      expect(manifest.files.map((f) => f.file)).toEqual(['communes-02.geojson', ...arcep]);
      for (const entry of manifest.files) {
        const bytes = fs.readFileSync(path.join(out, entry.file));
        expect(entry.sha256).toBe(sha256(bytes));
        expect(entry.bytes).toBe(bytes.length);
        expect(Date.parse(entry.fetched_at)).toBeGreaterThan(Date.now() - 600_000);
      }
      // a per-département URL: saved byte for byte (decoded from its gzip Content-Encoding)
      const communes = manifest.files[0]!;
      expect(communes).toMatchObject({ url: `${server.base}/geo/departements/02/communes?format=geojson&geometry=contour`, filtered: null });
      expect(communes.sha256).toBe(sha256(shared('geo/communes-02-aisne.geojson')));
      // national ARCEP files: what was downloaded (ftthCommunes.csv served as raw gzip) is the sample itself
      for (const entry of manifest.files.slice(1)) {
        const name = path.basename(entry.url);
        expect(entry.url).toBe(`${server.base}/arcep/${name}`);
        expect(entry.filtered!.downloaded_sha256).toBe(sha256(shared(`arcep/${ARCEP_SAMPLES[name]}`)));
      }
    });

    it("keeps the title lines, the header and exactly the département's rows of the ARCEP files", () => {
      // Computed here from the samples: commune and département rows by code, EPCI rows whose SIREN an 02 commune lists.
      const rows = (file: string) => parse(shared(`arcep/${file}`), { from_line: 6, relax_column_count: true }) as string[][];
      const epcis = new Set(rows('communes-02-62.csv').filter((r) => r[3] === '02').map((r) => r[4]!));
      expect(epcis.size).toBe(20);
      const expected = (sample: string, keep: (code: string) => boolean) => {
        const lines = shared(`arcep/${sample}`).toString('utf8').split('\n');
        return [...lines.slice(0, 5), ...lines.slice(5).filter((l) => l !== '' && keep(l.split(',')[0]!))].join('\n') + '\n';
      };
      const cases: [string, (code: string) => boolean, number][] = [
        ['ftthCommunes.csv', (c) => c.startsWith('02'), 1608],
        ['communes.csv', (c) => c.startsWith('02'), 804],
        ['ftthEpci.csv', (c) => epcis.has(c), 40],
        ['epci.csv', (c) => epcis.has(c), 20],
        ['ftthDepartements.csv', (c) => c === '02', 2],
        ['departements.csv', (c) => c === '02', 1],
      ];
      for (const [name, keep, count] of cases) {
        const file = `arcep/${name.replace('.csv', '-02.csv')}`;
        expect(fs.readFileSync(path.join(out, file), 'utf8'), file).toBe(expected(ARCEP_SAMPLES[name]!, keep));
        expect(result.manifest.files.find((f) => f.file === file)!.filtered).toMatchObject({ kept: count, unit: 'rows' });
      }
    });

    it('imports the hierarchy, then the 797 current communes of 02 with their outlines', async () => {
      expect(result.reports.map((r) => r.command)).toEqual(['import hierarchy', 'import boundaries --level commune', 'import arcep']);
      // 804 features of 2018, 7 of them merged since into current communes (SOURCES.md)
      expect(result.reports[1]).toMatchObject({ read: 804, imported: 797, reconciled: 7 });
      const { n } = await database.db
        .selectFrom('territory')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('level', '=', 'commune')
        .where('code', 'like', '02%')
        .where('geom', 'is not', null)
        .executeTakeFirstOrThrow();
      expect(Number(n)).toBe(797);
    });

    it('gives the Aisne 23.9 % of premises connectable to FttH on 2018-03-31, as ARCEP', async () => {
      const row = await database.db
        .selectFrom('indicator_value as v')
        .innerJoin('territory as t', 't.id', 'v.territory_id')
        .select(['v.value', 'v.numerator', 'v.communes', 'v.communes_expected'])
        .where('v.indicator_id', '=', 'fibre_coverage')
        .where('t.level', '=', 'departement')
        .where('t.code', '=', '02')
        .where('v.vintage', '=', '2018-Q1')
        .executeTakeFirstOrThrow();
      expect(Number(row.value!.toFixed(3))).toBe(0.239);
      // ARCEP's own département row: 65,809 locaux raccordables in T1 2018 (ftth-departements-02-62.csv)
      expect(row.numerator).toBe(65809);
      expect(row.communes).toBe(row.communes_expected);
    });

    it('records where each imported file came from', async () => {
      const sources = await database.db.selectFrom('source').select(['file_name', 'sha256', 'url']).where('kind', 'in', ['boundaries', 'arcep']).orderBy('file_name').execute();
      expect(sources).toHaveLength(7);
      for (const source of sources) {
        const entry = result.manifest.files.find((f) => path.basename(f.file) === source.file_name)!;
        expect(source).toEqual({ file_name: path.basename(entry.file), sha256: entry.sha256, url: entry.url });
      }
    });

    it('downloads again over the same folder without importing the hierarchy twice', async () => {
      const again = await fetchOpenData({ departement: '02', out, import: true, database, config: config({}) });
      expect(again.reports.map((r) => r.command)).toEqual(['import boundaries --level commune', 'import arcep']);
      expect(again.manifest.files.map((f) => f.sha256)).toEqual(result.manifest.files.map((f) => f.sha256));
      expect(listFiles(out).filter((f) => f.endsWith('.part'))).toEqual([]);
    });
  });
});
