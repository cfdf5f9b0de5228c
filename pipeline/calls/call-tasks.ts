// The call-task ledger of call waves: every write to call_tasks and call_outcomes is here. A task
// per (campaign, wave, customer) is assigned to the customer's account manager (or the wave's
// unassigned name); outcomes are applied once per outcome key, so a replayed form post, a
// spreadsheet imported twice or a retried API call changes nothing. Each applied outcome is also
// written to the contact log, and an appointment to the responses.
import { z } from 'zod';
import type { Sql } from '../../db/connection.ts';
import type { Fragment } from '../audience/compile.ts';
import { logContact } from '../contacts/contact-log.ts';
import { recordResponse } from '../responses/record.ts';

export const CALL_OUTCOMES = ['appointment', 'declined', 'call_back', 'no_answer', 'wrong_number'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];
/** Outcomes in which the customer was reached: the task is settled and the customer contacted. */
export const REACHED_OUTCOMES: readonly CallOutcome[] = ['appointment', 'declined', 'call_back'];

export type TaskStatus = 'open' | 'settled' | 'failed' | 'overdue';

const attributeName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a customer attribute name such as account_manager');

export const assignCallTasksSchema = z.object({
  campaignId: z.number().int().positive(),
  wave: z.string().min(1),
  fromCustomerId: z.number().int().nonnegative(),
  toCustomerId: z.number().int().nonnegative(),
  /** The customer attribute naming the manager. */
  assignBy: attributeName.default('account_manager'),
  /** Who gets the members without a manager. */
  unassigned: z.string().trim().min(1),
  attempts: z.number().int().min(1).max(20).default(3),
  dueAt: z.date().nullable(),
});
export type AssignCallTasks = z.input<typeof assignCallTasksSchema>;

export interface AssignResult {
  /** Tasks created by this call (a retried call creates none). */
  assigned: number;
  /** Of those, tasks that went to the unassigned name. */
  unassigned: number;
  /** Tasks of the range in the ledger after the call. */
  total: number;
}

/**
 * A task for every contactable member (not held out, not suppressed) of the campaign with
 * fromCustomerId <= customer id <= toCustomerId. Ids in, counts out: what a workflow's batch
 * activity hands over. Safe to repeat.
 */
export async function assignCallTasks(
  sql: Sql,
  input: AssignCallTasks,
  /** Which members the wave is for (a condition over campaign_members m, customers c): pipeline/audience/wave-target.ts. */
  target?: Fragment,
): Promise<AssignResult> {
  const a = assignCallTasksSchema.parse(input);
  const inserted = await sql<{ to_pool: boolean }[]>`
    insert into call_tasks (campaign_id, wave, customer_id, manager, attempts_allowed, due_at)
    select m.campaign_id, ${a.wave}, m.customer_id,
           coalesce(nullif(trim(c.attributes ->> ${a.assignBy}), ''), ${a.unassigned}), ${a.attempts}, ${a.dueAt}
    from campaign_members m join customers c on c.id = m.customer_id
    where m.campaign_id = ${a.campaignId} and m.customer_id between ${a.fromCustomerId} and ${a.toCustomerId}
      and not m.holdout and m.suppression_reason is null and ${target ?? sql`true`}
    order by m.customer_id
    on conflict on constraint call_tasks_key do nothing
    returning (manager = ${a.unassigned}) as to_pool`;
  const [{ total } = { total: 0 }] = await sql<{ total: number }[]>`
    select count(*)::int as total from call_tasks
    where campaign_id = ${a.campaignId} and wave = ${a.wave}
      and customer_id between ${a.fromCustomerId} and ${a.toCustomerId}`;
  return { assigned: inserted.length, unassigned: inserted.filter((r) => r.to_pool).length, total };
}

/** Open tasks past their due time become overdue (reported, not dropped; they can still be settled). */
export async function markOverdue(sql: Sql, campaignId: number, wave: string, now: Date): Promise<number> {
  const result = await sql`
    update call_tasks set status = 'overdue', updated_at = now()
    where campaign_id = ${campaignId} and wave = ${wave} and status = 'open' and due_at is not null and due_at <= ${now}`;
  return result.count;
}

export const callOutcomeSchema = z
  .object({
    /** The task, or the campaign and customer (and wave, when the campaign has several call waves). */
    taskId: z.number().int().positive().optional(),
    campaignId: z.number().int().positive().optional(),
    customerId: z.number().int().positive().optional(),
    wave: z.string().min(1).optional(),
    outcome: z.enum(CALL_OUTCOMES),
    appointmentAt: z.date().nullable().default(null),
    callBackOn: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2026-12-03')
      .nullable()
      .default(null),
    note: z.string().max(2000).nullable().default(null),
    /** Who called; the task's manager when not given. */
    recordedBy: z.string().trim().min(1).nullable().default(null),
    /** Where the outcome came from: page, sheet, api, cli. */
    source: z.string().min(1),
    /** What makes this outcome the same outcome when it comes again (a form token, a sheet row). */
    key: z.string().min(1).max(300),
    occurredAt: z.date().default(() => new Date()),
    /** The appointment response's source and details, when not a call's (an online booking: landing, by online). */
    response: z.object({ source: z.string().min(1), details: z.record(z.string(), z.unknown()) }).optional(),
  })
  .refine((o) => o.taskId !== undefined || (o.campaignId !== undefined && o.customerId !== undefined), {
    message: 'name the task, or the campaign and the customer',
  })
  .refine((o) => o.outcome !== 'appointment' || o.appointmentAt !== null, {
    message: 'an appointment needs its date and time',
    path: ['appointmentAt'],
  })
  .refine((o) => o.outcome !== 'call_back' || o.callBackOn !== null, {
    message: 'a call back needs its date',
    path: ['callBackOn'],
  });
export type CallOutcomeInput = z.input<typeof callOutcomeSchema>;

export interface OutcomeResult {
  /** True when this call changed the task; false for a replay or a task already closed. */
  applied: boolean;
  taskId: number | null;
  status: TaskStatus | null;
  attempts: number;
  /** Why nothing changed, when nothing did. */
  reason?: 'replayed' | 'no_task' | 'closed';
}

interface TaskRow {
  id: number;
  campaign_id: number;
  wave: string;
  customer_id: number;
  manager: string;
  status: TaskStatus;
  attempts: number;
  attempts_allowed: number;
}

function nextStep(o: z.output<typeof callOutcomeSchema>, status: TaskStatus): string | null {
  if (o.outcome === 'appointment') return `branch visit ${o.appointmentAt!.toISOString()}`;
  if (o.outcome === 'call_back') return `call back on ${o.callBackOn}`;
  if (o.outcome === 'no_answer') return status === 'failed' ? null : 'call again';
  if (o.outcome === 'wrong_number') return 'find the right number';
  return null;
}

/** Applies one outcome to its task, once; writes the contact log and, for an appointment, the response. */
export async function recordCallOutcome(sql: Sql, input: CallOutcomeInput): Promise<OutcomeResult> {
  const o = callOutcomeSchema.parse(input);
  return sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    const [task] = o.taskId
      ? await tx<TaskRow[]>`select * from call_tasks where id = ${o.taskId} for update`
      : await tx<TaskRow[]>`
          select * from call_tasks
          where campaign_id = ${o.campaignId!} and customer_id = ${o.customerId!}
            and (${o.wave ?? null}::text is null or wave = ${o.wave ?? null})
          order by (status in ('open', 'overdue')) desc, id desc limit 1 for update`;
    if (!task) return { applied: false, taskId: null, status: null, attempts: 0, reason: 'no_task' };
    const seen = await tx`select 1 from call_outcomes where outcome_key = ${o.key}`;
    if (seen.length)
      return { applied: false, taskId: task.id, status: task.status, attempts: task.attempts, reason: 'replayed' };
    if (task.status === 'settled' || task.status === 'failed')
      return { applied: false, taskId: task.id, status: task.status, attempts: task.attempts, reason: 'closed' };

    const attempts = task.attempts + 1;
    const status: TaskStatus = REACHED_OUTCOMES.includes(o.outcome)
      ? 'settled'
      : o.outcome === 'wrong_number' || attempts >= task.attempts_allowed
        ? 'failed'
        : task.status;
    const who = o.recordedBy ?? task.manager;
    await tx`
      insert into call_outcomes (task_id, outcome_key, outcome, attempt, recorded_by, source, occurred_at)
      values (${task.id}, ${o.key}, ${o.outcome}, ${attempts}, ${who}, ${o.source}, ${o.occurredAt})`;
    const closing = status === 'settled' || status === 'failed';
    await tx`
      update call_tasks set attempts = ${attempts}, status = ${status}, outcome = ${o.outcome},
        appointment_at = ${o.appointmentAt}, call_back_on = ${o.callBackOn}::date,
        note = coalesce(${o.note}, note), updated_at = now(),
        settled_at = case when ${closing} then now() else settled_at end
      where id = ${task.id}`;
    await logContact(tx, {
      customerId: task.customer_id,
      campaignId: task.campaign_id,
      occurredAt: o.occurredAt,
      channel: 'call',
      actor: who,
      purpose: `call wave ${task.wave}`,
      outcome: o.outcome,
      nextStep: nextStep(o, status),
      note: o.note,
      naturalKey: `call:${o.key}`,
    });
    if (o.outcome === 'appointment')
      await recordResponse(tx, {
        campaignId: task.campaign_id,
        customerId: task.customer_id,
        deliveryId: null,
        kind: 'appointment',
        source: o.response?.source ?? 'calls',
        dedupeKey: `appointment:call:${task.id}`,
        details: { wave: task.wave, at: o.appointmentAt!.toISOString(), by: 'call', ...o.response?.details },
      });
    if (o.outcome === 'wrong_number')
      // The number reaches someone else: no SMS to it either, until the customer's record is corrected.
      await tx`
        insert into suppressions (channel, customer_id, address, reason, source)
        select 'sms', c.id, c.phone, 'invalid_address', ${`call:${task.campaign_id}:${task.wave}`}
        from customers c where c.id = ${task.customer_id} and c.phone is not null
        on conflict on constraint suppressions_key do nothing`;
    return { applied: true, taskId: task.id, status, attempts };
  });
}

/** Moves open (and overdue) tasks from one manager to another; of the given customers only, when given. */
export async function reassignOpenTasks(
  sql: Sql,
  opts: { from: string; to: string; customerIds: number[] | null },
): Promise<{ id: number; customer_id: number; campaign_id: number; wave: string }[]> {
  return sql<{ id: number; customer_id: number; campaign_id: number; wave: string }[]>`
    update call_tasks set manager = ${opts.to}, updated_at = now()
    where manager = ${opts.from} and status in ('open', 'overdue')
      and (${opts.customerIds === null} or customer_id = any(${(opts.customerIds ?? []).map(String)}::bigint[]))
    returning id, customer_id, campaign_id, wave`;
}

/** A call wave's tasks: settled counts the reached and the failed; overdue ones are still open past due. */
export interface CallCounts {
  settled: number;
  reached: number;
  appointments: number;
  failed: number;
  overdue: number;
  open: number;
}

export interface ManagerProgress extends CallCounts {
  manager: string;
  assigned: number;
}

/** The CallCounts columns over tasks `t`. */
const taskCounts = (sql: Sql) => sql`
  count(*) filter (where t.status in ('settled', 'failed'))::int as settled,
  count(*) filter (where t.status = 'settled')::int as reached,
  count(*) filter (where t.outcome = 'appointment')::int as appointments,
  count(*) filter (where t.status = 'failed')::int as failed,
  count(*) filter (where t.status = 'overdue')::int as overdue,
  count(*) filter (where t.status = 'open')::int as open`;

/** A call wave's tasks by how they stand; of one cohort's members, when given. */
export async function callWaveCounts(
  sql: Sql,
  campaignId: number,
  wave: string,
  cohort?: number,
): Promise<CallCounts & { planned: number }> {
  const [row] = await sql<(CallCounts & { planned: number })[]>`
    select count(*)::int as planned, ${taskCounts(sql)}
    from call_tasks t
    where t.campaign_id = ${campaignId} and t.wave = ${wave}
      and (${cohort ?? null}::int is null or exists (select 1 from campaign_members m
        where m.campaign_id = t.campaign_id and m.customer_id = t.customer_id and m.cohort = ${cohort ?? null}::int))`;
  return row!;
}

/** Per manager: assigned, settled (reached or failed), reached, appointments, overdue, still open. */
export async function progressByManager(sql: Sql, campaignId: number, wave?: string): Promise<ManagerProgress[]> {
  return sql<ManagerProgress[]>`
    select t.manager, count(*)::int as assigned, ${taskCounts(sql)}
    from call_tasks t where t.campaign_id = ${campaignId} and (${wave ?? null}::text is null or t.wave = ${wave ?? null})
    group by manager order by manager`;
}
