import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseBooleanOption, runImportCommand } from './cli-support.ts';
import type { IndicatorOptions } from './indicator.ts';
import { createProgress } from './progress.ts';

/** What commander hands over: the library's options, but --filter (repeatable) and --null-values as typed. */
type IndicatorCommandOptions = Omit<IndicatorOptions, 'filters' | 'nullValues'> & { filter?: string[]; nullValues?: string };

const HELP = `
Input: a CSV (delimiter , ; or tab sniffed; UTF-8 with or without BOM; LF or CRLF) or a .json array of objects.
Wide format: one row per territory. Long format: one row per indicator and date, select rows with
--filter COLUMN=VALUE (repeatable, all must hold).

Cells: decimal comma or point ("18,7"), thousands separated by spaces, U+00A0 or U+202F ("3 346"); empty
cells and --null-values (default NA,N/A,ND,n.d.,-; the list replaces the default; 0 matches 0,00) are missing:
the row is skipped. Codes that lost their leading zeros are padded: commune 2553 → 02553, IRIS to 9
characters, département and région 2 → 02.

Vintage: --vintage YYYY | YYYY-Qn | YYYY-MM for the whole file, or --vintage-column COLUMN holding such
vintages, quarters (2018-T1, T1 2018) or dates (2017-12-31, 31/12/2017). Dates are the end (or any day) of
their period: when every date of the selected rows is a quarter end (03-31, 06-30, 09-30, 12-31) they become
quarters (2017-12-31 → 2017-Q4), otherwise months (2020-01-31 → 2020-01). A --vintage-column import replaces
every earlier import of the same indicator from a file of the same name.

Values: --percent divides by 100 and stores a ratio in [0, 1] (unit ratio); without it, a ratio above 10
is refused as a likely percentage. With --numerator-column/--denominator-column the value is their ratio and
coarser levels are ratios of sums; a count (--unit count) aggregates as a sum; anything else as a
population-weighted mean of communes.

Levels: commune values are placed on the communes of the database, older codes folded into the current
commune (counts summed, other values averaged over the rows). --level iris --aggregate-to commune averages the
IRIS rows of each commune (row-weighted: no IRIS population is known). Values at a coarser level (epci,
departement, region) are the publisher's own figures, stored as they are and kept when aggregates are
recomputed. A code not found in the database fails the import, listed with its line; --keep-unplaced imports
the others and records it as a reject (see terrinum sources).

Example:
  terrinum import indicator indice-fragilite-numerique-iris-02-62.csv --id ifn_global --level iris \\
    --code-column "Code Iris" --value-column "SCORE GLOBAL region 1" --vintage 2020 --theme mediation-numerique \\
    --aggregate-to commune --null-values 0 --unit index --higher-is-better false`;

export function registerIndicatorCommand(group: Command): void {
  group
    .command('indicator')
    .description('import one indicator (usage, skills, services…) per commune, IRIS or coarser territory from a CSV or JSON file')
    .argument('<file>', 'a .csv or .json file')
    .requiredOption('--id <id>', 'indicator id (lower-case letters, digits, _), e.g. ifn_global')
    .requiredOption('--level <level>', 'level of the codes: commune, iris (with --aggregate-to commune), epci, departement, region')
    .requiredOption('--code-column <column>', 'column holding the territory codes')
    .option('--value-column <column>', 'column holding the values')
    .option('--numerator-column <column>', 'column holding numerators (counts), with --denominator-column')
    .option('--denominator-column <column>', 'column holding denominators (counts)')
    .option('--vintage <vintage>', 'vintage of every value: YYYY, YYYY-Qn or YYYY-MM')
    .option('--vintage-column <column>', 'column holding each row’s vintage or date (see below)')
    .requiredOption('--theme <theme>', 'infrastructure, territoires-connectes, e-sante, e-administration, e-education or mediation-numerique')
    .option('--filter <column=value>', 'keep only rows where COLUMN equals VALUE (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .addOption(new Option('--aggregate-to <level>', 'average IRIS values per commune').choices(['commune']))
    .option('--null-values <list>', 'comma-separated cell values meaning missing (default NA,N/A,ND,n.d.,-)')
    .option('--label-fr <label>', 'French label (default: the id)')
    .option('--label-en <label>', 'English label (default: the French label)')
    .addOption(new Option('--unit <unit>', 'unit of the stored values (default ratio)').choices(['ratio', 'index', 'count']))
    .option('--publisher <name>', 'publisher, for attribution')
    .option('--licence <name>', 'licence, e.g. "Licence Ouverte 2.0"')
    .option('--higher-is-better <boolean>', 'true or false (default true)', (value: string) => {
      try {
        return parseBooleanOption('higher-is-better', value);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    })
    .option('--keep-unplaced', 'import the rows whose code is found and record the others as rejects')
    .option('--percent', 'values are percentages: store them divided by 100, as a ratio')
    .addHelpText('after', HELP)
    .action((file: string, options: IndicatorCommandOptions) =>
      runImportCommand(async (database) => {
        const { importIndicator } = await import('./indicator.ts');
        return importIndicator(
          database,
          file,
          {
            ...options,
            filters: options.filter,
            nullValues: options.nullValues?.split(','),
          },
          createProgress('indicator rows', null),
        );
      }),
    );
}
