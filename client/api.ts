// The typed client for scripts, and what the CLI uses: launch (after validating everything),
// progress, and the controls. Campaigns are identified by their name (slug); the workflow id is
// campaign-<slug>.
import { giftStock, type GiftStock } from '../pipeline/visits/branch-visit.ts';
import { storedCampaign } from '../pipeline/calls/stored-campaign.ts';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { Sql } from '../db/connection.ts';
import type { LoadedCampaign } from '../pipeline/campaign/campaign-file.ts';
import type { AudienceCounts } from '../pipeline/audience/counts.ts';
import { powerCheck, type PowerCheck } from '../pipeline/report/power.ts';
import { validateCampaign } from '../pipeline/campaign/validate-campaign.ts';
import { registerCampaign as registerCampaignRow } from '../pipeline/campaign/campaigns-table.ts';
import { campaignWorkflowInput, type CampaignTuning } from '../activities/campaign-start.ts';
import { campaignWorkflow } from '../workflows/campaign.ts';
import {
  callsChangedSignal,
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
import { checkPublicTrackingUrl } from '../pipeline/send/public-links.ts';
import { missingSearchAttributes } from './search-attributes.ts';
import { progressByManager, type ManagerProgress } from '../pipeline/calls/call-tasks.ts';
import { goalStandings, type GoalStanding } from '../pipeline/campaign/goals.ts';
import { goalsSchema } from '../pipeline/campaign/campaign-file.ts';
import { YamlSource } from '../config/yaml-file.ts';

export interface LaunchOptions {
  asOf: Date;
  secret: string;
  trackingUrl: string;
  taskQueue: string;
  dryRun?: boolean;
  tuning?: CampaignTuning;
  /** Links to a loopback or private tracking address are refused unless this is set (demo, --allow-local-links). */
  allowLocalLinks?: boolean;
}

export interface LaunchResult {
  slug: string;
  workflowId: string;
  counts: AudienceCounts;
  launched: boolean;
  /** Whether the holdout is large enough to show the lift the campaign expects. */
  power: PowerCheck;
}

/** The power check for a campaign's audience at its expected response rate and lift (percent in the file). */
export function campaignPower(campaign: LoadedCampaign, counts: AudienceCounts): PowerCheck {
  return powerCheck(counts.contactable, counts.holdout, campaign.expectedResponse / 100, campaign.expectedLift / 100);
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
  checkPublicTrackingUrl(opts.trackingUrl, { allowLocal: opts.allowLocalLinks === true, action: 'launch' });
  const workflowId = workflowIdOf(campaign.slug);
  const power = campaignPower(campaign, counts);
  if (opts.dryRun) return { slug: campaign.slug, workflowId, counts, launched: false, power };
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
    // A namespace without Mailroom's search attributes refuses the start ("Failed to start Workflow").
    const missing = await missingSearchAttributes(client.connection, client.options.namespace).catch(() => []);
    if (missing.length)
      throw new UserError(
        `Temporal namespace ${client.options.namespace} does not have Mailroom's search attributes ${missing.join(', ')}; register them with \`mailroom setup temporal\` and launch again`,
        ExitCode.unavailable,
      );
    throw error;
  }
  return { slug: campaign.slug, workflowId, counts, launched: true, power };
}

/** How a campaign stands as `mailroom status` shows it: the workflow's own status, or how its workflow ended abnormally. */
export type ShownCampaignStatus =
  CampaignProgress['status'] | 'failed' | 'terminated' | 'timed_out' | 'workflow_cancelled';

export type CampaignState = Omit<CampaignProgress, 'status'> & {
  /** The campaign's name. */
  campaign: string;
  status: ShownCampaignStatus;
  workflowStatus: string;
  /** Why the workflow failed or was terminated. */
  error?: string;
};

const ABNORMAL_END: Record<string, ShownCampaignStatus> = {
  FAILED: 'failed',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CANCELLED: 'workflow_cancelled',
};

/** Runs a call to Temporal: a call that cannot reach it any more says so (exit 4), whatever it was asking. */
export async function temporalCall<T>(client: Client, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UserError || error instanceof WorkflowNotFoundError) throw error;
    if (isConnectionLost(error)) {
      const address = (client.connection as { options?: { address?: string } }).options?.address ?? '';
      throw new UserError(
        `lost the connection to Temporal${address ? ` at ${address}` : ''}: ${(error as Error).message}. Is it still running? See \`mailroom dev status\`, or TEMPORAL_ADDRESS.`,
        ExitCode.unavailable,
      );
    }
    throw error;
  }
}

/** gRPC UNAVAILABLE (14) or DEADLINE_EXCEEDED (4), however deep in the error's causes. */
function isConnectionLost(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown; message?: string } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 14 || e.code === 4) return true;
    if (
      typeof e.message === 'string' &&
      /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|Connection dropped/.test(e.message)
    )
      return true;
  }
  return false;
}

export async function campaignStatus(client: Client, slug: string): Promise<CampaignState> {
  const handle = client.workflow.getHandle(workflowIdOf(slug));
  return temporalCall(client, async () => {
    const description = await handle.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError)
        throw new UserError(`no campaign called ${slug} has been launched`, ExitCode.badInput);
      throw error;
    });
    const status = description.status.name;
    if (status === 'RUNNING')
      return withCohorts(client, { ...(await handle.query(progressQuery)), campaign: slug, workflowStatus: status });
    // A completed campaign answers with its result.
    if (status === 'COMPLETED')
      return { ...((await handle.result()) as CampaignProgress), campaign: slug, workflowStatus: status };
    // One that failed or was terminated says so, with its error, and still answers the progress
    // query from its history.
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => failureMessage(e),
    );
    const shown = ABNORMAL_END[status] ?? 'failed';
    const progress = await handle.query(progressQuery).catch(() => {
      throw new UserError(
        `campaign ${slug} ended ${shown}${error ? `: ${error}` : ''}; its progress cannot be read (no worker answered); see the Temporal UI for workflow ${workflowIdOf(slug)}`,
        ExitCode.failure,
      );
    });
    return { ...progress, campaign: slug, status: shown, workflowStatus: status, ...(error ? { error } : {}) };
  });
}

/** A cohort still running answers for its own waves; one that has ended told the campaign already. */
async function withCohorts(client: Client, state: CampaignState): Promise<CampaignState> {
  for (const cohort of state.fallback?.cohorts ?? []) {
    if (cohort.waves) continue;
    const p = await client.workflow
      .getHandle(cohort.workflowId)
      .query(progressQuery)
      .catch(() => undefined);
    if (p) Object.assign(cohort, { waves: p.waves, status: p.status });
  }
  return state;
}

/** The innermost message of a workflow's failure: the activity's or the workflow's own error, or the reason it was terminated. */
function failureMessage(error: unknown): string {
  const parts: string[] = [];
  for (
    let e = error instanceof WorkflowFailedError ? error.cause : (error as Error | undefined);
    e;
    e = e.cause as Error
  )
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
  return parts.join(': ') || (error as Error).message;
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
    await temporalCall(client, () => handle.signal(SIGNALS[control]));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`campaign ${slug} is not running; see \`mailroom status ${slug}\``, ExitCode.badInput);
  }
}

/**
 * Outcomes were recorded for the campaign's call tasks (a page, a sheet, the API): its call wave
 * looks at them now rather than at its next periodic check. A campaign not running is left alone.
 */
export async function notifyCallsChanged(client: Client, slug: string): Promise<boolean> {
  return client.workflow
    .getHandle(workflowIdOf(slug))
    .signal(callsChangedSignal)
    .then(
      () => true,
      () => false,
    );
}

/** The operator posted a mail wave's letters: its printed pieces become sent on `date` (YYYY-MM-DD, default today). */
export async function confirmMailing(client: Client, slug: string, wave: string, date?: string): Promise<WaveProgress> {
  // A cohort added by the fallback prints its own letters: its run takes their confirmation.
  const state = await campaignStatus(client, slug).catch(() => undefined);
  const own = state?.waves.find((w) => w.name === wave);
  const cohort = state?.fallback?.cohorts.find(
    (c) =>
      own?.status !== 'awaiting_confirmation' &&
      c.waves?.some((w) => w.name === wave && w.status === 'awaiting_confirmation'),
  );
  const handle = client.workflow.getHandle(cohort?.workflowId ?? workflowIdOf(slug));
  try {
    return await temporalCall(client, () =>
      handle.executeUpdate(confirmMailingUpdate, { args: [{ wave, ...(date ? { date } : {}) }] }),
    );
  } catch (error) {
    if (error instanceof UserError) throw error;
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UserError(`cannot confirm wave ${wave} of ${slug}: ${cause}`, ExitCode.badInput);
  }
}

/** What `status` adds from the database: each call wave's tasks per manager, and the goals against their pace. */
export interface CampaignDetails {
  managers: Record<string, ManagerProgress[]>;
  goals: GoalStanding[];
  /** Per band's offer that carries stock or a unit cost: handed out at branch visits, left, and their cost. */
  gifts: GiftStock[];
}

export async function campaignDetails(
  sql: Sql,
  slug: string,
  state: CampaignState,
  now = new Date(),
): Promise<CampaignDetails> {
  const [row] = await sql<{ id: number; spec: { file: string; text: string }; snapshot_at: Date | null }[]>`
    select id, spec, snapshot_at from campaigns where slug = ${slug}`;
  const details: CampaignDetails = { managers: {}, goals: [], gifts: [] };
  if (!row) return details;
  details.gifts = (await giftStock(sql, await storedCampaign(sql, slug))).filter(
    (g) => g.stock !== null || g.unit_cost !== null,
  );
  for (const w of state.waves.filter((w) => w.channel === 'call'))
    details.managers[w.name] = await progressByManager(sql, row.id, w.name);
  const doc = YamlSource.parse(row.spec.file, row.spec.text).toJS() as { goals?: unknown } | null;
  const goals = goalsSchema.safeParse(doc?.goals);
  if (goals.success && goals.data && row.snapshot_at)
    details.goals = await goalStandings(sql, row.id, goals.data, row.snapshot_at, now);
  return details;
}

/** The report part of a campaign's status: its final summary once it has ended, null before. */
export function reportOf(slug: string, status: Awaited<ReturnType<typeof campaignStatus>>) {
  return {
    slug,
    status: status.status,
    ...(status.error ? { error: status.error } : {}),
    workflowStatus: status.workflowStatus,
    waves: status.waves,
    summary: status.summary ?? null,
  };
}

/** The campaign's final summary once it has ended (or its progress so far). */
export async function campaignReport(client: Client, slug: string) {
  return reportOf(slug, await campaignStatus(client, slug));
}
