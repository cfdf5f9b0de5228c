// Runs the stack-check workflow: used by `mailroom doctor` and the demo.
import { ExitCode, UserError } from '../config/errors.ts';
import { withTemporalClient, type Context } from './connect.ts';
import { stackCheckWorkflow } from '../workflows/index.ts';
import type { StackCheckResult } from '../workflows/stack-check.ts';

export async function runStackCheck(
  ctx: Context,
  timeoutSeconds: number,
): Promise<StackCheckResult & { address: string; namespace: string }> {
  return withTemporalClient(ctx, async (client, target) => {
    const handle = await client.workflow.start(stackCheckWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `mailroom-doctor-${Date.now()}`,
      workflowExecutionTimeout: `${timeoutSeconds}s`,
    });
    try {
      return { ...(await handle.result()), address: target.address, namespace: target.namespace };
    } catch (error) {
      throw new UserError(
        `the check workflow did not complete within ${timeoutSeconds} s (${(error as Error).message}). Is a worker running on task queue "${target.taskQueue}"? Start one with \`mailroom worker\` or \`mailroom dev\`.`,
        ExitCode.unavailable,
      );
    }
  });
}
