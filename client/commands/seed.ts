// `mailroom seed --customers N [--seed S]`
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { formatTable, printJson, say } from '../output.ts';
import { nonNegativeInt, positiveInt } from '../parse-options.ts';
import { progressBar } from '../progress.ts';
import { runSeed, type SeedSummary } from '../../dev/seed/run-seed.ts';
import type { Context } from '../connect.ts';
import { parseAsOf } from './segment.ts';

export async function seedCustomers(ctx: Context, customers: number, seed: number, asOf?: Date): Promise<SeedSummary> {
  return withDatabase(ctx, async (sql) => {
    const bar = progressBar('Seeding customers', customers, { unit: 'customers' });
    try {
      return await runSeed(sql, { customers, seed, ...(asOf ? { asOf } : {}), onProgress: (done) => bar.update(done) });
    } finally {
      bar.stop();
    }
  });
}

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('add realistic synthetic customers with orders, consents and suppressions (reproducible from --seed)')
    .requiredOption('--customers <n>', 'how many customers', positiveInt)
    .option('--seed <s>', 'random seed: the same seed gives the same customers', nonNegativeInt, 1)
    .option('--as-of <date>', 'the day the history runs up to (default today)')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: { customers: number; seed: number; asOf?: string; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const asOf = flags.asOf ? parseAsOf(flags.asOf) : undefined;
      const summary = await seedCustomers(ctx, flags.customers, flags.seed, asOf);
      if (flags.json) return printJson(summary);
      say(`Seeded ${summary.customers} customers (seed ${summary.seed}) in ${summary.seconds.toFixed(1)} s`);
      say(
        formatTable([
          {
            inserted: summary.inserted,
            updated: summary.updated,
            orders: summary.orders,
            suppressions: summary.suppressions,
          },
        ]),
      );
    });
}
