// `mailroom launch FILE`, `mailroom status NAME` and the controls pause, resume, cancel, skip-wait.
import type { Command } from 'commander';
import { context, withDatabase, withTemporalClient } from '../connect.ts';
import { campaignStatus, controlCampaign, launchCampaign, type Control } from '../api.ts';
import { formatTable, printJson, say } from '../output.ts';
import { loadCampaign } from '../../campaign/campaign-file.ts';
import { installationSecret } from '../../config/secret.ts';
import type { CampaignProgress } from '../../workflows/campaign.ts';

function printProgress(slug: string, p: CampaignProgress & { workflowStatus?: string }): void {
  say(`${slug}: ${p.status}. ${p.members} members, ${p.contactable} to contact, ${p.holdout} held out, ${p.suppressed} suppressed.`);
  say(formatTable(p.waves.map((w) => ({ wave: w.name, channel: w.channel, status: w.status, planned: w.planned, sent: w.sent, failed: w.failed, uncertain: w.uncertain, suppressed: w.suppressed, deferred: w.deferred }))));
}

export function registerCampaign(program: Command): void {
  program
    .command('launch <campaign>')
    .description('validate a campaign file completely, then start its workflow (campaign-<name>)')
    .option('--dry-run', 'validate and count only; start nothing')
    .option('--wait', 'follow the campaign until it ends')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nChecks before starting anything: the file, the audience (it compiles and counts), and every template of every wave for a sample member of every variant.\nExit codes: 0 launched (or valid with --dry-run), 3 a problem in the file, templates or audience, or the campaign was launched already, 4 a service is unreachable.')
    .action(async (file: string, flags: { dryRun?: boolean; wait?: boolean; json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const campaign = loadCampaign(file);
      const result = await withTemporalClient(ctx, (client, target) =>
        withDatabase(ctx, (sql) =>
          launchCampaign(sql, client, campaign, { asOf: new Date(), secret: installationSecret(ctx.env, ctx.paths), trackingUrl: ctx.env.MAILROOM_TRACKING_URL, taskQueue: target.taskQueue, dryRun: flags.dryRun === true }),
        ),
      );
      if (!flags.wait || !result.launched) {
        if (flags.json) return printJson(result);
        say(result.launched ? `Launched ${result.slug} (workflow ${result.workflowId}): ${result.counts.contactable} to contact, ${result.counts.holdout} held out.` : `${result.slug} is valid: ${result.counts.contactable} to contact, ${result.counts.holdout} held out. Nothing was started (--dry-run).`);
        return;
      }
      const final = await withTemporalClient(ctx, async (client) => {
        let last = '';
        for (;;) {
          const p = await campaignStatus(client, result.slug);
          const line = p.waves.map((w) => `${w.name} ${w.status} ${w.sent}/${w.planned}`).join(' · ');
          if (!flags.json && line !== last && process.stderr.isTTY) process.stderr.write(`\r${line}   `);
          last = line;
          if (p.workflowStatus !== 'RUNNING') return p;
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
      if (process.stderr.isTTY && !flags.json) process.stderr.write('\n');
      if (flags.json) return printJson({ ...result, progress: final });
      printProgress(result.slug, final);
    });

  program
    .command('status <name>')
    .description("a campaign's progress: per wave planned, sent, failed, uncertain, suppressed, deferred")
    .option('--json', 'print as JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      const p = await withTemporalClient(ctx, (client) => campaignStatus(client, name));
      if (flags.json) return printJson(p);
      printProgress(name, p);
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
}
