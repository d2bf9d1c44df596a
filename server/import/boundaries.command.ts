import { Option, type Command } from 'commander';
import { runImportCommand } from './cli-support.ts';

const LEVELS = ['commune', 'epci', 'departement', 'region'];

export function registerBoundariesCommand(group: Command): void {
  group
    .command('boundaries')
    .description(
      'import territory outlines of one level from GeoJSON (.geojson/.json), a Shapefile (.shp with .dbf, .prj, .cpg) or a GeoPackage (.gpkg); ' +
        'reprojected to WGS84, repaired, areas in m². Commune codes of an older COG are folded into the commune that absorbed them; ' +
        'codes matching no current territory fail the import unless --keep-unplaced. Replaces the synthetic demo territory.',
    )
    .argument('<file>', 'the boundary file (for a Shapefile, the .shp)')
    .addOption(new Option('--level <level>', 'level of the outlines').choices(LEVELS).makeOptionMandatory())
    .option('--code-field <field>', 'property holding the code (default: code, INSEE_COM, insee, CODE_INSEE, codgeo for communes; SIREN_EPCI, CODE_SIREN, siren, code for EPCI; INSEE_DEP/INSEE_REG, code)')
    .option('--name-field <field>', 'property holding the name (default: nom, NOM, NOM_COM, name, libelle)')
    .option('--vintage <year>', 'year of the boundaries, e.g. 2018')
    .option('--keep-unplaced', 'keep features whose code matches no current territory as rejects instead of failing')
    .option('--crs <EPSG:code>', 'coordinate system of the input when it does not say (Shapefile without .prj) or says it wrong, e.g. EPSG:2154')
    .option('--layer <table>', 'GeoPackage: the feature table to read when there are several')
    .action(
      (
        file: string,
        options: { level: 'commune' | 'epci' | 'departement' | 'region'; codeField?: string; nameField?: string; vintage?: string; keepUnplaced?: boolean; crs?: string; layer?: string },
      ) =>
        runImportCommand(async (database) => {
          const [{ importBoundaries }, { createProgress }] = await Promise.all([import('./boundaries.ts'), import('./progress.ts')]);
          return importBoundaries(database, file, options, createProgress('boundaries', null));
        }),
    );
}
