// Mailroom for scripts: one object with every campaign operation the CLI has, typed.
//
//   import { connectMailroom } from 'mailroom/client/index.ts';
//   const mailroom = await connectMailroom();            // DATABASE_URL / TEMPORAL_ADDRESS, or the dev stack
//   await mailroom.launch('campaigns/spring.yaml');
//   await mailroom.confirmMailing('spring-2027', 'letter', '2027-03-02');
//   console.log(await mailroom.report('spring-2027'));
//   await mailroom.close();
//
// It finds its services as the CLI does (client/connect.ts) and throws UserError with an exit code
// for anything a caller can get wrong.
import { Client, Connection } from '@temporalio/client';
import { loadCampaign } from '../pipeline/campaign/campaign-file.ts';
import { installationSecret } from '../config/secret.ts';
import { clientConnectionOptions } from '../config/temporal.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import {
  campaignReport,
  campaignStatus,
  confirmMailing,
  controlCampaign,
  launchCampaign,
  type CampaignTuning,
} from './api.ts';
import { campaignReport as databaseReport } from '../pipeline/report/index.ts';
import { context, resolveTemporal } from './connect.ts';
import { ExitCode, UserError } from '../config/errors.ts';
import { followCampaign } from './follow.ts';

export { UserError, ExitCode };
export type { CampaignProgress, WaveProgress } from '../workflows/contract.ts';
export type { CampaignSummary } from '../pipeline/responses/summary.ts';

export async function connectMailroom() {
  const ctx = context({ quiet: true });
  const databaseUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
  if (!databaseUrl)
    throw new UserError('set DATABASE_URL, or start the stack with `mailroom dev --detach`', ExitCode.unavailable);
  const target = resolveTemporal(ctx);
  const sql = connectDatabase(databaseUrl, { max: 4 });
  await migrate(sql);
  const connection = await Connection.connect(clientConnectionOptions(target));
  const client = new Client({ connection, namespace: target.namespace });
  const secret = installationSecret(ctx.env, ctx.paths);
  return {
    /** Validates everything, then starts the campaign; `dryRun` only validates and counts. */
    /** `allowLocalLinks`: let links go to a loopback or private tracking address (a test on this machine). */
    launch: (file: string, opts: { dryRun?: boolean; tuning?: CampaignTuning; allowLocalLinks?: boolean } = {}) =>
      launchCampaign(sql, client, loadCampaign(file), {
        asOf: new Date(),
        secret,
        trackingUrl: ctx.env.MAILROOM_TRACKING_URL,
        taskQueue: target.taskQueue,
        ...opts,
      }),
    status: (name: string) => campaignStatus(client, name),
    /** Resolves when the campaign has ended, with its final progress. */
    wait: (name: string) => followCampaign(client, name, { bars: false }),
    pause: (name: string) => controlCampaign(client, name, 'pause'),
    resume: (name: string) => controlCampaign(client, name, 'resume'),
    cancel: (name: string) => controlCampaign(client, name, 'cancel'),
    skipWait: (name: string) => controlCampaign(client, name, 'skip-wait'),
    confirmMailing: (name: string, wave: string, date?: string) => confirmMailing(client, name, wave, date),
    report: (name: string) => campaignReport(client, name),
    /** The analyst's report, recomputed from the database (what `mailroom report --json` prints); no Temporal needed. */
    results: (name: string) => databaseReport(sql, name),
    async close() {
      await connection.close();
      await sql.end({ timeout: 5 });
    },
  };
}

export type Mailroom = Awaited<ReturnType<typeof connectMailroom>>;
