// `mailroom report NAME`: a campaign's results for the analyst.
import type { Command } from 'commander';
import { context, withTemporalClient } from '../connect.ts';
import { reportOf, campaignStatus } from '../api.ts';
import { formatTable, printJson, say } from '../output.ts';
import { printCampaign } from './campaign.ts';

export function registerReport(program: Command): void {
  program
    .command('report <name>')
    .description(
      "a campaign's summary: per wave sent, failed, uncertain and cost; responders among the contacted and the holdout",
    )
    .option('--json', 'print as JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const ctx = context({ quiet: flags.json === true });
      // One read of the campaign serves both the report and the progress table.
      const status = await withTemporalClient(ctx, (client) => campaignStatus(client, name));
      const report = reportOf(name, status);
      if (flags.json) return printJson(report);
      if (!report.summary) say(`${name} is ${report.status}; its summary is written when it ends. Progress so far:`);
      printCampaign(name, status);
      if (report.summary) say(formatTable(report.summary.waves.map((w) => ({ ...w }))));
    });
}
