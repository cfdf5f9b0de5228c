// `mailroom doctor`: proves the whole stack works with a round trip through a workflow.
import type { Command } from 'commander';
import { context } from '../connect.ts';
import { printJson, say } from '../output.ts';
import { positiveInt } from '../parse-options.ts';
import { runStackCheck } from '../stack-check.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      "check that the Temporal namespace has Mailroom's search attributes, run a check workflow through Temporal, a worker and PostgreSQL, and report what answered",
    )
    .option('--timeout <seconds>', 'how long to wait for a worker to pick the check up', positiveInt, 30)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 every part answered, 4 a part did not or the namespace lacks the search attributes (the message says which, and what to run).',
    )
    .action(async (flags: { timeout: number; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const result = await runStackCheck(ctx, flags.timeout);
      if (flags.json) return printJson(result);
      say(
        `Temporal ${result.address} (namespace ${result.namespace}, with Mailroom's search attributes) ran ${result.workflowId} on task queue ${result.taskQueue}.`,
      );
      say(
        `PostgreSQL ${result.serverVersion}: ${result.migrations} migrations, ${result.customers} customers, ${result.orders} orders.`,
      );
      say('All parts answered.');
    });
}
