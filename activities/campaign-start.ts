// What a campaign's workflow is started with: ids, durations and tuning, never customer data.
// Used by `mailroom launch` and by a schedule's run, which starts the workflow from a worker.
import { durationMs, type LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import type { CampaignWorkflowInput } from '../workflows/contract.ts';

/** Optional knobs of a run: batch size, lanes, retry timings. */
export type CampaignTuning = Pick<
  CampaignWorkflowInput,
  'batchSize' | 'concurrency' | 'deferRetryMs' | 'heartbeatTimeoutMs' | 'batchesPerRun'
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
    })),
    responseWindowMs: durationMs(campaign.responseWindow),
    ...tuning,
  };
}
