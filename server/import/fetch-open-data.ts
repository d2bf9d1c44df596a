import { isUtf8 } from 'node:buffer';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import zlib from 'node:zlib';
import { InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse/sync';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { importArcep } from './arcep.ts';
import { CODE_FIELDS, importBoundaries } from './boundaries.ts';
import { loadCog, padCode } from './cog.ts';
import { importHierarchy } from './hierarchy.ts';
import { openGeoJson } from './readers/geojson.ts';
import { normalise, sniffCsvHeader } from './readers/arcep-table.ts';
import type { ImportReport } from './report.ts';

/** ARCEP's observatory files, 2018 layout; the commune table first: it lists the EPCIs the EPCI files are cut to. */
export const ARCEP_FILES = ['communes.csv', 'ftthCommunes.csv', 'epci.csv', 'ftthEpci.csv', 'departements.csv', 'ftthDepartements.csv'] as const;

export interface FetchOpenDataOptions {
  /** Département code: 01–95, 2A, 2B, 971–976; `2` → `02`. */
  departement: string;
  /** Download folder; default ./.terrinum/downloads/<departement>/. */
  out?: string;
  /** Then import: hierarchy (when the département has no commune yet), commune boundaries, ARCEP deployments. */
  import?: boolean;
  /** Needed with `import`. */
  database?: Database;
  /** URL templates and timeout (TERRINUM_COMMUNES_URL, TERRINUM_ARCEP_URL, TERRINUM_FETCH_TIMEOUT). */
  config: Pick<Config, 'communesUrl' | 'arcepUrl' | 'fetchTimeoutMs'>;
  /** Pass keepUnplaced to the boundary and ARCEP imports. */
  keepUnplaced?: boolean;
  /** One line per saved file. */
  log?: (line: string) => void;
}

/** One saved file, as recorded in manifest.json. */
export interface ManifestEntry {
  url: string;
  /** Path relative to the download folder. */
  file: string;
  bytes: number;
  sha256: string;
  fetched_at: string;
  /** A national file cut down to the département: what was downloaded (decompressed) and how much was kept. */
  filtered: { downloaded_bytes: number; downloaded_sha256: string; kept: number; of: number; unit: 'features' | 'rows' } | null;
}

export interface Manifest {
  departement: string;
  files: ManifestEntry[];
}

export interface FetchOpenDataResult {
  out: string;
  manifest: Manifest;
  /** Import reports, in order (empty without `import`). */
  reports: ImportReport[];
}

/** A download that failed: the message names the URL and what went wrong (HTTP status, timeout, network). */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** `2` → `02`, `2a` → `2A`; throws for anything that is not a département code. */
export function parseDepartement(text: string): string {
  const code = text.trim().toUpperCase();
  const padded = /^\d$/.test(code) ? `0${code}` : code;
  if (/^(0[1-9]|1\d|[3-8]\d|9[0-5]|2[1-9]|2A|2B|97[1-6])$/.test(padded)) return padded;
  throw new InvalidArgumentError(`expected a département code (01–95, 2A, 2B, 971–976), got "${text}"`);
}

/**
 * Downloads a département's open data (communes GeoJSON, ARCEP FttH deployments 2018 layout) into a folder,
 * streamed to `.part` files renamed when complete, each recorded with its SHA-256 in manifest.json; national
 * files are cut down to the département. With `import`, loads them: hierarchy if needed, boundaries, ARCEP.
 */
export async function fetchOpenData(options: FetchOpenDataOptions): Promise<FetchOpenDataResult> {
  const departement = parseDepartement(options.departement);
  if (options.import && !options.database) throw new Error('fetchOpenData: `import` needs a database');
  const out = path.resolve(options.out ?? path.join('.terrinum', 'downloads', departement));
  const log = options.log ?? (() => {});
  const { communesUrl, arcepUrl, fetchTimeoutMs } = options.config;
  fs.mkdirSync(path.join(out, 'arcep'), { recursive: true });
  const manifest = readManifest(out, departement);
  const save = async (template: string, remoteName: string, file: string, select: Selector) => {
    const url = template.replaceAll('{departement}', departement).replaceAll('{file}', remoteName);
    // A template naming the département gives that département's file; otherwise the file is national.
    const entry = await fetchFile(url, out, file, template.includes('{departement}') ? null : select, fetchTimeoutMs);
    manifest.files = [...manifest.files.filter((f) => f.file !== entry.file), entry];
    writeManifest(out, manifest);
    log(describeEntry(entry, departement));
    return entry;
  };

  // Named after the département: importers identify a source by its file name, so 02 and 62 do not replace each other.
  const communesFile = `communes-${departement}.geojson`;
  await save(communesUrl, communesFile, communesFile, (raw, target) => selectFeatures(raw, target, departement));
  const epcis: { codes: Set<string> | null } = { codes: null };
  for (const name of ARCEP_FILES) {
    const file = path.join('arcep', name.replace(/\.csv$/, `-${departement}.csv`));
    await save(arcepUrl, name, file, (raw, target) => selectRows(raw, target, departement, epcis));
  }

  const reports: ImportReport[] = [];
  if (options.import) {
    const database = options.database!;
    const keepUnplaced = options.keepUnplaced ?? false;
    if (!(await hasCommunes(database, departement))) reports.push(await importHierarchy(database));
    reports.push(await importBoundaries(database, path.join(out, communesFile), { level: 'commune', keepUnplaced }));
    reports.push(await importArcep(database, path.join(out, 'arcep'), { keepUnplaced }));
    await recordUrls(database, out, manifest.files);
  }
  return { out, manifest, reports };
}

// ---------------------------------------------------------------------------------------------------------
// Download

/** Cuts a national file (decompressed, on disk) down to the département into `target`. */
type Selector = (raw: string, target: string) => Promise<{ kept: number; of: number; unit: 'features' | 'rows' }>;

async function fetchFile(url: string, out: string, file: string, select: Selector | null, timeoutMs: number): Promise<ManifestEntry> {
  const target = path.join(out, file);
  const raw = `${target}.download.part`;
  const part = `${target}.part`;
  try {
    const fetchedAt = new Date().toISOString();
    const downloaded = await download(url, raw, timeoutMs);
    let filtered: ManifestEntry['filtered'] = null;
    if (select) {
      const { kept, of, unit } = await select(raw, part);
      filtered = { downloaded_bytes: downloaded.bytes, downloaded_sha256: downloaded.sha256, kept, of, unit };
      fs.renameSync(part, target);
    } else {
      fs.renameSync(raw, target);
    }
    const saved = select ? await hashFile(target) : downloaded;
    return { url, file: file.split(path.sep).join('/'), bytes: saved.bytes, sha256: saved.sha256, fetched_at: fetchedAt, filtered };
  } finally {
    fs.rmSync(raw, { force: true });
    fs.rmSync(part, { force: true });
  }
}

/** GET url into `file`, streamed, gzip bodies decompressed; the whole exchange within timeoutMs. */
async function download(url: string, file: string, timeoutMs: number): Promise<{ bytes: number; sha256: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  const failure = (error: unknown, during: string) => {
    if (signal.aborted) return new DownloadError(`GET ${url}: no complete answer within ${timeoutMs / 1000} s (${during}; TERRINUM_FETCH_TIMEOUT or --timeout)`);
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    const offline = ['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH'].includes(cause?.code ?? '') ? '; is this machine online?' : '';
    return new DownloadError(`GET ${url}: ${(error as Error).message}${cause?.message ? ` (${cause.message}${offline})` : ''}`);
  };
  let response: Response;
  try {
    response = await fetch(url, { signal, headers: { 'user-agent': 'terrinum fetch-open-data' } });
  } catch (error) {
    throw failure(error, 'waiting for the response');
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(`GET ${url}: ${response.status} ${response.statusText}`.trimEnd());
  }
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    // fetch decodes a gzip Content-Encoding itself; a file that is gzip as such (`communes-100m.geojson.gz`)
    // is recognised by its first bytes, 1f 8b.
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)[Symbol.asyncIterator]();
    const first = await body.next();
    const gzip = !first.done && first.value[0] === 0x1f && first.value[1] === 0x8b;
    const chunks = Readable.from(
      (async function* () {
        if (!first.done) yield first.value as Buffer;
        for (let next = await body.next(); !next.done; next = await body.next()) yield next.value as Buffer;
      })(),
    );
    const output = fs.createWriteStream(file);
    await (gzip ? pipeline(chunks, zlib.createGunzip(), measure, output) : pipeline(chunks, measure, output));
  } catch (error) {
    if (String((error as { code?: string }).code).startsWith('Z_')) throw new DownloadError(`GET ${url}: not a valid gzip file: ${(error as Error).message}`);
    throw failure(error, 'reading the body');
  }
  if (bytes === 0) throw new DownloadError(`GET ${url}: the answer is empty`);
  return { bytes, sha256: hash.digest('hex') };
}

async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------------------
// National files → the département

const belongs = (communeCode: string, departement: string) => padCode(communeCode, 5).startsWith(departement);

/** Keeps the features whose commune code (code, INSEE_COM…) lies in the département; streamed both ways. */
async function selectFeatures(raw: string, target: string, departement: string): Promise<{ kept: number; of: number; unit: 'features' }> {
  const source = openGeoJson(raw);
  let kept = 0;
  let of = 0;
  let field: string | null = null;
  async function* text(): AsyncGenerator<string> {
    const crs = source.crs && 'srid' in source.crs ? `"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::${source.crs.srid}"}},` : '';
    yield `{"type":"FeatureCollection",${crs}"features":[`;
    for await (const feature of source) {
      of += 1;
      field ??= CODE_FIELDS.commune.find((f) => f in feature.properties) ?? null;
      const code = field === null ? undefined : feature.properties[field];
      if (code === undefined || code === null) {
        throw new DownloadError(`${path.basename(target, '.part')}, feature ${feature.index}: expected a commune code property (${CODE_FIELDS.commune.join(', ')}) to select the département's communes`);
      }
      if (!belongs(String(code), departement)) continue;
      yield `${kept === 0 ? '\n' : ',\n'}${JSON.stringify({ type: 'Feature', properties: feature.properties, geometry: feature.geometry })}`;
      kept += 1;
    }
    yield '\n]}\n';
  }
  await pipeline(Readable.from(text()), fs.createWriteStream(target));
  if (kept === 0) throw new DownloadError(`${path.basename(target, '.part')}: none of the ${of} features is a commune of département ${departement}`);
  return { kept, of, unit: 'features' };
}

/**
 * Keeps the title lines and the header of an ARCEP table, then the data rows of the département: communes by
 * code, EPCIs that have a commune in it (from the commune table; the EPCI rows cover their whole territory),
 * the département itself, its région. Lines are copied byte for byte (whatever the encoding and line ends).
 */
async function selectRows(raw: string, target: string, departement: string, epcis: { codes: Set<string> | null }): Promise<{ kept: number; of: number; unit: 'rows' }> {
  const name = path.basename(target, '.part');
  const header = await sniffCsvHeader(raw, name);
  if (!header) throw new DownloadError(`${name}: not an ARCEP table (no header with "Code commune", "Siren EPCI", "Code département" or "Code région" in its first lines)`);
  const delimiter = detectDelimiter(raw);
  const epciColumn = header.columns.findIndex((c) => normalise(c) === 'siren epci');
  const keep = rowFilter(header.level, departement, epcis);
  if (header.level === 'commune' && epciColumn >= 0) epcis.codes ??= new Set();
  let kept = 0;
  let of = 0;
  let line = 0;
  async function* selected(): AsyncGenerator<Buffer> {
    for await (const record of records(raw)) {
      line += record.lines;
      if (line <= header!.line) {
        yield record.bytes;
        continue;
      }
      const text = decode(record.bytes);
      if (text.trim() === '' || /^[,;\s]*$/.test(text)) continue;
      of += 1;
      const cells = (parse(text, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][])[0] ?? [];
      const code = (cells[header!.key] ?? '').trim();
      if (!keep(code)) continue;
      if (header!.level === 'commune' && epciColumn >= 0) {
        const siren = (cells[epciColumn] ?? '').trim();
        if (/^\d{9}$/.test(siren)) epcis.codes!.add(siren);
      }
      kept += 1;
      yield record.bytes;
    }
  }
  await pipeline(Readable.from(selected()), fs.createWriteStream(target));
  if (kept === 0) throw new DownloadError(`${name}: none of its ${of} rows is about département ${departement}`);
  return { kept, of, unit: 'rows' };
}

function rowFilter(level: string, departement: string, epcis: { codes: Set<string> | null }): (code: string) => boolean {
  switch (level) {
    case 'commune':
      return (code) => belongs(code, departement);
    case 'epci': {
      // Without the commune table, the current COG's EPCIs of the département (EPCIs merged since may be missed).
      epcis.codes ??= new Set([...loadCog().epcis.values()].filter((e) => e.members.some((m) => m.startsWith(departement))).map((e) => e.code));
      return (code) => epcis.codes!.has(code);
    }
    case 'departement':
      return (code) => (/^\d$/.test(code) ? `0${code}` : code.toUpperCase()) === departement;
    default: {
      const region = loadCog().departements.get(departement)?.region;
      return (code) => code === region;
    }
  }
}

/** CSV records as raw bytes with their line ends; a quoted field may span lines (an odd count of quotes so far). */
async function* records(file: string): AsyncGenerator<{ bytes: Buffer; lines: number }> {
  let pending: Buffer[] = [];
  let quotes = 0;
  let lines = 0;
  let rest = Buffer.alloc(0);
  const emit = function* (line: Buffer) {
    pending.push(line);
    lines += 1;
    for (const byte of line) if (byte === 0x22) quotes += 1;
    if (quotes % 2 === 0) {
      yield { bytes: Buffer.concat(pending), lines };
      pending = [];
      quotes = 0;
      lines = 0;
    }
  };
  for await (const chunk of fs.createReadStream(file)) {
    let data = Buffer.concat([rest, chunk as Buffer]);
    let end: number;
    while ((end = data.indexOf(0x0a)) >= 0) {
      yield* emit(data.subarray(0, end + 1));
      data = data.subarray(end + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length) yield* emit(rest);
  if (pending.length) yield { bytes: Buffer.concat(pending), lines };
}

// UTF-8, or Latin-1 (Excel's CSV on Windows): codes are ASCII either way.
const decode = (bytes: Buffer) => (isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1')).replace(/\r?\n$/, '');

function detectDelimiter(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(65536);
    const sample = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)).toString('latin1').split(/\r?\n/).slice(0, 10).join('\n');
    return (sample.match(/;/g)?.length ?? 0) > (sample.match(/,/g)?.length ?? 0) ? ';' : ',';
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Manifest and import

function readManifest(out: string, departement: string): Manifest {
  const file = path.join(out, 'manifest.json');
  if (!fs.existsSync(file)) return { departement, files: [] };
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  // Entries of files no longer on disk are dropped.
  return { departement, files: (manifest.files ?? []).filter((f) => fs.existsSync(path.join(out, f.file))) };
}

/** Written after every file (through a temporary file): the manifest always describes what is on disk. */
function writeManifest(out: string, manifest: Manifest): void {
  const file = path.join(out, 'manifest.json');
  fs.writeFileSync(`${file}.part`, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(`${file}.part`, file);
}

function describeEntry(entry: ManifestEntry, departement: string): string {
  const size = entry.bytes >= 1e6 ? `${(entry.bytes / 1e6).toFixed(1)} MB` : `${(entry.bytes / 1e3).toFixed(1)} kB`;
  const cut = entry.filtered ? `, ${entry.filtered.kept} of ${entry.filtered.of} ${entry.filtered.unit} for département ${departement}` : '';
  return `saved ${entry.file} (${size}${cut}) from ${entry.url}`;
}

async function hasCommunes(database: Database, departement: string): Promise<boolean> {
  const row = await database.db
    .selectFrom('territory')
    .select('id')
    .where('level', '=', 'commune')
    .where('synthetic', '=', false)
    .where('code', 'like', `${departement}%`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The importers know files, not where they came from: the source rows of these files get their URL. */
async function recordUrls(database: Database, out: string, entries: ManifestEntry[]): Promise<void> {
  for (const entry of entries) {
    await database.db
      .updateTable('source')
      .set({ url: entry.url })
      .where('file_name', '=', path.basename(path.join(out, entry.file)))
      .where('sha256', '=', entry.sha256)
      .execute();
  }
}
