// `mailroom launch FILE`, `mailroom status NAME` and the controls pause, resume, cancel, skip-wait.
import type { Command } from 'commander';
import { context, withDatabase, withTemporalClient } from '../connect.ts';
import { campaignStatus, confirmMailing, controlCampaign, launchCampaign, type Control } from '../api.ts';
import { followCampaign } from '../follow.ts';
import { formatTable, printJson, say } from '../output.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import type { CampaignProgress } from '../../workflows/contract.ts';

export function printCampaign(slug: string, p: CampaignProgress & { workflowStatus?: string }): void {
  say(
    `${slug}: ${p.status}. ${p.members} members, ${p.contactable} to contact, ${p.holdout} held out, ${p.suppressed} suppressed.`,
  );
  say(
    formatTable(
      p.waves.map((w) => ({
        wave: w.name,
        channel: w.channel,
        status: w.status,
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
  if (p.attention) {
    say(`Needs attention since ${p.attention.since}: ${p.attention.step} failed: ${p.attention.message}`);
    say(`Fix the cause, then \`mailroom resume ${slug}\` tries it again.`);
  }
  if (p.windowEndsAt) say(`Responses are awaited until ${p.windowEndsAt}.`);
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
    .option('--wait', 'follow the campaign until it ends, with a progress bar per wave')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nChecks before starting anything: the file, the audience (it compiles and counts), and every template of every wave for a sample member of every variant.\nExit codes: 0 launched (or valid with --dry-run), 3 a problem in the file, templates or audience, or the campaign was launched already, 4 a service is unreachable.',
    )
    .action(async (file: string, flags: { dryRun?: boolean; wait?: boolean; json?: boolean }) => {
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
        return;
      }
      const final = await withTemporalClient(ctx, (client) =>
        followCampaign(client, result.slug, { bars: !flags.json }),
      );
      if (flags.json) return printJson({ ...result, progress: final });
      printCampaign(result.slug, final);
    });

  program
    .command('status <name>')
    .description("a campaign's progress: per wave planned, sent, failed, uncertain, suppressed, deferred")
    .option('--json', 'print as JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const p = await withTemporalClient(ctx, (client) => campaignStatus(client, name));
      if (flags.json) return printJson(p);
      printCampaign(name, p);
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
    .option('--date <YYYY-MM-DD>', 'the posting date (default today)')
    .option('--json', 'print the wave as JSON')
    .addHelpText(
      'after',
      '\nThe wave must be waiting for confirmation (see `mailroom status`); a wave not confirmed within its confirm_within (default 14d) ends "unconfirmed" and its pieces stay "printed".\nExit codes: 0 confirmed, 3 not a mail wave, not waiting, or a bad date, 4 Temporal unreachable.',
    )
    .action(async (campaign: string, flags: { wave: string; date?: string; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      if (flags.date && !/^\d{4}-\d{2}-\d{2}$/.test(flags.date))
        throw new UserError(`--date: expected YYYY-MM-DD, got ${flags.date}`, ExitCode.usage);
      const wave = await withTemporalClient(ctx, (client) => confirmMailing(client, campaign, flags.wave, flags.date));
      if (flags.json) return printJson(wave);
      say(`Wave ${wave.name} of ${campaign}: ${wave.sent} letters posted on ${wave.mailedOn}.`);
    });
}
