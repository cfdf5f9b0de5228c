// The fallback's activities: the responses goal against its pace at the check, and the audience
// extended to the next ranks as a new cohort, exactly once however often it is retried.
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { cohortRanges, extendAudience } from '../pipeline/audience/cohorts.ts';
import { paceAt, respondersOfKind } from '../pipeline/campaign/goals.ts';
import type { CampaignPartDeps } from './campaign-reader.ts';

export interface GoalPace {
  responses: number;
  /** The responses the goal should have at `at`, on a straight line to its target. */
  pace: number;
}

export interface CohortAdded {
  cohort: number;
  created: boolean;
  members: number;
  contactable: number;
  holdout: number;
  suppressed: number;
  ranges: [number, number][];
}

export function createCohortActivities(deps: CampaignPartDeps) {
  const { sql, campaignOf, now } = deps;
  return {
    async goalPace(input: {
      campaignId: number;
      kind: string;
      target: number;
      byMs: number;
      startedAt: string;
      at: string;
    }): Promise<GoalPace> {
      const responses = await respondersOfKind(sql, input.campaignId, input.kind);
      const pace = paceAt(input.target, Date.parse(input.startedAt), input.byMs, Date.parse(input.at));
      return { responses, pace };
    },

    async extendCampaignAudience(input: {
      campaignId: number;
      cohort: number;
      extendTo: number;
      batchSize: number;
      responses?: number;
      pace?: number;
    }): Promise<CohortAdded> {
      const { campaign } = await campaignOf(input.campaignId);
      if (!campaign.audience.segment.top)
        throw ApplicationFailure.nonRetryable(`campaign ${campaign.slug}: its audience has no top to extend`);
      // Alive while it waits for the lock or the query: a dead worker's attempt is retried soon.
      const every = Math.max(250, Math.min(5000, (Context.current().info.heartbeatTimeoutMs ?? 30_000) / 3));
      const beat = setInterval(() => heartbeat(), every);
      try {
        const added = await extendAudience(
          { sql, registry: campaign.registry, asOf: now(), frequencyCap: campaign.config.frequencyCap },
          input.campaignId,
          campaign.audience,
          {
            cohort: input.cohort,
            extendTo: input.extendTo,
            ...(input.responses !== undefined ? { responses: input.responses } : {}),
            ...(input.pace !== undefined ? { pace: input.pace } : {}),
          },
        );
        const c = added.counts;
        return {
          cohort: added.cohort,
          created: added.created,
          members: c.members,
          contactable: c.contactable,
          holdout: c.holdout,
          suppressed: Object.values(c.suppressed).reduce((a, b) => a + b, 0),
          ranges: await cohortRanges(sql, input.campaignId, input.cohort, input.batchSize),
        };
      } finally {
        clearInterval(beat);
      }
    },
  };
}
