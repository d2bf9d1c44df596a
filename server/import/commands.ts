import type { Command } from 'commander';
import { registerArcepCommand } from './arcep.command.ts';
import { registerBoundariesCommand } from './boundaries.command.ts';
import { registerCoverageCommand } from './coverage.command.ts';
import { registerFetchOpenDataCommand } from './fetch-open-data.command.ts';
import { registerHierarchyCommand } from './hierarchy.command.ts';
import { registerIndicatorCommand } from './indicator.command.ts';
import { registerPlacesCommand } from './places.command.ts';
import { registerPremisesCommand } from './premises.command.ts';
import { registerSourcesCommand } from './sources.command.ts';

/** `terrinum import …`, `terrinum sources` and `terrinum fetch-open-data`: each importer registers its own subcommand; libraries load lazily. */
export function registerImportCommands(program: Command): void {
  const group = program.command('import').description('import open data files (each import is one transaction: all or nothing)');
  registerBoundariesCommand(group);
  registerHierarchyCommand(group);
  registerArcepCommand(group);
  registerIndicatorCommand(group);
  registerPremisesCommand(group);
  registerCoverageCommand(group);
  registerPlacesCommand(group);
  registerSourcesCommand(program);
  registerFetchOpenDataCommand(program);
}
