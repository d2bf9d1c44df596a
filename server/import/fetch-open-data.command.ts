import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.ts';
import { runImportCommand } from './cli-support.ts';

interface FetchOptions {
  departement: string;
  out?: string;
  import?: boolean;
  keepUnplaced?: boolean;
  timeout?: number;
}

/** `terrinum fetch-open-data`: a top-level command (it downloads; importing is an option). */
export function registerFetchOpenDataCommand(program: Command): void {
  program
    .command('fetch-open-data')
    .description(
      "download a département's open data (needs internet): the communes as GeoJSON (TERRINUM_COMMUNES_URL, default geo.api.gouv.fr) " +
        'and the ARCEP FttH deployment files of the 2018 layout (TERRINUM_ARCEP_URL: ftthCommunes.csv, communes.csv, ftthEpci.csv, epci.csv, ' +
        'ftthDepartements.csv, departements.csv). Files are streamed to disk (.part until complete), gzip is decompressed, national files are ' +
        "cut down to the département's rows, and manifest.json records each URL, size and SHA-256. With --import, then runs " +
        '`import hierarchy` (when the database has no commune of the département), `import boundaries --level commune` and `import arcep`.',
    )
    .requiredOption('--departement <code>', 'département code: 01–95, 2A, 2B, 971–976 (2 → 02)')
    .option('--out <dir>', 'download folder (default ./.terrinum/downloads/<departement>/)')
    .option('--import', 'import the downloaded files into the database (DATABASE_URL or the embedded one)')
    .option('--keep-unplaced', 'with --import: keep commune codes that match no current commune as rejects instead of failing')
    .option('--timeout <seconds>', 'time allowed for each file (default TERRINUM_FETCH_TIMEOUT, 300 s)', (value: string) => parseSeconds(value))
    .action(async (options: FetchOptions) => {
      const config = loadConfig();
      const { fetchOpenData, parseDepartement } = await import('./fetch-open-data.ts');
      // checked before the database is opened (parseDepartement throws InvalidArgumentError: one line on the CLI)
      parseDepartement(options.departement);
      const run = (database?: Parameters<typeof fetchOpenData>[0]['database']) =>
        fetchOpenData({
          departement: options.departement,
          out: options.out,
          import: options.import ?? false,
          database,
          keepUnplaced: options.keepUnplaced ?? false,
          config: { ...config, fetchTimeoutMs: options.timeout ?? config.fetchTimeoutMs },
          log: (line) => process.stderr.write(`${line}\n`),
        });
      if (options.import) await runImportCommand(async (database) => (await run(database)).reports);
      else process.stdout.write(`files and manifest.json in ${(await run()).out}\n`);
    });
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
  return Math.round(seconds * 1000);
}
