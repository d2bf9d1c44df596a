import type { Command } from 'commander';
import { runImportCommand } from './cli-support.ts';
import { createProgress } from './progress.ts';

export function registerCoverageCommand(group: Command): void {
  group
    .command('coverage')
    .description(
      'import coverage zones of one technology from GeoJSON (Multi)Polygons in WGS84, optional property max_down_mbps; ' +
        'invalid polygons are repaired and counted, features without geometry recorded as rejects',
    )
    .argument('<file>', 'a .geojson FeatureCollection')
    .requiredOption('--technology <technology>', 'what the zones cover, e.g. ftth, 4g, thd-radio')
    .option('--vintage <vintage>', 'vintage of the file (re-importing the same file, technology and vintage replaces it)')
    .option('--publisher <name>', 'publisher, for attribution')
    .option('--licence <name>', 'licence')
    .action((file: string, options: { technology: string; vintage?: string; publisher?: string; licence?: string }) =>
      runImportCommand(async (database) => (await import('./coverage.ts')).importCoverage(database, file, options, createProgress('coverage features', null))),
    );
}
