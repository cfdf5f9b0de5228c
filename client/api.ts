// The typed client for scripts, and what the CLI uses: launch (after validating everything),
// progress, and the controls. Campaigns are identified by their name (slug); the workflow id is
// campaign-<slug>.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Sql } from '../db/connection.ts';
import type { LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import type { AudienceCounts } from '../pipeline/audience/counts.ts';
import { validateCampaign } from '../pipeline/campaign/validate-campaign.ts';
import { registerCampaign as registerCampaignRow } from '../pipeline/campaign/campaigns-table.ts';
import { campaignWorkflowInput, type CampaignTuning } from '../activities/campaign-start.ts';
import { campaignWorkflow } from '../workflows/campaign.ts';
import {
  campaignSearchAttributes,
  cancelSignal,
  confirmMailingUpdate,
  pauseSignal,
  progressQuery,
  resumeSignal,
  skipWaitSignal,
  workflowIdOf,
  type CampaignProgress,
  type WaveProgress,
} from '../workflows/contract.ts';
import { ExitCode, UserError } from '../config/errors.ts';

export interface LaunchOptions {
  asOf: Date;
  secret: string;
  trackingUrl: string;
  taskQueue: string;
  dryRun?: boolean;
  tuning?: CampaignTuning;
}

export interface LaunchResult {
  slug: string;
  workflowId: string;
  counts: AudienceCounts;
  launched: boolean;
}

export { validateCampaign, campaignWorkflowInput, workflowIdOf, campaignSearchAttributes, type CampaignTuning };

/** The campaign's row, holding the file as launched: activities read the campaign from it. */
export function registerCampaign(sql: Sql, campaign: LoadedCampaign, slug = campaign.slug): Promise<number> {
  return registerCampaignRow(sql, campaign, slug, workflowIdOf(slug));
}

export async function launchCampaign(
  sql: Sql,
  client: Client,
  campaign: LoadedCampaign,
  opts: LaunchOptions,
): Promise<LaunchResult> {
  const counts = await validateCampaign(sql, campaign, opts);
  const workflowId = workflowIdOf(campaign.slug);
  if (opts.dryRun) return { slug: campaign.slug, workflowId, counts, launched: false };
  const [existing] = await sql<
    { id: number; snapshot_at: Date | null }[]
  >`select id, snapshot_at from campaigns where slug = ${campaign.slug}`;
  if (existing?.snapshot_at) {
    throw new UserError(
      `campaign ${campaign.slug} was launched on ${existing.snapshot_at.toISOString()}; see \`mailroom status ${campaign.slug}\`. To run it again, give the campaign a new name.`,
      ExitCode.badInput,
    );
  }
  const campaignId = await registerCampaign(sql, campaign);
  try {
    await client.workflow.start(campaignWorkflow, {
      taskQueue: opts.taskQueue,
      workflowId,
      args: [campaignWorkflowInput(campaign, campaignId, opts.tuning)],
      searchAttributes: campaignSearchAttributes(campaign.slug),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UserError(
        `campaign ${campaign.slug} is already running (workflow ${workflowId}); see \`mailroom status ${campaign.slug}\``,
        ExitCode.badInput,
      );
    }
    throw error;
  }
  return { slug: campaign.slug, workflowId, counts, launched: true };
}

export async function campaignStatus(
  client: Client,
  slug: string,
): Promise<CampaignProgress & { workflowStatus: string }> {
  const handle = client.workflow.getHandle(workflowIdOf(slug));
  const description = await handle.describe().catch(() => {
    throw new UserError(`no campaign called ${slug} has been launched`, ExitCode.badInput);
  });
  const status = description.status.name;
  // A completed campaign answers with its result; one that failed or was terminated still
  // answers the progress query from its history.
  const progress =
    status === 'RUNNING'
      ? await handle.query(progressQuery)
      : status === 'COMPLETED'
        ? ((await handle.result()) as CampaignProgress)
        : await handle.query(progressQuery).catch(() => {
            throw new UserError(
              `campaign ${slug} ended ${status.toLowerCase()} and its progress cannot be read; see the Temporal UI for workflow ${workflowIdOf(slug)}`,
              ExitCode.failure,
            );
          });
  return { ...progress, workflowStatus: status };
}

const SIGNALS = {
  pause: pauseSignal,
  resume: resumeSignal,
  cancel: cancelSignal,
  'skip-wait': skipWaitSignal,
} as const;
export type Control = keyof typeof SIGNALS;

export async function controlCampaign(client: Client, slug: string, control: Control): Promise<void> {
  const handle = client.workflow.getHandle(workflowIdOf(slug));
  try {
    await handle.signal(SIGNALS[control]);
  } catch {
    throw new UserError(`campaign ${slug} is not running; see \`mailroom status ${slug}\``, ExitCode.badInput);
  }
}

/** The operator posted a mail wave's letters: its printed pieces become sent on `date` (YYYY-MM-DD, default today). */
export async function confirmMailing(client: Client, slug: string, wave: string, date?: string): Promise<WaveProgress> {
  const handle = client.workflow.getHandle(workflowIdOf(slug));
  try {
    return await handle.executeUpdate(confirmMailingUpdate, { args: [{ wave, ...(date ? { date } : {}) }] });
  } catch (error) {
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UserError(`cannot confirm wave ${wave} of ${slug}: ${cause}`, ExitCode.badInput);
  }
}

/** The report part of a campaign's status: its final summary once it has ended, null before. */
export function reportOf(slug: string, status: Awaited<ReturnType<typeof campaignStatus>>) {
  return {
    slug,
    status: status.status,
    workflowStatus: status.workflowStatus,
    waves: status.waves,
    summary: status.summary ?? null,
  };
}

/** The campaign's final summary once it has ended (or its progress so far). */
export async function campaignReport(client: Client, slug: string) {
  return reportOf(slug, await campaignStatus(client, slug));
}
