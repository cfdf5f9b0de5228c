// The campaign workflow's contract with the rest of Mailroom: what it is started with, the
// progress it reports, and the signals, query and update it answers. The workflow, the activities
// and the client all import it from here; it holds types and Temporal definitions only.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchResult } from '../pipeline/send/ledger.ts';
import type { CampaignSummary } from '../pipeline/responses/summary.ts';

export type { BatchResult, CampaignSummary };

/** Custom search attributes that let the Temporal Web UI filter campaigns (registered by `mailroom setup temporal`, and by the embedded dev server at start). */
export const SEARCH_ATTRIBUTES = {
  MailroomCampaign: 'Keyword',
  MailroomStatus: 'Keyword',
} as const;

/** The workflow id of campaign `slug`. */
export const workflowIdOf = (slug: string) => `campaign-${slug}`;

export const campaignSearchAttributes = (slug: string) => ({ MailroomCampaign: [slug], MailroomStatus: ['launched'] });

export interface CampaignWave {
  name: string;
  channel: 'mail' | 'email' | 'sms';
  afterMs: number;
  /** Mail: how long to wait for `mailroom mail confirm` before the wave ends unconfirmed. */
  confirmWithinMs?: number;
}

export interface CampaignWorkflowInput {
  campaignId: number;
  slug: string;
  waves: CampaignWave[];
  /** After the last wave, how long responses are awaited before feedback and the summary. */
  responseWindowMs?: number;
  /** "Today" for the audience (ISO time): a scheduled run's due time; when the snapshot is taken otherwise. */
  asOf?: string;
  batchSize?: number;
  concurrency?: number;
  /** How long to wait before trying members deferred by quiet hours again. */
  deferRetryMs?: number;
  /** How soon a batch on a worker that died is given to another worker. */
  heartbeatTimeoutMs?: number;
  /** A run continues as new after this many batches (or when Temporal suggests it), mid-wave if need be. */
  batchesPerRun?: number;
  /** Where a continued run picks up: set by the workflow itself when it continues as new. */
  resume?: CampaignResume;
}

export interface CampaignResume {
  progress: CampaignProgress;
  ranges: [number, number][];
  nextWave: number;
  /** Set when `nextWave` is under way: the first range not yet sent. */
  nextRange?: number;
  paused: boolean;
  /** A skip-wait that arrived between waves, for the next wait. */
  skip: boolean;
}

export type WaveStatus =
  'waiting' | 'printing' | 'awaiting_confirmation' | 'sending' | 'done' | 'mailed' | 'unconfirmed' | 'cancelled';

export interface WaveProgress {
  name: string;
  channel: CampaignWave['channel'];
  status: WaveStatus;
  planned: number;
  sent: number;
  failed: number;
  /** Sends interrupted by a crash; `recovered` of them were settled by the channel (found or resent). */
  uncertain: number;
  recovered?: number;
  suppressed: number;
  deferred: number;
  /** Mail: the posting date the operator confirmed (YYYY-MM-DD). */
  mailedOn?: string;
}

export type CampaignStatus =
  'snapshot' | 'running' | 'paused' | 'needs_attention' | 'response_window' | 'feedback' | 'completed' | 'cancelled';

/** Why a campaign stands still: a step failed for a reason someone must fix; `mailroom resume` tries it again. */
export interface Attention {
  /** The step that failed, e.g. sendWaveBatch. */
  step: string;
  message: string;
  /** When it stopped (ISO time). */
  since: string;
}

export interface CampaignProgress {
  status: CampaignStatus;
  members: number;
  contactable: number;
  holdout: number;
  suppressed: number;
  waves: WaveProgress[];
  /** Set while the campaign needs attention (status needs_attention). */
  attention?: Attention;
  /** When the response window closes (ISO time), while it is open. */
  windowEndsAt?: string;
  summary?: CampaignSummary;
}

export interface MailingConfirmation {
  wave: string;
  /** The posting date, YYYY-MM-DD; today when omitted. */
  date?: string;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
export const skipWaitSignal = defineSignal('skipWait');
export const progressQuery = defineQuery<CampaignProgress>('progress');
export const confirmMailingUpdate = defineUpdate<WaveProgress, [MailingConfirmation]>('confirmMailing');
