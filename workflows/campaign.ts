// The campaign workflow: snapshot the audience, then each wave after its durable delay, in
// batches over customer-id ranges with bounded concurrency. Pause, resume, cancel and skip-wait
// are signals; progress is a query. Only ids, counts and ranges pass through here.
import { condition, defineQuery, defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { createCampaignActivities } from '../activities/campaign.ts';
import type { BatchResult } from '../activities/send/ledger.ts';

type CampaignActivities = ReturnType<typeof createCampaignActivities>;

export interface CampaignWave {
  name: string;
  channel: 'mail' | 'email' | 'sms';
  afterMs: number;
}

export interface CampaignWorkflowInput {
  campaignId: number;
  slug: string;
  waves: CampaignWave[];
  batchSize?: number;
  concurrency?: number;
  /** How long to wait before trying members deferred by quiet hours again. */
  deferRetryMs?: number;
}

export interface WaveProgress {
  name: string;
  channel: CampaignWave['channel'];
  status: 'waiting' | 'sending' | 'done' | 'cancelled';
  planned: number;
  sent: number;
  failed: number;
  uncertain: number;
  suppressed: number;
  deferred: number;
}

export interface CampaignProgress {
  status: 'snapshot' | 'running' | 'paused' | 'completed' | 'cancelled';
  members: number;
  contactable: number;
  holdout: number;
  suppressed: number;
  waves: WaveProgress[];
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
export const skipWaitSignal = defineSignal('skipWait');
export const progressQuery = defineQuery<CampaignProgress>('progress');

const { snapshotCampaign } = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});
const { sendWaveBatch } = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  const progress: CampaignProgress = {
    status: 'snapshot', members: 0, contactable: 0, holdout: 0, suppressed: 0,
    waves: input.waves.map((w) => ({ name: w.name, channel: w.channel, status: 'waiting', planned: 0, sent: 0, failed: 0, uncertain: 0, suppressed: 0, deferred: 0 })),
  };
  let paused = false;
  let cancelled = false;
  let skip = false;
  setHandler(progressQuery, () => ({ ...progress, status: cancelled ? 'cancelled' : paused && progress.status === 'running' ? 'paused' : progress.status }));
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(cancelSignal, () => void (cancelled = true));
  setHandler(skipWaitSignal, () => void (skip = true));

  const snap = await snapshotCampaign({ campaignId: input.campaignId, batchSize: input.batchSize ?? 1000 });
  Object.assign(progress, { status: 'running', members: snap.members, contactable: snap.contactable, holdout: snap.holdout, suppressed: snap.suppressed });

  for (const [index, wave] of input.waves.entries()) {
    const wp = progress.waves[index]!;
    skip = false;
    if (wave.afterMs > 0) await condition(() => skip || cancelled, wave.afterMs);
    if (cancelled) break;
    wp.status = 'sending';
    let next = 0;
    const add = (r: BatchResult, first: boolean) => {
      if (first) wp.planned += r.planned;
      wp.sent += r.sent;
      wp.failed += r.failed;
      wp.uncertain += r.uncertain;
      if (first) wp.suppressed += r.suppressed;
    };
    const lane = async () => {
      while (next < snap.ranges.length && !cancelled) {
        await condition(() => !paused || cancelled);
        // Another lane may have taken the last range while this one waited.
        if (cancelled || next >= snap.ranges.length) return;
        const [from, to] = snap.ranges[next++]!;
        let result = await sendWaveBatch({ campaignId: input.campaignId, wave: wave.name, from, to });
        add(result, true);
        // Members in their quiet hours are tried again later, never dropped.
        while (result.deferred > 0 && !cancelled) {
          wp.deferred += result.deferred;
          await sleep(input.deferRetryMs ?? 15 * 60_000);
          wp.deferred -= result.deferred;
          result = await sendWaveBatch({ campaignId: input.campaignId, wave: wave.name, from, to });
          add(result, false);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, input.concurrency ?? 4) }, lane));
    wp.status = cancelled ? 'cancelled' : 'done';
  }
  progress.status = cancelled ? 'cancelled' : 'completed';
  for (const w of progress.waves) if (w.status === 'waiting' && cancelled) w.status = 'cancelled';
  return progress;
}
