// The typed client for scripts, and what the CLI uses: launch (after validating everything),
// progress, and the controls. Campaigns are identified by their name (slug); the workflow id is
// campaign-<slug>.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Sql } from '../db/connection.ts';
import { durationMs, waveTemplateName, type LoadedCampaign } from '../campaign/campaign-file.ts';
import { audienceQuery } from '../activities/audience/audience-query.ts';
import { audienceCounts, type AudienceCounts } from '../activities/audience/counts.ts';
import { customersAsMembers } from '../activities/render/members.ts';
import { contextFor } from '../activities/render/context.ts';
import { loadTemplate, renderEmail, renderSms, resolveTemplateDir } from '../activities/render/templates.ts';
import {
  campaignWorkflow, cancelSignal, confirmMailingUpdate, pauseSignal, progressQuery, resumeSignal, skipWaitSignal,
  type CampaignProgress, type CampaignWorkflowInput, type WaveProgress,
} from '../workflows/campaign.ts';
import { ExitCode, UserError } from './errors.ts';

export const workflowIdOf = (slug: string) => `campaign-${slug}`;

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

/** Everything is checked before anything starts: the audience compiles and counts, and every template of every wave renders for a sample member of every variant. */
export async function validateCampaign(sql: Sql, campaign: LoadedCampaign, opts: Pick<LaunchOptions, 'asOf' | 'secret' | 'trackingUrl'>): Promise<AudienceCounts> {
  const rows = audienceQuery({ sql, registry: campaign.registry, asOf: opts.asOf, frequencyCap: campaign.config.frequencyCap }, campaign.audience, campaign.slug);
  const counts = await audienceCounts(sql, rows);
  if (counts.contactable === 0) throw new UserError(`${campaign.file}: the audience has no one to contact (${counts.members} matched; see \`mailroom segment preview ${campaign.file}\`)`, ExitCode.badInput);
  const samples = await sql<{ customer_id: number; variant: string | null; rank: number | null; band: string | null }[]>`
    select distinct on (variant) customer_id, variant, rank, band
    from (${audienceQuery({ sql, registry: campaign.registry, asOf: opts.asOf }, campaign.audience, campaign.slug)}) a
    where suppression_reason is null and not holdout order by variant, customer_id`;
  const members = await customersAsMembers(sql, samples.map((s) => s.customer_id));
  for (const sample of samples) {
    const row = { ...members.find((m) => m.customer_id === sample.customer_id)!, rank: sample.rank, band: sample.band, variant: sample.variant };
    const ctx = contextFor(row, campaign, opts);
    for (const wave of campaign.waves) {
      const t = loadTemplate(resolveTemplateDir(waveTemplateName(wave, sample.variant), campaign.dir));
      if (t.channel !== wave.channel) throw new UserError(`wave ${wave.name} is ${wave.channel}, but its template ${t.name} is for ${t.channel}`, ExitCode.badInput);
      if (t.channel === 'email') renderEmail(t, ctx);
      else if (t.channel === 'sms') renderSms(t, ctx);
      else for (const page of t.pages) for (const block of page.blocks) block.compiled?.render(ctx);
    }
  }
  return counts;
}

/** What the campaign workflow is started with: ids, durations and tuning, never customer data. */
export function campaignWorkflowInput(campaign: LoadedCampaign, campaignId: number, tuning: CampaignTuning = {}): CampaignWorkflowInput {
  return {
    campaignId,
    slug: campaign.slug,
    waves: campaign.waves.map((w) => ({ name: w.name, channel: w.channel, afterMs: durationMs(w.after), ...(w.channel === 'mail' ? { confirmWithinMs: durationMs(w.confirm_within) } : {}) })),
    responseWindowMs: durationMs(campaign.responseWindow),
    ...tuning,
  };
}

/** Optional knobs of a run: batch size, lanes, retry timings. */
export type CampaignTuning = Pick<CampaignWorkflowInput, 'batchSize' | 'concurrency' | 'deferRetryMs' | 'heartbeatTimeoutMs' | 'batchesPerRun'>;

/** The campaign's row, holding the file as launched: activities read the campaign from it. */
export async function registerCampaign(sql: Sql, campaign: LoadedCampaign, slug = campaign.slug): Promise<number> {
  const spec = { file: campaign.file, text: campaign.source.text };
  const [row] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, workflow_id, status) values (${slug}, ${campaign.title}, ${sql.json(spec)}, ${workflowIdOf(slug)}, 'launched')
    on conflict (slug) do update set spec = excluded.spec, name = excluded.name, updated_at = now() returning id`;
  return row!.id;
}

export const campaignSearchAttributes = (slug: string) => ({ MailroomCampaign: [slug], MailroomStatus: ['launched'] });

export async function launchCampaign(sql: Sql, client: Client, campaign: LoadedCampaign, opts: LaunchOptions): Promise<LaunchResult> {
  const counts = await validateCampaign(sql, campaign, opts);
  const workflowId = workflowIdOf(campaign.slug);
  if (opts.dryRun) return { slug: campaign.slug, workflowId, counts, launched: false };
  const [existing] = await sql<{ id: number; snapshot_at: Date | null }[]>`select id, snapshot_at from campaigns where slug = ${campaign.slug}`;
  if (existing?.snapshot_at) {
    throw new UserError(`campaign ${campaign.slug} was launched on ${existing.snapshot_at.toISOString()}; see \`mailroom status ${campaign.slug}\`. To run it again, give the campaign a new name.`, ExitCode.badInput);
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
      throw new UserError(`campaign ${campaign.slug} is already running (workflow ${workflowId}); see \`mailroom status ${campaign.slug}\``, ExitCode.badInput);
    }
    throw error;
  }
  return { slug: campaign.slug, workflowId, counts, launched: true };
}

export async function campaignStatus(client: Client, slug: string): Promise<CampaignProgress & { workflowStatus: string }> {
  const handle = client.workflow.getHandle(workflowIdOf(slug));
  const description = await handle.describe().catch(() => {
    throw new UserError(`no campaign called ${slug} has been launched`, ExitCode.badInput);
  });
  const status = description.status.name;
  // A completed campaign answers with its result; one that failed or was terminated still
  // answers the progress query from its history.
  const progress = status === 'RUNNING' ? await handle.query(progressQuery)
    : status === 'COMPLETED' ? ((await handle.result()) as CampaignProgress)
    : await handle.query(progressQuery).catch(() => {
      throw new UserError(`campaign ${slug} ended ${status.toLowerCase()} and its progress cannot be read; see the Temporal UI for workflow ${workflowIdOf(slug)}`, ExitCode.failure);
    });
  return { ...progress, workflowStatus: status };
}

const SIGNALS = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal, 'skip-wait': skipWaitSignal } as const;
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
  return { slug, status: status.status, workflowStatus: status.workflowStatus, waves: status.waves, summary: status.summary ?? null };
}

/** The campaign's final summary once it has ended (or its progress so far). */
export async function campaignReport(client: Client, slug: string) {
  return reportOf(slug, await campaignStatus(client, slug));
}
