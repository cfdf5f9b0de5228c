// A schedule's run: the campaign of one date (or time), registered as a campaign of its own from
// the file stored with the schedule. The workflow gets back ids and the campaign's timings only.
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/connection.ts';
import { loadCampaignText, type LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import { registerCampaign } from '../pipeline/campaign/campaigns-table.ts';
import { runSlug, type RunSuffix } from '../pipeline/campaign/run-names.ts';
import { campaignWorkflowInput } from './campaign-start.ts';
import { campaignSearchAttributes, workflowIdOf, type CampaignWorkflowInput } from '../workflows/contract.ts';

export interface ScheduledRunInput {
  schedule: string;
  /** When the schedule meant the run to start (ISO): it names the run, however late it starts. */
  scheduledAt: string;
  /** The run id of the registering workflow, so that a retried registration finds its own run. */
  starter: string;
}

export type ScheduledRun =
  | {
      start: true;
      slug: string;
      workflowId: string;
      input: CampaignWorkflowInput;
      searchAttributes: Record<string, string[]>;
    }
  | { start: false; slug: string; reason: string };

export function createRecurringActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    async registerScheduledRun(input: ScheduledRunInput): Promise<ScheduledRun> {
      const [schedule] = await sql<{ file: string; text: string; time_zone: string; run_suffix: RunSuffix }[]>`
        select file, text, time_zone, run_suffix from campaign_schedules where name = ${input.schedule}`;
      if (!schedule)
        throw ApplicationFailure.nonRetryable(
          `schedule ${input.schedule} has no campaign stored in this database (was it deleted?)`,
        );
      const slug = runSlug(input.schedule, new Date(input.scheduledAt), schedule.run_suffix, schedule.time_zone);
      // The run is a campaign of its own: its name is the run's, its content the schedule's file.
      const campaign: LoadedCampaign = { ...loadCampaignText(schedule.file, schedule.text), slug };
      return (await sql.begin(async (txn) => {
        const tx = txn as unknown as Sql;
        // A trigger beside the scheduled time may register the same run at once: one after the other.
        await tx`select pg_advisory_xact_lock(hashtext(${`schedule-run:${slug}`}))`;
        const [existing] = await tx<{ id: number; starter: string | null }[]>`
          select c.id, r.starter from campaigns c left join schedule_runs r on r.campaign_id = c.id where c.slug = ${slug}`;
        if (existing && existing.starter !== input.starter) {
          return {
            start: false,
            slug,
            reason: existing.starter ? `run ${slug} was started already` : `a campaign called ${slug} exists already`,
          };
        }
        const campaignId = existing?.id ?? (await registerCampaign(tx, campaign, slug, workflowIdOf(slug)));
        await tx`
          insert into schedule_runs (campaign_id, schedule, scheduled_at, starter)
          values (${campaignId}, ${input.schedule}, ${input.scheduledAt}, ${input.starter}) on conflict (campaign_id) do nothing`;
        return {
          start: true,
          slug,
          workflowId: workflowIdOf(slug),
          input: { ...campaignWorkflowInput(campaign, campaignId), asOf: input.scheduledAt },
          searchAttributes: campaignSearchAttributes(slug),
        };
      })) as ScheduledRun;
    },
  };
}
