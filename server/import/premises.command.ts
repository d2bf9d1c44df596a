import type { Command } from 'commander';
import { runImportCommand } from './cli-support.ts';
import { createProgress } from './progress.ts';

export function registerPremisesCommand(group: Command): void {
  group
    .command('premises')
    .description(
      'import premises points from a CSV lon,lat,premises,status[,operator] (status deployed, in_progress or planned), ' +
        'streamed in constant memory and placed in communes; points outside every commune are stored without one and reported',
    )
    .argument('<file>', 'a CSV file (delimiter , ; or tab)')
    .option('--crs <crs>', 'CRS of x,y columns instead of lon,lat, e.g. EPSG:2154 (Lambert-93)')
    .option('--vintage <vintage>', 'vintage of the file (re-importing the same file name and vintage replaces it)')
    .option('--publisher <name>', 'publisher, for attribution')
    .option('--licence <name>', 'licence')
    .action((file: string, options: { crs?: string; vintage?: string; publisher?: string; licence?: string }) =>
      runImportCommand(async (database) => (await import('./premises.ts')).importPremises(database, file, options, createProgress('premises rows', null))),
    );
}
