// `mailroom launch FILE`, `mailroom status NAME` and the controls pause, resume, cancel, skip-wait.
import { join } from 'node:path';
import type { Command } from 'commander';
import { context, withDatabase, withTemporalClient } from '../connect.ts';
import {
  campaignDetails,
  campaignStatus,
  confirmMailing,
  type CampaignDetails,
  controlCampaign,
  launchCampaign,
  type CampaignState,
  type Control,
} from '../api.ts';
import type { PowerCheck } from '../../pipeline/report/power.ts';
import { callsText, countsText, followCampaign, shownTime, waveNext } from '../follow.ts';
import { formatTable, printJson, say } from '../output.ts';
import { giftStockTable } from '../gift-stock-table.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import { postingDateProblem, type CampaignProgress } from '../../workflows/contract.ts';
import type { LoadedCampaign } from '../../pipeline/campaign/campaign-file.ts';

/** `mailroom status` ends with this when the campaign needs attention, so that scripts can tell. */
export const NEEDS_ATTENTION_EXIT = 5;

const STATUS_EXIT_CODES =
  'Exit codes: 0 the campaign is running or has ended (completed or cancelled), 1 its workflow failed, was terminated or timed out, 3 no such campaign, 4 Temporal unreachable or the connection lost, 5 it needs attention (`mailroom resume` once the cause is fixed).';

/** The exit code of `status` and `launch --wait` for a campaign as it stands. */
export function statusExitCode(p: Pick<CampaignState, 'status'>): number {
  if (['failed', 'terminated', 'timed_out', 'workflow_cancelled'].includes(p.status)) return ExitCode.failure;
  if (p.status === 'needs_attention') return NEEDS_ATTENTION_EXIT;
  return ExitCode.ok;
}

type Printable = Omit<CampaignProgress, 'status'> & { status: string; workflowStatus?: string; error?: string };

/** "Power: a holdout of 49 can only detect …" — a warning when the holdout cannot show the expected lift. */
export function powerLine(power: PowerCheck): string {
  return `${power.warn ? 'Warning' : 'Power'}: ${power.message}.`;
}

/** Each call wave's tasks per manager, each goal against its pace, the gifts in stock, and the cohorts the fallback added. */
export function printDetails(p: Printable, details: CampaignDetails | undefined): void {
  for (const [wave, managers] of Object.entries(details?.managers ?? {})) {
    if (!managers.length) continue;
    say(`Calls of wave ${wave} by manager:`);
    say(
      formatTable(
        managers.map((m) => ({
          manager: m.manager,
          assigned: m.assigned,
          settled: m.settled,
          reached: m.reached,
          appointments: m.appointments,
          failed: m.failed,
          overdue: m.overdue,
          open: m.open,
        })),
      ),
    );
  }
  for (const g of details?.goals ?? []) {
    const what = g.goal === 'contact' ? 'contacted' : `${g.kind} responses`;
    say(
      `Goal ${g.goal}: ${g.done}/${g.target} ${what} by ${shownTime(g.by)}; the pace asks ${g.pace} now: ${g.onPace ? 'on pace' : 'below pace'}.`,
    );
  }
  const gifts = details?.gifts ?? [];
  if (gifts.length) {
    say('Gifts handed out at branch visits:');
    say(giftStockTable(gifts));
  }
  const f = p.fallback;
  if (f) {
    if (!f.checked) say(`Fallback: the goal is checked at ${shownTime(f.checkAt)}.`);
    else
      say(
        `Fallback checked at ${shownTime(f.checked.at)}: ${f.checked.responses} responses against a pace of ${f.checked.pace}; ${f.checked.extended ? 'the audience was extended' : 'no extension needed'}.`,
      );
    for (const c of f.cohorts) {
      say(
        `Cohort ${c.cohort}: ${c.status ?? 'running'}. ${c.members} members, ${c.contactable} to contact, ${c.holdout} held out, ${c.suppressed} suppressed.`,
      );
      for (const w of c.waves ?? [])
        say(`  ${w.name} (${w.channel}): ${w.status} ${countsText(w)}${w.calls ? ` — ${callsText(w)}` : ''}`);
    }
  }
}

export function printCampaign(slug: string, p: Printable): void {
  say(
    `${slug}: ${p.status}. ${p.members} members, ${p.contactable} to contact, ${p.holdout} held out, ${p.suppressed} suppressed.`,
  );
  say(
    formatTable(
      p.waves.map((w) => ({
        wave: w.name,
        channel: w.channel,
        status: w.status,
        done: countsText(w),
        planned: w.planned,
        sent: w.sent,
        failed: w.failed,
        uncertain: w.uncertain,
        suppressed: w.suppressed,
        deferred: w.deferred,
        mailed_on: w.mailedOn ?? '',
      })),
    ),
  );
  for (const w of p.waves) {
    const next = waveNext(slug, w);
    if (next) say(`${w.name}: ${next}.`);
  }
  if (p.error) say(`The workflow ${p.workflowStatus ?? p.status}: ${p.error}`);
  if (p.attention) {
    say(`Needs attention since ${p.attention.since}: ${p.attention.step} failed: ${p.attention.message}`);
    say(`Fix the cause, then \`mailroom resume ${slug}\` tries it again.`);
  }
  if (p.windowEndsAt) say(`Responses are awaited until ${shownTime(p.windowEndsAt)}.`);
  const s = p.summary;
  if (s) {
    const pct = (r: number) => `${(r * 100).toFixed(2)}%`;
    say(
      `Contacted ${s.contacted}; responded ${s.responders} (${pct(s.response_rate)}); holdout ${s.holdout_responders}/${s.holdout} (${pct(s.holdout_rate)}).`,
    );
    say(
      `Cost ${s.cost.toFixed(2)} ${s.currency}${s.budget !== null ? ` of a budget of ${s.budget.toFixed(2)} ${s.currency}` : ''}.`,
    );
  }
}

export function registerCampaign(program: Command): void {
  program
    .command('launch <campaign>')
    .description('validate a campaign file completely, then start its workflow (campaign-<name>)')
    .option('--dry-run', 'validate and count only; start nothing')
    .option(
      '--wait',
      'follow the campaign until it ends: a progress bar per wave on a terminal, otherwise a line per change of state',
    )
    .option(
      '--allow-local-links',
      'send links to a loopback or private tracking address (MAILROOM_TRACKING_URL), for a test run on this machine',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nChecks before starting anything: the file, the audience (it compiles and counts), every template of every wave for a sample member of every variant, and that the links go to a tracking address customers can reach.\nExit codes: 0 launched (or valid with --dry-run), 3 a problem in the file, templates or audience, a local tracking address, or the campaign was launched already, 4 a service is unreachable (or lacks the setup `mailroom setup temporal` does); with --wait, those of `mailroom status`.',
    )
    .action(
      async (file: string, flags: { dryRun?: boolean; wait?: boolean; json?: boolean; allowLocalLinks?: boolean }) => {
        const ctx = context({ quiet: flags.json === true });
        const campaign = loadCampaign(file);
        const result = await withTemporalClient(ctx, (client, target) =>
          withDatabase(ctx, (sql) =>
            launchCampaign(sql, client, campaign, {
              asOf: new Date(),
              secret: installationSecret(ctx.env, ctx.paths),
              trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
              taskQueue: target.taskQueue,
              dryRun: flags.dryRun === true,
              allowLocalLinks: flags.allowLocalLinks === true,
            }),
          ),
        );
        if (!flags.wait || !result.launched) {
          if (flags.json) return printJson(result);
          say(
            result.launched
              ? `Launched ${result.slug} (workflow ${result.workflowId}): ${result.counts.contactable} to contact, ${result.counts.holdout} held out.`
              : `${result.slug} is valid: ${result.counts.contactable} to contact, ${result.counts.holdout} held out. Nothing was started (--dry-run).`,
          );
          say(powerLine(result.power));
          if (result.launched) for (const line of mailWaveLines(campaign, ctx.paths.print)) say(line);
          return;
        }
        if (!flags.json) {
          ctx.say(powerLine(result.power));
          for (const line of mailWaveLines(campaign, ctx.paths.print)) ctx.say(line);
        }
        const final = await withTemporalClient(ctx, (client) =>
          followCampaign(client, result.slug, { bars: !flags.json }),
        );
        process.exitCode = statusExitCode(final);
        if (flags.json) return printJson({ ...result, progress: final });
        printCampaign(result.slug, final);
      },
    );

  program
    .command('status <name>')
    .description(
      "a campaign's progress: per wave planned, sent, failed, uncertain, suppressed, deferred, and what comes next",
    )
    .option(
      '--wait',
      'follow the campaign until it ends: a progress bar per wave on a terminal, otherwise a line per change of state',
    )
    .option('--json', 'print as JSON')
    .addHelpText('after', `\n${STATUS_EXIT_CODES}`)
    .action(async (name: string, flags: { json?: boolean; wait?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const p = await withTemporalClient(ctx, (client) =>
        flags.wait ? followCampaign(client, name, { bars: !flags.json }) : campaignStatus(client, name),
      );
      process.exitCode = statusExitCode(p);
      // Managers' progress and the goals come from the database; without it, status shows the rest.
      const details = await withDatabase(ctx, (sql) => campaignDetails(sql, name, p)).catch((error: unknown) => {
        ctx.say(`(calls by manager, goals and gifts not shown: ${(error as Error).message})`);
        return undefined;
      });
      if (flags.json) return printJson({ ...p, ...(details ?? {}) });
      printCampaign(name, p);
      printDetails(p, details);
    });

  const controls: [Control, string][] = [
    ['pause', 'stop starting new batches (batches under way finish)'],
    ['resume', 'continue a paused campaign'],
    ['cancel', 'end the campaign: no further batches or waves'],
    ['skip-wait', "end the current wave's waiting time now"],
  ];
  for (const [control, description] of controls) {
    program
      .command(`${control} <name>`)
      .description(description)
      .action(async (name: string) => {
        const ctx = context();
        await withTemporalClient(ctx, (client) => controlCampaign(client, name, control));
        say(`Sent ${control} to ${name}.`);
      });
  }

  const mail = program.command('mail').description('postal waves: confirm that a printed wave was posted');
  mail
    .command('confirm <campaign>')
    .description('record that the letters of a mail wave were posted: its printed pieces count as sent on that date')
    .requiredOption('--wave <name>', 'the mail wave')
    .option('--date <YYYY-MM-DD>', 'the posting date (default today, on this computer)')
    .option('--json', 'print the wave as JSON')
    .addHelpText(
      'after',
      '\nThe wave must be waiting for confirmation (see `mailroom status`); a wave not confirmed within its confirm_within (default 14d) ends "unconfirmed" and its pieces stay "printed".\nThe date must be a calendar date, at most a day ahead, and not before the wave was printed.\nExit codes: 0 confirmed, 3 not a mail wave, not waiting, or a bad date, 4 Temporal unreachable.',
    )
    .action(async (campaign: string, flags: { wave: string; date?: string; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const date = flags.date ?? localToday();
      // Checked here for a quick answer; the workflow checks again, against the time it printed the wave.
      const problem = postingDateProblem(date, { now: Date.now() });
      if (problem) throw new UserError(`--date: ${problem}`, ExitCode.badInput);
      const wave = await withTemporalClient(ctx, (client) => confirmMailing(client, campaign, flags.wave, date));
      if (flags.json) return printJson(wave);
      say(`Wave ${wave.name} of ${campaign}: ${wave.sent} letters posted on ${wave.mailedOn}.`);
    });
}

/** Today's date on this computer, YYYY-MM-DD: the operator's "today". */
function localToday(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** For each mail wave: where its print job will be and how long its posting may take to be confirmed. */
function mailWaveLines(campaign: LoadedCampaign, printDir: string): string[] {
  return campaign.waves
    .filter((w) => w.channel === 'mail')
    .map(
      (w) =>
        `Mail wave ${w.name}: printed${w.after && w.after !== '0s' ? ` ${w.after} after the previous wave` : ''} into ${join(printDir, campaign.slug, w.name)} (on the worker's machine); confirm its posting within ${w.confirm_within} of printing with \`mailroom mail confirm ${campaign.slug} --wave ${w.name} --date YYYY-MM-DD\`, or it ends unconfirmed. \`mailroom status ${campaign.slug}\` shows the deadline.`,
    );
}
