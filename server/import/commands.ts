import type { Command } from 'commander';
import { registerHierarchyCommand } from './hierarchy.command.ts';

/** `terrinum import …`: each importer registers its own subcommand; the library modules load lazily. */
export function registerImportCommands(program: Command): void {
  const group = program.command('import').description('import open data files (each import is one transaction: all or nothing)');
  registerHierarchyCommand(group);
}
