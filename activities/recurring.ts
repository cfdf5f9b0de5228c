// A schedule's run: the campaign of one date (or time), registered as a campaign of its own from
// the file stored with the schedule. The workflow gets back ids and the campaign's timings only.
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/connection.ts';
import { loadCampaignText, type LoadedCampaign } from '../campaign/campaign-file.ts';
import { campaignSearchAttributes, campaignWorkflowInput, registerCampaign, workflowIdOf } from '../client/api.ts';
import { UserError } from '../client/errors.ts';
import type { CampaignWorkflowInput } from '../workflows/campaign.ts';

/** How much of its time a run's name carries: a schedule that fires at most once a day needs only the date. */
export type RunSuffix = 'date' | 'minute' | 'second';

const SUFFIX_PATTERN: Record<RunSuffix, string> = { date: 'YYYYMMDD', minute: 'YYYYMMDD-HHMM', second: 'YYYYMMDD-HHMMSS' };

/** What a run of schedule `name` is called, e.g. birthday-greetings-YYYYMMDD. */
export const runNamePattern = (name: string, suffix: RunSuffix) => `${name}-${SUFFIX_PATTERN[suffix]}`;

/** The calendar fields of `at` in `timeZone`. */
export function zonedParts(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

export function runSlug(name: string, at: Date, suffix: RunSuffix, timeZone: string): string {
  const p = zonedParts(at, timeZone);
  const date = `${name}-${p.year}${p.month}${p.day}`;
  if (suffix === 'date') return date;
  return suffix === 'minute' ? `${date}-${p.hour}${p.minute}` : `${date}-${p.hour}${p.minute}${p.second}`;
}

export interface ScheduledRunInput {
  schedule: string;
  /** When the schedule meant the run to start (ISO): it names the run, however late it starts. */
  scheduledAt: string;
  /** The run id of the registering workflow, so that a retried registration finds its own run. */
  starter: string;
}

export type ScheduledRun =
  | { start: true; slug: string; workflowId: string; input: CampaignWorkflowInput; searchAttributes: Record<string, string[]> }
  | { start: false; slug: string; reason: string };

export function createRecurringActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    async registerScheduledRun(input: ScheduledRunInput): Promise<ScheduledRun> {
      const [schedule] = await sql<{ file: string; text: string; time_zone: string; run_suffix: RunSuffix }[]>`
        select file, text, time_zone, run_suffix from campaign_schedules where name = ${input.schedule}`;
      if (!schedule) throw ApplicationFailure.nonRetryable(`schedule ${input.schedule} has no campaign stored in this database (was it deleted?)`);
      const slug = runSlug(input.schedule, new Date(input.scheduledAt), schedule.run_suffix, schedule.time_zone);
      let campaign: LoadedCampaign;
      try {
        // The run is a campaign of its own: its name is the run's, its content the schedule's file.
        campaign = { ...loadCampaignText(schedule.file, schedule.text), slug };
      } catch (error) {
        if (error instanceof UserError) throw ApplicationFailure.nonRetryable(error.message);
        throw error;
      }
      return (await sql.begin(async (txn) => {
        const tx = txn as unknown as Sql;
        // A trigger beside the scheduled time may register the same run at once: one after the other.
        await tx`select pg_advisory_xact_lock(hashtext(${`schedule-run:${slug}`}))`;
        const [existing] = await tx<{ id: number; starter: string | null }[]>`
          select c.id, r.starter from campaigns c left join schedule_runs r on r.campaign_id = c.id where c.slug = ${slug}`;
        if (existing && existing.starter !== input.starter) {
          return { start: false, slug, reason: existing.starter ? `run ${slug} was started already` : `a campaign called ${slug} exists already` };
        }
        const campaignId = existing?.id ?? (await registerCampaign(tx, campaign, slug));
        await tx`
          insert into schedule_runs (campaign_id, schedule, scheduled_at, starter)
          values (${campaignId}, ${input.schedule}, ${input.scheduledAt}, ${input.starter}) on conflict (campaign_id) do nothing`;
        return { start: true, slug, workflowId: workflowIdOf(slug), input: { ...campaignWorkflowInput(campaign, campaignId), asOf: input.scheduledAt }, searchAttributes: campaignSearchAttributes(slug) };
      })) as ScheduledRun;
    },
  };
}
