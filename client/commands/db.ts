// `mailroom db migrate|status`
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { migrationFiles } from '../../db/migrate.ts';

/** Migrations as the database records them; opening the database applies pending ones first. */
async function appliedMigrations(json: boolean): Promise<Map<string, string>> {
  const ctx = context({ quiet: json });
  const rows = await withDatabase(
    ctx,
    (sql) => sql<{ name: string; applied_at: Date }[]>`select name, applied_at from schema_migrations order by name`,
  );
  return new Map(rows.map((r) => [r.name, r.applied_at.toISOString()]));
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('database schema');
  db.command('migrate')
    .description('apply pending migrations from db/migrations (also done at every start)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }) => {
      const applied = await appliedMigrations(flags.json === true);
      if (flags.json) return printJson({ applied: [...applied.keys()] });
      say(`${applied.size} migrations applied; the database is up to date.`);
    });
  db.command('status')
    .description('list migrations and when each was applied')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const applied = await appliedMigrations(flags.json === true);
      const list = migrationFiles().map((f) => ({ migration: f.name, applied: applied.get(f.name) ?? 'pending' }));
      if (flags.json) return printJson(list);
      say(formatTable(list));
    });
}
