import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';

/** `terrinum sources`: what was imported, from which file (SHA-256), which vintage, publisher and licence. */
export function registerSourcesCommand(program: Command): void {
  program
    .command('sources')
    .description('list what was imported: file, SHA-256, rows, vintage, publisher, licence, import time and rejects (UTC)')
    .option('--json', 'machine-readable output, with the full SHA-256')
    .option('--rejects <source-id>', 'list the rejects of one source instead', (value: string) => {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a source id (a number from the id column)');
      return Number(value);
    })
    .action(async (options: { json?: boolean; rejects?: number }) => {
      const { listSources, listRejects, formatSources } = await import('./sources.ts');
      const database = await openDatabase(loadConfig());
      try {
        await migrate(database);
        if (options.rejects !== undefined) {
          const source = await database.db.selectFrom('source').select('id').where('id', '=', options.rejects).executeTakeFirst();
          if (!source) throw new InvalidArgumentError(`no source ${options.rejects}: see the id column of terrinum sources`);
          const rejects = await listRejects(database, options.rejects);
          const text = options.json
            ? JSON.stringify(rejects, null, 2)
            : rejects.map((r) => `${r.line !== null ? `line ${r.line}` : '-'}\t${r.code ?? '-'}\t${r.reason}`).join('\n') || `no rejects for source ${options.rejects}`;
          process.stdout.write(`${text}\n`);
          return;
        }
        const sources = await listSources(database);
        process.stdout.write(`${options.json ? JSON.stringify(sources, null, 2) : formatSources(sources)}\n`);
      } finally {
        await database.close();
      }
    });
}
