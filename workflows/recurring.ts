// One run of a recurring campaign, started by its Temporal Schedule: register the run as a
// campaign named for its date, then start that campaign's workflow and leave it running. The
// schedule's name and the run's ids are all that pass through here.
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { createRecurringActivities } from '../activities/recurring.ts';
import { campaignWorkflow } from './campaign.ts';

const { registerScheduledRun } = proxyActivities<ReturnType<typeof createRecurringActivities>>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

/** Set by the server on workflows a schedule starts (also when triggered by hand). */
const SCHEDULED_AT = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface RecurringRunInput {
  schedule: string;
}

export interface RecurringRunResult {
  schedule: string;
  /** The run's campaign name, e.g. birthday-greetings-20261126. */
  slug: string;
  started: boolean;
  workflowId?: string;
  /** Why nothing was started: that date's run exists already. */
  reason?: string;
}

export async function recurringCampaignWorkflow(input: RecurringRunInput): Promise<RecurringRunResult> {
  const info = workflowInfo();
  // The time the schedule meant, not when a worker got to it: a late run keeps its date.
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_AT) ?? new Date(Date.now());
  const run = await registerScheduledRun({
    schedule: input.schedule,
    scheduledAt: scheduledAt.toISOString(),
    starter: info.runId,
  });
  if (!run.start) return { schedule: input.schedule, slug: run.slug, started: false, reason: run.reason };
  try {
    await startChild(campaignWorkflow, {
      workflowId: run.workflowId,
      args: [run.input],
      searchAttributes: run.searchAttributes,
      // The campaign runs for weeks; this workflow ends as soon as it has started.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      return {
        schedule: input.schedule,
        slug: run.slug,
        started: false,
        reason: `workflow ${run.workflowId} exists already`,
      };
    throw error;
  }
  return { schedule: input.schedule, slug: run.slug, started: true, workflowId: run.workflowId };
}
