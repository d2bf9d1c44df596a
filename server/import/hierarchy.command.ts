import type { Command } from 'commander';
import { runImportCommand } from './cli-support.ts';

export function registerHierarchyCommand(group: Command): void {
  group
    .command('hierarchy')
    .description(
      'import communes → EPCI → département → région and populations from @etalab/decoupage-administratif (current COG, all of France), ' +
        'or from a CSV (code,name,population then <level>,<level>_name pairs, finest level first); coarser outlines are dissolved from member communes',
    )
    .option('--from <csv>', 'a CSV hierarchy instead of the current French COG')
    .action((options: { from?: string }) =>
      runImportCommand(async (database) => (await import('./hierarchy.ts')).importHierarchy(database, { from: options.from })),
    );
}
