// A round trip through every part: client → Temporal → worker → activity → PostgreSQL → back.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { DatabaseSummary } from '../activities/health.ts';

const { databaseSummary } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface StackCheckResult extends DatabaseSummary {
  workflowId: string;
  taskQueue: string;
}

export async function stackCheckWorkflow(): Promise<StackCheckResult> {
  const summary = await databaseSummary();
  const info = workflowInfo();
  return { ...summary, workflowId: info.workflowId, taskQueue: info.taskQueue };
}
