// The activities of a campaign run. They read the campaign from PostgreSQL (its file as stored at
// launch) and hand the workflow only ids, counts and customer-id ranges — never customer data.
import { join } from 'node:path';
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/connection.ts';
import { mailroomPaths } from '../config/paths.ts';
import { waveTemplateName } from '../pipeline/campaign/campaign-file.ts';
import { snapshotAudience } from '../pipeline/audience/snapshot.ts';
import { contextFor } from '../pipeline/render/context.ts';
import { waveTemplate } from '../pipeline/campaign/validate-campaign.ts';
import { sendBatch, type BatchResult } from '../pipeline/send/ledger.ts';
import { inQuietHours } from '../pipeline/send/quiet-hours.ts';
import { exportMailWave, recordMailing, type MailWaveJob } from '../pipeline/send/mail-wave.ts';
import { waveTarget } from '../pipeline/audience/wave-target.ts';
import { cohortRanges, cohortSendTotals } from '../pipeline/audience/cohorts.ts';
import { createCallWaveActivities } from './call-waves.ts';
import { createCohortActivities } from './cohorts.ts';
import { campaignReader, waveOf } from './campaign-reader.ts';
import { applyFeedback, type FeedbackResult } from '../pipeline/responses/feedback.ts';
import { summarizeCampaign, type CampaignSummary } from '../pipeline/responses/summary.ts';
import { isCalendarDate, type CampaignProgress } from '../workflows/contract.ts';
import { MISSING_CHANNEL, type ChannelFactories } from '../pipeline/send/channel-factories.ts';
import { recordCampaignProgress } from '../pipeline/campaign/campaigns-table.ts';

/** What a campaign's activities need to render members' messages and print jobs. */
export interface CampaignSettings {
  /** The installation secret that signs response codes and tracking links. */
  secret: string;
  trackingUrl: string;
  /** Where mail waves write their print jobs (<printDir>/<campaign>/<wave>/); .mailroom/print by default. */
  printDir?: string;
  clock?: () => Date;
}

export interface CampaignDeps {
  sql: Sql;
  settings: CampaignSettings;
  channels: ChannelFactories;
}

export interface SnapshotSummary {
  members: number;
  contactable: number;
  holdout: number;
  suppressed: number;
  /** Customer-id ranges of about `batchSize` contactable members each. */
  ranges: [number, number][];
}

export function createCampaignActivities(deps: CampaignDeps) {
  const { sql, settings } = deps;
  const now = () => settings.clock?.() ?? new Date();
  const campaignOf = campaignReader(sql);

  return {
    ...createCallWaveActivities({ sql, campaignOf, now }),
    ...createCohortActivities({ sql, campaignOf, now }),

    async snapshotCampaign(input: { campaignId: number; batchSize: number; asOf?: string }): Promise<SnapshotSummary> {
      const { campaign } = await campaignOf(input.campaignId);
      const asOf = input.asOf ? new Date(input.asOf) : now();
      const snap = await snapshotAudience(
        { sql, registry: campaign.registry, asOf, frequencyCap: campaign.config.frequencyCap },
        input.campaignId,
        campaign.audience,
      );
      const ranges = await cohortRanges(sql, input.campaignId, null, input.batchSize);
      const suppressed = Object.values(snap.counts.suppressed).reduce((a, b) => a + b, 0);
      return {
        members: snap.counts.members,
        contactable: snap.counts.contactable,
        holdout: snap.counts.holdout,
        suppressed,
        ranges,
      };
    },

    /**
     * `lanes`: how many batches of the wave run at once; the wave's rate limit is shared among them.
     * `cohort`: the members of one cohort only (a campaign whose fallback added one).
     */
    async sendWaveBatch(input: {
      campaignId: number;
      wave: string;
      from: number;
      to: number;
      lanes?: number;
      cohort?: number;
    }): Promise<BatchResult> {
      const { campaign, templates } = await campaignOf(input.campaignId);
      const wave = { ...waveOf(campaign, input.wave), cohort: input.cohort };
      const template = (variant: string | null) => {
        const name = waveTemplateName(wave, variant);
        let t = templates.get(name);
        if (!t) templates.set(name, (t = waveTemplate(campaign, wave, variant)));
        return t;
      };
      if (wave.channel === 'mail' || wave.channel === 'call')
        throw ApplicationFailure.nonRetryable(
          `wave ${wave.name} is a ${wave.channel} wave: it is ${wave.channel === 'mail' ? 'exported' : 'assigned'}, not sent in batches`,
        );
      const factory = deps.channels[wave.channel];
      // Retried, not fatal: another worker that has the channel can take the batch.
      if (!factory) throw new Error(`this worker cannot send wave ${wave.name}: ${MISSING_CHANNEL[wave.channel]}`);
      const channel = factory({ campaign, wave, template });
      // A beat on a timer as well: a batch waiting on a slow rate limit or provider is alive.
      const every = Math.max(250, Math.min(5000, (Context.current().info.heartbeatTimeoutMs ?? 30_000) / 3));
      const beat = setInterval(() => heartbeat(), every);
      try {
        const range = {
          campaignId: input.campaignId,
          wave: wave.name,
          fromCustomerId: input.from,
          toCustomerId: input.to,
        };
        const result = await sendBatch(range, {
          sql,
          channel,
          asOf: now(),
          target: waveTarget(sql, campaign, input.campaignId, wave, now()),
          ratePerSecond: wave.rate_limit ? wave.rate_limit / Math.max(1, input.lanes ?? 1) : undefined,
          context: (row) =>
            contextFor(row, campaign, { secret: settings.secret, trackingUrl: settings.trackingUrl, asOf: now() }),
          heartbeat: (progress) => heartbeat(progress),
          signal: Context.current().cancellationSignal,
          ...(wave.quiet_hours ? { defer: (row) => inQuietHours(now(), row.timezone, wave.quiet_hours!) } : {}),
        });
        // The ledger's totals for the range count every member in it; a cohort's are its own.
        if (input.cohort === undefined) return result;
        return { ...result, totals: await cohortSendTotals(sql, range, wave.channel, input.cohort) };
      } finally {
        clearInterval(beat);
        await channel.close();
      }
    },

    /** `cohort`: a cohort's letters only, printed into a folder of its own (<printDir>/cohort-N/<campaign>/<wave>). */
    async exportMailWave(input: { campaignId: number; wave: string; cohort?: number }): Promise<MailWaveJob> {
      const { campaign } = await campaignOf(input.campaignId);
      const wave = { ...waveOf(campaign, input.wave), cohort: input.cohort };
      const base = settings.printDir ?? mailroomPaths().print;
      const beat = setInterval(() => heartbeat(), 5000);
      try {
        return await exportMailWave(
          {
            sql,
            printDir: input.cohort === undefined ? base : join(base, `cohort-${input.cohort}`),
            secret: settings.secret,
            trackingUrl: settings.trackingUrl,
            asOf: now(),
          },
          campaign,
          input.campaignId,
          wave,
        );
      } finally {
        clearInterval(beat);
      }
    },

    async recordMailing(input: {
      campaignId: number;
      wave: string;
      date: string;
      cohort?: number;
    }): Promise<{ mailed: number }> {
      // The workflow's update validator refuses such a date; should one come anyway (a history from
      // before it did), retrying cannot help: the campaign stops in needs_attention with the reason.
      if (!isCalendarDate(input.date))
        throw ApplicationFailure.nonRetryable(
          `the posting date ${input.date} is not a date of the calendar (YYYY-MM-DD)`,
        );
      return recordMailing(sql, input.campaignId, input.wave, input.date, input.cohort);
    },

    /** Keeps the campaign row's status and per-wave counts current for reports and `mailroom status` after the workflow ends. */
    async recordWaveProgress(input: { campaignId: number; progress: CampaignProgress }): Promise<void> {
      await recordCampaignProgress(sql, input.campaignId, input.progress.status, input.progress.waves);
    },

    async applyFeedback(input: { campaignId: number }): Promise<FeedbackResult> {
      const { campaign } = await campaignOf(input.campaignId);
      return applyFeedback(sql, input.campaignId, campaign.responseKinds);
    },

    async summarizeCampaign(input: {
      campaignId: number;
      progress: CampaignProgress;
      cancelled: boolean;
    }): Promise<CampaignSummary> {
      const { campaign } = await campaignOf(input.campaignId);
      return summarizeCampaign(sql, campaign, input.campaignId, input.cancelled ? 'cancelled' : 'completed');
    },
  };
}
