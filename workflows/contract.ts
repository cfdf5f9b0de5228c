// The campaign workflow's contract with the rest of Mailroom: what it is started with, the
// progress it reports, and the signals, query and update it answers. The workflow, the activities
// and the client all import it from here; it holds types and Temporal definitions only.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchResult } from '../pipeline/send/ledger.ts';
import type { CampaignSummary } from '../pipeline/responses/summary.ts';
import type { CallCounts } from '../pipeline/calls/call-tasks.ts';

export type { BatchResult, CampaignSummary, CallCounts };

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
  channel: 'mail' | 'email' | 'sms' | 'call';
  afterMs: number;
  /** Mail: how long to wait for `mailroom mail confirm` before the wave ends unconfirmed. */
  confirmWithinMs?: number;
  /** Call: how long the managers have before open tasks are overdue. */
  dueWithinMs?: number;
}

/** The goals a campaign checks itself against (durations from its start). */
export interface CampaignGoals {
  contactWithinMs?: number;
  responses?: { kind: string; target: number; byMs: number };
}

/** At `checkAtMs` after the start: extend the audience to `extendTo` ranks (when below pace, if `belowPace`). */
export interface CampaignFallback {
  extendTo: number;
  checkAtMs: number;
  belowPace: boolean;
}

/** A cohort's run: a child of the campaign's workflow that runs the waves for the members of one cohort. */
export interface CohortRun {
  cohort: number;
  /** The campaign's own workflow, told when the cohort's waves are done. */
  parentWorkflowId: string;
  members: number;
  contactable: number;
  holdout: number;
  suppressed: number;
  ranges: [number, number][];
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
  /** Call waves: how often the workflow looks at the tasks besides being told of outcomes (default 15 min). */
  callCheckMs?: number;
  goals?: CampaignGoals;
  fallback?: CampaignFallback;
  /** Set for a cohort's child run: it takes these members' ranges instead of a snapshot. */
  cohortRun?: CohortRun;
  /** Where a continued run picks up: set by the workflow itself when it continues as new. */
  resume?: CampaignResume;
}

/** Where the fallback stands; carried across continue-as-new so that its timer survives it. */
export interface GoalCheckState {
  /** When the campaign started (ISO): goals and the check are measured from it. */
  startedAt: string;
  /** When the fallback's check is due (ISO). */
  checkAt?: string;
  checked: boolean;
  /** The cohort's child workflow, once the audience was extended. */
  cohortWorkflowId?: string;
  cohortDone: boolean;
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
  goal?: GoalCheckState;
}

export type WaveStatus =
  | 'waiting'
  | 'printing'
  | 'awaiting_confirmation'
  | 'sending'
  | 'assigning'
  | 'calling'
  | 'done'
  | 'mailed'
  | 'unconfirmed'
  | 'cancelled';

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
  /** While the wave waits its `after`: when the wait ends (ISO time). */
  waitUntil?: string;
  /** Mail: when its print job was written (ISO time); no posting date may precede it. */
  printedAt?: string;
  /** Mail: the folder holding its print job, on the worker's machine. */
  printDir?: string;
  /** Mail, while awaiting confirmation: when the wave ends unconfirmed without one (ISO time). */
  confirmBy?: string;
  /** Call: the wave's tasks by how they stand (planned is the tasks assigned). */
  calls?: CallCounts;
  /** Call: when open tasks become overdue (ISO time). */
  dueAt?: string;
}

/** Wave statuses that do not change any more. */
export const FINAL_WAVE_STATUSES: readonly WaveStatus[] = ['done', 'mailed', 'unconfirmed', 'cancelled'];

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
  /** A cohort's run: which cohort it is. */
  cohort?: number;
  /** The fallback: its check and the cohorts it added (counts, and each one's waves once done). */
  fallback?: FallbackProgress;
}

export interface FallbackProgress {
  checkAt: string;
  /** What the check found: the responses so far, the pace at the check, and whether it extended. */
  checked?: { at: string; responses: number; pace: number; extended: boolean };
  cohorts: CohortProgress[];
}

export interface CohortProgress {
  cohort: number;
  workflowId: string;
  members: number;
  contactable: number;
  holdout: number;
  suppressed: number;
  /** The cohort's waves once its run ended; while it runs, `mailroom status` asks its workflow. */
  waves?: WaveProgress[];
  status?: CampaignStatus;
}

export interface MailingConfirmation {
  wave: string;
  /** The posting date, YYYY-MM-DD; today when omitted. */
  date?: string;
}

/** True for a real calendar date written YYYY-MM-DD (not 2026-13-01, not 2026-02-30). */
export function isCalendarDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const HOUR = 3_600_000;

/**
 * Why `date` cannot be a mail wave's posting date, or undefined when it can: it must be a real
 * calendar date, at most a day in the future and not before the wave was printed. A posting date
 * is a local date of the post office, so the bounds allow for every time zone (UTC-12 to UTC+14):
 * "tomorrow" is the day after today anywhere on Earth, "the day it was printed" the earliest date
 * anywhere at that moment. Pure and clock-free: the workflow passes its own (deterministic) time.
 */
export function postingDateProblem(
  date: string,
  at: { now: number; printedAt?: string | undefined },
): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return `the posting date must be YYYY-MM-DD, not ${date}`;
  if (!isCalendarDate(date)) return `the posting date ${date} is not a date of the calendar`;
  const latest = isoDay(at.now + 14 * HOUR + 24 * HOUR);
  if (date > latest) return `the posting date ${date} is in the future (at most a day ahead: ${latest})`;
  if (at.printedAt) {
    const printed = Date.parse(at.printedAt);
    const earliest = isoDay(printed - 12 * HOUR);
    if (date < earliest)
      return `the posting date ${date} is before the wave was printed (${at.printedAt.slice(0, 16).replace('T', ' ')} UTC)`;
  }
  return undefined;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
export const skipWaitSignal = defineSignal('skipWait');
/** Outcomes were recorded for a campaign's call tasks: a call wave looks at its tasks now. */
export const callsChangedSignal = defineSignal('callsChanged');
/** A cohort's run tells the campaign's workflow that its waves are done. */
export const cohortDoneSignal =
  defineSignal<[{ cohort: number; waves: WaveProgress[]; status: CampaignStatus }]>('cohortDone');
export const progressQuery = defineQuery<CampaignProgress>('progress');
export const confirmMailingUpdate = defineUpdate<WaveProgress, [MailingConfirmation]>('confirmMailing');
