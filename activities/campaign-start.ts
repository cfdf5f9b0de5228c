// What a campaign's workflow is started with: ids, durations and tuning, never customer data.
// Used by `mailroom launch` and by a schedule's run, which starts the workflow from a worker.
import { callWaveSpec, durationMs, type LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import type { CampaignWorkflowInput } from '../workflows/contract.ts';

/** Optional knobs of a run: batch size, lanes, retry timings. */
export type CampaignTuning = Pick<
  CampaignWorkflowInput,
  'batchSize' | 'concurrency' | 'deferRetryMs' | 'heartbeatTimeoutMs' | 'batchesPerRun' | 'callCheckMs'
>;

export function campaignWorkflowInput(
  campaign: LoadedCampaign,
  campaignId: number,
  tuning: CampaignTuning = {},
): CampaignWorkflowInput {
  return {
    campaignId,
    slug: campaign.slug,
    waves: campaign.waves.map((w) => ({
      name: w.name,
      channel: w.channel,
      afterMs: durationMs(w.after),
      ...(w.channel === 'mail' ? { confirmWithinMs: durationMs(w.confirm_within) } : {}),
      ...(w.channel === 'call' ? { dueWithinMs: durationMs(callWaveSpec(w).dueWithin) } : {}),
    })),
    responseWindowMs: durationMs(campaign.responseWindow),
    // Only a campaign that states goals gets the keys: one without behaves as before.
    ...(campaign.goals
      ? {
          goals: {
            ...(campaign.goals.contact ? { contactWithinMs: durationMs(campaign.goals.contact.within) } : {}),
            ...(campaign.goals.responses
              ? {
                  responses: {
                    kind: campaign.goals.responses.kind,
                    target: campaign.goals.responses.target,
                    byMs: durationMs(campaign.goals.responses.by),
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(campaign.fallback
      ? {
          fallback: {
            extendTo: campaign.fallback.extend_to,
            checkAtMs: durationMs(campaign.fallback.check_at),
            belowPace: campaign.fallback.below_pace,
          },
        }
      : {}),
    ...tuning,
  };
}
