// Runs the stack-check workflow: used by `mailroom doctor` and the demo. Before it, the namespace
// is checked for Mailroom's search attributes: without them no campaign can start.
import { ExitCode, UserError } from '../config/errors.ts';
import { missingSearchAttributes } from './search-attributes.ts';
import { withTemporalClient, type Context } from './connect.ts';
import { stackCheckWorkflow } from '../workflows/index.ts';
import type { StackCheckResult } from '../workflows/stack-check.ts';

export async function runStackCheck(
  ctx: Context,
  timeoutSeconds: number,
): Promise<StackCheckResult & { address: string; namespace: string; searchAttributes: 'registered' }> {
  return withTemporalClient(ctx, async (client, target) => {
    const missing = await missingSearchAttributes(client.connection, target.namespace).catch((error: Error) => {
      throw new UserError(
        `Temporal at ${target.address} did not list the search attributes of namespace ${target.namespace}: ${error.message}`,
        ExitCode.unavailable,
      );
    });
    if (missing.length)
      throw new UserError(
        `Temporal namespace ${target.namespace} at ${target.address} does not have Mailroom's search attributes ${missing.join(', ')}: campaigns cannot start there. Register them with \`mailroom setup temporal\`.`,
        ExitCode.unavailable,
      );
    const handle = await client.workflow.start(stackCheckWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `mailroom-doctor-${Date.now()}`,
      workflowExecutionTimeout: `${timeoutSeconds}s`,
    });
    try {
      return {
        ...(await handle.result()),
        address: target.address,
        namespace: target.namespace,
        searchAttributes: 'registered' as const,
      };
    } catch (error) {
      throw new UserError(
        `the check workflow did not complete within ${timeoutSeconds} s (${(error as Error).message}). Is a worker running on task queue "${target.taskQueue}"? Start one with \`mailroom worker\` or \`mailroom dev\`.`,
        ExitCode.unavailable,
      );
    }
  });
}
