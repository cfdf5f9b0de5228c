// The activities of a call wave: tasks assigned batch by batch over customer-id ranges (to the
// members the wave targets), and the wave's tasks counted (and the open ones marked overdue at the
// due time) while the workflow waits for the managers. Ids and counts in and out.
import { callWaveSpec } from '../pipeline/campaign/campaign-file.ts';
import { waveTarget } from '../pipeline/audience/wave-target.ts';
import { assignCallTasks, callWaveCounts, markOverdue, type AssignResult } from '../pipeline/calls/call-tasks.ts';
import type { CallCounts } from '../workflows/contract.ts';
import { waveOf, type CampaignPartDeps } from './campaign-reader.ts';

export function createCallWaveActivities(deps: CampaignPartDeps) {
  const { sql, campaignOf, now } = deps;
  return {
    /** Tasks for the wave's members with from <= customer id <= to, due at `dueAt` (ISO). Safe to repeat. */
    async assignCallBatch(input: {
      campaignId: number;
      wave: string;
      from: number;
      to: number;
      dueAt: string;
      cohort?: number;
    }): Promise<AssignResult> {
      const { campaign } = await campaignOf(input.campaignId);
      const wave = { ...waveOf(campaign, input.wave), cohort: input.cohort };
      const spec = callWaveSpec(wave);
      return assignCallTasks(
        sql,
        {
          campaignId: input.campaignId,
          wave: wave.name,
          fromCustomerId: input.from,
          toCustomerId: input.to,
          assignBy: spec.assignBy,
          unassigned: spec.unassigned,
          attempts: spec.attempts,
          dueAt: new Date(input.dueAt),
        },
        waveTarget(sql, campaign, input.campaignId, wave, now()),
      );
    },

    /** The wave's tasks by status; with `overdueAt` (ISO), open tasks due by then are marked overdue first. */
    async checkCallWave(input: {
      campaignId: number;
      wave: string;
      cohort?: number;
      overdueAt?: string;
    }): Promise<CallCounts & { planned: number }> {
      if (input.overdueAt) await markOverdue(sql, input.campaignId, input.wave, new Date(input.overdueAt));
      return callWaveCounts(sql, input.campaignId, input.wave, input.cohort);
    },
  };
}
