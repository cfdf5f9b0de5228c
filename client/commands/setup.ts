// `mailroom setup temporal`: what a Temporal namespace needs before campaigns run on it — Mailroom's
// search attributes (MailroomCampaign, MailroomStatus), as `db migrate` does for the schema. The
// embedded dev server has them from its start; a cluster's new namespace has none.
import type { Command } from 'commander';
import { context, withTemporalClient } from '../connect.ts';
import { printJson, say } from '../output.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { registerSearchAttributes } from '../search-attributes.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/contract.ts';

export function registerSetup(program: Command): void {
  const setup = program.command('setup').description('prepare external services for Mailroom');
  setup
    .command('temporal')
    .description(
      `register Mailroom's search attributes (${Object.keys(SEARCH_ATTRIBUTES).join(', ')}) in the Temporal namespace`,
    )
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      '\nThe namespace is TEMPORAL_NAMESPACE (default "default") on TEMPORAL_ADDRESS or the running stack. Attributes already there are left as they are: run it as often as you like.\nExit codes: 0 done, 4 Temporal unreachable or the request refused (the message says why).',
    )
    .action(async (flags: { json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const result = await withTemporalClient(ctx, async (client, target) => {
        const added = await registerSearchAttributes(client.connection, target.namespace).catch((error: Error) => {
          throw new UserError(
            `could not register search attributes in namespace ${target.namespace} at ${target.address}: ${error.message}`,
            ExitCode.unavailable,
          );
        });
        return { address: target.address, namespace: target.namespace, added, searchAttributes: SEARCH_ATTRIBUTES };
      });
      if (flags.json) return printJson(result);
      say(
        result.added.length
          ? `Registered ${result.added.join(', ')} in namespace ${result.namespace} at ${result.address}.`
          : `Namespace ${result.namespace} at ${result.address} has Mailroom's search attributes already.`,
      );
    });
}
