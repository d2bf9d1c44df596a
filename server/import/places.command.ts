import type { Command } from 'commander';
import { runImportCommand } from './cli-support.ts';
import { createProgress } from './progress.ts';

export function registerPlacesCommand(group: Command): void {
  group
    .command('places')
    .description(
      'import digital mediation places and public services from a CSV name,kind,lon,lat (WGS84) or GeoJSON points with name and kind properties; ' +
        'rows without coordinates are recorded as rejects (no geocoding: it needs the internet), the import fails only if no row has coordinates',
    )
    .argument('<file>', 'a .csv or .geojson file')
    .option('--vintage <vintage>', 'vintage of the file (re-importing the same file name and vintage replaces it)')
    .option('--publisher <name>', 'publisher, for attribution')
    .option('--licence <name>', 'licence')
    .action((file: string, options: { vintage?: string; publisher?: string; licence?: string }) =>
      runImportCommand(async (database) => (await import('./places.ts')).importPlaces(database, file, options, createProgress('places', null))),
    );
}
