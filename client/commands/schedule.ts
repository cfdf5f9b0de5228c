// `mailroom schedule create|list|pause|resume|trigger|delete`: recurring campaigns, each run a
// campaign of its own named for its date.
import type { Command } from 'commander';
import { context, withDatabase, withTemporalClient } from '../connect.ts';
import {
  createSchedule,
  deleteSchedule,
  listSchedules,
  localTime,
  pauseSchedule,
  resumeSchedule,
  triggerSchedule,
  type ScheduleInfo,
  type Timing,
} from '../schedules.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { formatTable, printJson, say } from '../output.ts';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';

const EXIT_CODES = 'Exit codes: 0 done, 2 wrong usage, 3 bad input or no such schedule, 4 a service is unreachable.';

function timingOf(flags: { every?: string; cron?: string }): Timing {
  if (flags.every && flags.cron) throw new UserError('give either --every or --cron, not both', ExitCode.badInput);
  if (flags.every) return { every: flags.every };
  if (flags.cron) return { cron: flags.cron };
  throw new UserError(
    'say when the campaign runs: --every DURATION (e.g. 1d) or --cron EXPR (e.g. "0 9 * * *")',
    ExitCode.badInput,
  );
}

function describe(s: ScheduleInfo): string {
  const state = !s.exists
    ? 'missing in Temporal (delete it and create it again)'
    : s.paused
      ? `paused${s.note ? ` (${s.note})` : ''}`
      : 'active';
  const next = s.nextRuns.map((t) => localTime(t, s.timeZone)).join(', ') || '—';
  return [
    `${s.name}: ${s.timing} (${s.timeZone}), ${state}. Runs are named ${s.runs}.`,
    `  file  ${s.file}`,
    `  next  ${s.paused ? `none while paused; then ${next}` : next}`,
  ].join('\n');
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('recurring campaigns (Temporal Schedules): every run is a campaign of its own, named for its date');

  schedule
    .command('create <campaign>')
    .description('check a campaign file as `launch` does, then run it on a schedule (schedule-<name>)')
    .option('--every <duration>', 'run every 1d, 7d, 12h, 30m … (counted from 00:00 UTC)')
    .option('--cron <expr>', 'run at cron times in --time-zone, e.g. "0 9 * * *" daily at 9:00, "0 10 1 * *" monthly')
    .option('--time-zone <tz>', 'time zone for --cron times and the dates in run names', 'Asia/Shanghai')
    .option('--name <name>', "the schedule's name (default: the campaign's name)")
    .option('--paused', 'create it paused (`mailroom schedule resume NAME` starts it)')
    .option(
      '--allow-local-links',
      'let runs send links to a loopback or private tracking address (MAILROOM_TRACKING_URL), for tests on this machine',
    )
    .option('--json', 'print the schedule as JSON')
    .addHelpText(
      'after',
      [
        '',
        'The file is stored with the schedule as it is now: to change it, delete the schedule and create it again.',
        'Each run is a campaign named <name>-YYYYMMDD (with -HHMM or -HHMMSS when the schedule runs more than once a day),',
        'with its own audience snapshot, workflow campaign-<run name> and report. A date that has its run already is skipped.',
        EXIT_CODES,
      ].join('\n'),
    )
    .action(
      async (
        file: string,
        flags: {
          every?: string;
          cron?: string;
          timeZone: string;
          name?: string;
          paused?: boolean;
          json?: boolean;
          allowLocalLinks?: boolean;
        },
      ) => {
        const timing = timingOf(flags);
        const ctx = context({ quiet: flags.json === true });
        const campaign = loadCampaign(file);
        const created = await withTemporalClient(ctx, (client, target) =>
          withDatabase(ctx, (sql) =>
            createSchedule(sql, client, campaign, {
              timing,
              name: flags.name,
              timeZone: flags.timeZone,
              paused: flags.paused === true,
              taskQueue: target.taskQueue,
              asOf: new Date(),
              secret: installationSecret(ctx.env, ctx.paths),
              trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
              allowLocalLinks: flags.allowLocalLinks === true,
            }),
          ),
        );
        if (flags.json) return printJson(created);
        if (created.warning) process.stderr.write(`warning: ${created.warning}\n`);
        say(`Scheduled ${describe(created)}`);
        say(`Today ${created.counts.contactable} would be contacted.`);
      },
    );

  schedule
    .command('list')
    .description('the schedules: timing, state, next run times and recent runs with their status')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const all = await withTemporalClient(ctx, (client) => withDatabase(ctx, (sql) => listSchedules(sql, client)));
      if (flags.json) return printJson(all);
      if (!all.length) return say('No schedules. Create one with `mailroom schedule create CAMPAIGN --every 1d`.');
      for (const s of all) {
        say(describe(s));
        if (s.recentRuns.length)
          say(
            formatTable(
              s.recentRuns.map((r) => ({
                run: r.campaign,
                due: localTime(r.scheduledAt, s.timeZone),
                status: r.status,
              })),
            ).replace(/^/gm, '  '),
          );
        say();
      }
    });

  for (const [verb, description] of [
    ['pause', 'stop starting runs (runs under way go on)'],
    ['resume', 'start runs again at the next scheduled time'],
  ] as const) {
    schedule
      .command(`${verb} <name>`)
      .description(description)
      .option('--note <text>', 'why, shown by `schedule list`')
      .addHelpText('after', `\n${EXIT_CODES}`)
      .action(async (name: string, flags: { note?: string }) => {
        const ctx = context();
        await withTemporalClient(ctx, (client) =>
          (verb === 'pause' ? pauseSchedule : resumeSchedule)(client, name, flags.note),
        );
        say(`${verb === 'pause' ? 'Paused' : 'Resumed'} schedule ${name}.`);
      });
  }

  schedule
    .command('trigger <name>')
    .description('start a run now (also while paused) and say which campaign it started')
    .option('--no-wait', 'return once triggered, without waiting for the run to start its campaign')
    .option('--json', 'print the run as JSON')
    .addHelpText('after', `\nA run whose date has a run already starts nothing and says so.\n${EXIT_CODES}`)
    .action(async (name: string, flags: { wait: boolean; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const run = await withTemporalClient(ctx, (client) => triggerSchedule(client, name, flags.wait ? 30_000 : 0));
      if (flags.json) return printJson(run ?? { schedule: name, triggered: true });
      if (!run) return say(`Triggered schedule ${name}.`);
      say(
        run.started
          ? `Started ${run.slug} (workflow ${run.workflowId}); see \`mailroom status ${run.slug}\`.`
          : `Started nothing: ${run.reason}.`,
      );
    });

  schedule
    .command('delete <name>')
    .description('remove a schedule; campaigns it started keep running')
    .addHelpText('after', `\n${EXIT_CODES}`)
    .action(async (name: string) => {
      const ctx = context();
      await withTemporalClient(ctx, (client) => withDatabase(ctx, (sql) => deleteSchedule(sql, client, name)));
      say(`Deleted schedule ${name}.`);
    });
}
