// Recurring campaigns as Temporal Schedules: create (after checking the campaign), list, pause,
// resume, trigger and delete. The schedule `schedule-<name>` starts the recurring workflow with the
// schedule's name only; the campaign file stays in PostgreSQL (campaign_schedules), and every run
// becomes a campaign of its own, `<name>-<date>`.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import type { Sql } from '../db/connection.ts';
import type { LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import type { AudienceCounts } from '../pipeline/audience/counts.ts';
import { CAMPAIGN_NAME, durationMs, isDuration } from '../pipeline/campaign/names.ts';
import { audienceCountsOf, checkWaveTemplates } from '../pipeline/campaign/validate-campaign.ts';
import { runNamePattern, zonedParts, type RunSuffix } from '../pipeline/campaign/run-names.ts';
import { recurringCampaignWorkflow, type RecurringRunResult } from '../workflows/recurring.ts';
import { validateCampaign, type LaunchOptions } from './api.ts';
import { checkPublicTrackingUrl } from '../pipeline/send/public-links.ts';
import { ExitCode, UserError } from '../config/errors.ts';

export const scheduleIdOf = (name: string) => `schedule-${name}`;

const SLUG_MAX = 63;
const SUFFIX_LENGTH: Record<RunSuffix, number> = { date: 9, minute: 14, second: 16 };
const DAY_MS = 86_400_000;

export type Timing = { every: string } | { cron: string };

export interface CreateScheduleOptions extends Pick<LaunchOptions, 'asOf' | 'secret' | 'trackingUrl' | 'taskQueue'> {
  timing: Timing;
  /** The schedule's name; the campaign's name by default. */
  name?: string | undefined;
  timeZone: string;
  paused?: boolean;
  /** Let runs send links to a loopback or private tracking address (--allow-local-links). */
  allowLocalLinks?: boolean;
}

export interface ScheduledRunRow {
  campaign: string;
  scheduledAt: string;
  status: string;
}

export interface ScheduleInfo {
  name: string;
  scheduleId: string;
  file: string;
  timing: string;
  timeZone: string;
  /** How runs are named, e.g. birthday-greetings-YYYYMMDD. */
  runs: string;
  /** False when Temporal no longer knows the schedule (deleted elsewhere). */
  exists: boolean;
  paused: boolean;
  note?: string | undefined;
  nextRuns: string[];
  recentRuns: ScheduledRunRow[];
}

export interface CreateResult extends ScheduleInfo {
  counts: AudienceCounts;
  /** Said when today's audience is empty, so templates could not be rendered for a sample member. */
  warning?: string;
}

export function timingText(timing: Timing): string {
  return 'every' in timing ? `every ${timing.every}` : `cron ${timing.cron}`;
}

/** Checks what can be checked before anything is started; errors name the option and value. */
export function checkScheduleOptions(opts: { timing: Timing; name: string; timeZone: string }): void {
  if (!CAMPAIGN_NAME.test(opts.name))
    throw new UserError(
      `--name "${opts.name}": use lower-case letters, digits and dashes (at most 63)`,
      ExitCode.badInput,
    );
  try {
    new Intl.DateTimeFormat('en', { timeZone: opts.timeZone });
  } catch {
    throw new UserError(
      `--time-zone "${opts.timeZone}" is not a time zone; use an IANA name such as Asia/Shanghai or Europe/London`,
      ExitCode.badInput,
    );
  }
  if ('every' in opts.timing && !isDuration(opts.timing.every)) {
    throw new UserError(
      `--every "${opts.timing.every}" is not a duration; use e.g. 1d, 7d, 12h or 30m (months vary in length: use --cron for monthly runs)`,
      ExitCode.badInput,
    );
  }
  if ('every' in opts.timing && durationMs(opts.timing.every) < 1000)
    throw new UserError(`--every "${opts.timing.every}" is shorter than a second`, ExitCode.badInput);
}

/** One run a day needs only the date in its name; schedules that fire more often add the time. */
export function runSuffixOf(spec: ScheduleDescription['spec']): RunSuffix {
  const intervals = spec.intervals ?? [];
  const calendars = spec.calendars ?? [];
  if (intervals.length + calendars.length !== 1) return 'second';
  const interval = intervals[0];
  if (interval)
    return interval.every >= DAY_MS
      ? 'date'
      : interval.every % 60_000 === 0 && (interval.offset ?? 0) % 60_000 === 0
        ? 'minute'
        : 'second';
  const calendar = calendars[0]!;
  const single = (ranges: { start: number; end: number }[]) =>
    ranges.length === 1 && ranges[0]!.start === ranges[0]!.end;
  if (!single(calendar.second)) return 'second';
  return single(calendar.minute) && single(calendar.hour) ? 'date' : 'minute';
}

/**
 * The campaign is checked as `mailroom launch` checks it. A recurring audience may be empty today
 * (nobody's birthday): then the file and templates are checked, but no sample member renders them.
 */
async function checkCampaign(
  sql: Sql,
  campaign: LoadedCampaign,
  opts: CreateScheduleOptions,
): Promise<{ counts: AudienceCounts; warning?: string }> {
  const today = await audienceCountsOf(sql, campaign, opts.asOf);
  if (today.contactable > 0) return { counts: await validateCampaign(sql, campaign, opts) };
  checkWaveTemplates(campaign);
  return {
    counts: today,
    warning: `nobody in the audience is contactable today (${today.members} matched), so the templates were not rendered for a sample member; check them with \`mailroom proof ${campaign.file} --customer ID\``,
  };
}

export async function createSchedule(
  sql: Sql,
  client: Client,
  campaign: LoadedCampaign,
  opts: CreateScheduleOptions,
): Promise<CreateResult> {
  const name = opts.name ?? campaign.slug;
  checkScheduleOptions({ timing: opts.timing, name, timeZone: opts.timeZone });
  const checked = await checkCampaign(sql, campaign, opts);
  checkPublicTrackingUrl(opts.trackingUrl, { allowLocal: opts.allowLocalLinks === true, action: 'schedule create' });
  const scheduleId = scheduleIdOf(name);
  let handle: ScheduleHandle;
  try {
    // Created paused: the campaign file is stored next, and nothing may fire before it is.
    handle = await client.schedule.create({
      scheduleId,
      spec: {
        ...('every' in opts.timing
          ? { intervals: [{ every: durationMs(opts.timing.every) }] }
          : { cronExpressions: [opts.timing.cron] }),
        timezone: opts.timeZone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: recurringCampaignWorkflow,
        workflowId: scheduleId,
        taskQueue: opts.taskQueue,
        args: [{ schedule: name }],
      },
      // A run whose starter is still going is skipped; a run missed by more than a day (the
      // server was down) is not made up: greetings a week late do more harm than good.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { campaign: name, file: campaign.file },
      state: { paused: true, note: 'being created' },
    });
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning)
      throw new UserError(
        `a schedule called ${name} exists already; see \`mailroom schedule list\`, or delete it first to replace it`,
        ExitCode.badInput,
      );
    // The SDK turns the server's "invalid schedule spec" into a TypeError; anything else is not the operator's doing.
    if (!(error instanceof TypeError)) throw error;
    const option = 'every' in opts.timing ? `--every "${opts.timing.every}"` : `--cron "${opts.timing.cron}"`;
    throw new UserError(`${option}: ${error.message}`, ExitCode.badInput);
  }
  try {
    const suffix = runSuffixOf((await handle.describe()).spec);
    if (name.length + SUFFIX_LENGTH[suffix] > SLUG_MAX) {
      throw new UserError(
        `runs would be named ${runNamePattern(name, suffix)}, longer than ${SLUG_MAX} characters; give the schedule a shorter --name (at most ${SLUG_MAX - SUFFIX_LENGTH[suffix]})`,
        ExitCode.badInput,
      );
    }
    await sql`
      insert into campaign_schedules (name, file, text, timing, time_zone, run_suffix)
      values (${name}, ${campaign.file}, ${campaign.source.text}, ${timingText(opts.timing)}, ${opts.timeZone}, ${suffix})
      on conflict (name) do update set file = excluded.file, text = excluded.text, timing = excluded.timing,
        time_zone = excluded.time_zone, run_suffix = excluded.run_suffix, created_at = now()`;
    if (!opts.paused) await handle.unpause('created');
    else await handle.pause('created paused');
  } catch (error) {
    await handle.delete().catch(() => {});
    throw error;
  }
  return {
    ...(await describeSchedule(sql, client, name)),
    counts: checked.counts,
    ...(checked.warning ? { warning: checked.warning } : {}),
  };
}

function notFound(name: string): UserError {
  return new UserError(`no schedule called ${name}; see \`mailroom schedule list\``, ExitCode.badInput);
}

interface ScheduleRow {
  name: string;
  file: string;
  timing: string;
  time_zone: string;
  run_suffix: RunSuffix;
}

async function recentRuns(sql: Sql, name: string, limit: number): Promise<ScheduledRunRow[]> {
  const rows = await sql<{ slug: string; scheduled_at: Date; status: string }[]>`
    select c.slug, r.scheduled_at, c.status from schedule_runs r join campaigns c on c.id = r.campaign_id
    where r.schedule = ${name} order by r.scheduled_at desc, r.campaign_id desc limit ${limit}`;
  return rows.map((r) => ({ campaign: r.slug, scheduledAt: r.scheduled_at.toISOString(), status: r.status }));
}

async function infoOf(sql: Sql, client: Client, row: ScheduleRow): Promise<ScheduleInfo> {
  const scheduleId = scheduleIdOf(row.name);
  const base = {
    name: row.name,
    scheduleId,
    file: row.file,
    timing: row.timing,
    timeZone: row.time_zone,
    runs: runNamePattern(row.name, row.run_suffix),
    recentRuns: await recentRuns(sql, row.name, 5),
  };
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    return {
      ...base,
      exists: true,
      paused: d.state.paused,
      note: d.state.note,
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    };
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    return { ...base, exists: false, paused: false, nextRuns: [] };
  }
}

export async function describeSchedule(sql: Sql, client: Client, name: string): Promise<ScheduleInfo> {
  const [row] = await sql<
    ScheduleRow[]
  >`select name, file, timing, time_zone, run_suffix from campaign_schedules where name = ${name}`;
  if (!row) throw notFound(name);
  return infoOf(sql, client, row);
}

/** The schedules this database holds, each as Temporal describes it now. */
export async function listSchedules(sql: Sql, client: Client): Promise<ScheduleInfo[]> {
  const rows = await sql<
    ScheduleRow[]
  >`select name, file, timing, time_zone, run_suffix from campaign_schedules order by name`;
  return Promise.all(rows.map((row) => infoOf(sql, client, row)));
}

async function withHandle<T>(client: Client, name: string, fn: (handle: ScheduleHandle) => Promise<T>): Promise<T> {
  try {
    return await fn(client.schedule.getHandle(scheduleIdOf(name)));
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw notFound(name);
    throw error;
  }
}

export function pauseSchedule(client: Client, name: string, note?: string): Promise<void> {
  return withHandle(client, name, (h) => h.pause(note ?? 'paused with `mailroom schedule pause`'));
}

export function resumeSchedule(client: Client, name: string, note?: string): Promise<void> {
  return withHandle(client, name, (h) => h.unpause(note ?? 'resumed with `mailroom schedule resume`'));
}

/** Starts a run now (a paused schedule too) and, unless `waitMs` is 0, waits for the run's campaign to be started or skipped. */
export async function triggerSchedule(
  client: Client,
  name: string,
  waitMs = 30_000,
): Promise<RecurringRunResult | undefined> {
  return withHandle(client, name, async (handle) => {
    const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId));
    const since = Date.now();
    // Even while the previous run's starter is going: an operator asking for a run gets one (or hears why not).
    await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    if (waitMs === 0) return undefined;
    while (Date.now() - since < waitMs) {
      const action = (await handle.describe()).info.recentActions.find(
        (a) => !before.has(a.action.workflow.workflowId),
      );
      if (action) {
        const run = client.workflow.getHandle(
          action.action.workflow.workflowId,
          action.action.workflow.firstExecutionRunId,
        );
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(noWorker(name)), Math.max(0, waitMs - (Date.now() - since)))),
        );
        try {
          return await Promise.race([run.result() as Promise<RecurringRunResult>, late]);
        } finally {
          clearTimeout(timer);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw noWorker(name);
  });
}

function noWorker(name: string): UserError {
  return new UserError(
    `the run of ${name} was triggered but has not started its campaign yet; is a worker running? (see \`mailroom schedule list\`)`,
    ExitCode.unavailable,
  );
}

/** Removes the schedule; campaigns it started keep running. */
export async function deleteSchedule(sql: Sql, client: Client, name: string): Promise<void> {
  let existed = true;
  try {
    await client.schedule.getHandle(scheduleIdOf(name)).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    existed = false;
  }
  const removed = await sql`delete from campaign_schedules where name = ${name}`;
  if (!existed && removed.count === 0) throw notFound(name);
}

/** "2026-11-26 09:00" in the schedule's time zone. */
export function localTime(iso: string, timeZone: string): string {
  const p = zonedParts(new Date(iso), timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${p.second === '00' ? '' : `:${p.second}`}`;
}
