import type { Command } from 'commander';

/**
 * `terrinum import …` and `terrinum sources`: each importer registers its own subcommand from its module,
 * loaded lazily so that `--help` stays fast.
 */
export function registerImportCommands(program: Command): void {
  const group = program.command('import').description('import open data files (each import is one transaction)');
  void group;
}
