import type { Command } from 'commander';
import { runImportCommand } from './cli-support.ts';
import { createProgress } from './progress.ts';

export function registerArcepCommand(group: Command): void {
  group
    .command('arcep')
    .argument('<file-or-folder>', 'a CSV export of one sheet, the .xlsx workbook as published, or a folder of them')
    .description(
      'import ARCEP\'s "Le marché du haut et très haut débit fixe (déploiements)": fibre_coverage per commune and quarter = ' +
        'Locaux Raccordables ÷ (Logements + Établissements), or ÷ "Meilleure estimation des locaux à date" in the current layout. ' +
        'Older commune codes are folded into their current commune (counts summed); ARCEP\'s own EPCI and département rows are ' +
        'kept aside for cross-checks. A folder imports every recognised file in one transaction; a single communes deployment ' +
        'file needs its commune table (e.g. communes-02-62.csv) in the same folder. Run `terrinum import hierarchy` first.',
    )
    .option('--keep-unplaced', 'keep commune codes that match no current commune as rejects instead of failing')
    .action((input: string, options: { keepUnplaced?: boolean }) =>
      runImportCommand(async (database) =>
        (await import('./arcep.ts')).importArcep(database, input, { keepUnplaced: options.keepUnplaced ?? false }, createProgress('arcep rows', null)),
      ),
    );
}
