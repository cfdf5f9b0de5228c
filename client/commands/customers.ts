// `mailroom customers reassign --from NAME --to NAME [--segment S]`: hand a manager's customers on.
import type { Command } from 'commander';
import { context, withDatabase } from '../connect.ts';
import { printJson, say } from '../output.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { loadSegments } from '../../pipeline/audience/load.ts';
import { compileRule } from '../../pipeline/audience/compile.ts';
import { reassignCustomers } from '../../pipeline/contacts/reassign.ts';

export function registerCustomers(program: Command): void {
  const cmd = program
    .command('customers')
    .description("work on customer records: hand a manager's customers to another");
  cmd
    .command('reassign')
    .description(
      "hand a manager's customers (attribute account_manager) and their open call tasks to another manager; each customer's handover is written to the contact log",
    )
    .requiredOption('--from <name>', 'the manager who hands over')
    .requiredOption('--to <name>', 'the manager who takes over')
    .option('--segment <name>', 'only the customers of this segment (built-in, mailroom.yaml, or --file)')
    .option('--file <campaign.yaml>', 'a campaign or segments file whose segments --segment may name')
    .option('--json', 'print the counts as JSON')
    .addHelpText(
      'after',
      "\nWithout --segment every open call task of --from moves too (the unassigned pool's included); with it, only the tasks of the customers moved.\nExit codes: 0 done, 2 wrong usage, 3 an unknown segment, 4 the database is unreachable.",
    )
    .action(async (flags: { from: string; to: string; segment?: string; file?: string; json?: boolean }) => {
      const from = flags.from.trim();
      const to = flags.to.trim();
      if (!from || !to) throw new UserError('--from and --to must name managers', ExitCode.usage);
      if (from === to) throw new UserError(`--from and --to are both "${from}"; nothing would change`, ExitCode.usage);
      const { registry } = loadSegments(flags.file);
      const segment = flags.segment ? registry.get(flags.segment) : undefined;
      if (flags.segment && !segment)
        throw new UserError(
          `--segment ${flags.segment} is not a known segment (known: ${registry.names().join(', ')})`,
          ExitCode.badInput,
        );
      if (segment && (segment.top || segment.sample))
        throw new UserError(
          `--segment ${flags.segment} ranks or samples; reassign by a segment defined by rules alone`,
          ExitCode.badInput,
        );
      const ctx = context({ quiet: flags.json === true });
      const result = await withDatabase(ctx, (sql) =>
        reassignCustomers(sql, {
          from,
          to,
          segment: flags.segment,
          where: segment ? compileRule({ sql, registry, asOf: new Date() }, segment.rules) : undefined,
        }),
      );
      if (flags.json) return printJson({ from, to, segment: flags.segment ?? null, ...result });
      say(
        `${result.customers} customers and ${result.tasks} open call tasks handed from ${from} to ${to}${flags.segment ? ` (segment ${flags.segment})` : ''}; each is in the contact log.`,
      );
    });
}
