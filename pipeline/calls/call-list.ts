// A manager's work list for a call wave: each task with the customer's name, phone, rank, band,
// offer, the rendered call script and the last contacts from the contact log. One query for the
// rows; the scripts are rendered here.
import { dirname } from 'node:path';
import type { Sql } from '../../db/connection.ts';
import { MEMBER_COLUMNS } from '../render/members.ts';
import { memberContext, type MemberRow } from '../render/context.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { loadCallScript } from './call-script.ts';
import type { StoredCampaign } from './stored-campaign.ts';
import type { TaskStatus } from './call-tasks.ts';

export interface LastContact {
  at: string;
  channel: string;
  who: string;
  outcome: string | null;
  next_step: string | null;
}

export interface CallListRow {
  task_id: number;
  wave: string;
  manager: string;
  status: TaskStatus;
  attempts: number;
  attempts_allowed: number;
  due_at: string | null;
  outcome: string | null;
  /** The visit the customer booked on their landing page (then the task is settled: no call needed). */
  booked_online_at: string | null;
  customer_id: number;
  external_id: string;
  name: string;
  salutation: string;
  phone: string | null;
  /** The number was reported wrong (an SMS suppression for invalid_address). */
  phone_flagged: boolean;
  rank: number | null;
  band: string | null;
  offer: string | null;
  script: string;
  last_contacts: LastContact[];
}

export interface CallListQuery {
  manager?: string | undefined;
  wave?: string | undefined;
  /** Only tasks still to call: open or overdue. */
  due?: boolean | undefined;
  /** Only these tasks (the manager's page posts one). */
  taskIds?: number[] | undefined;
  secret: string;
  trackingUrl: string;
  asOf: Date;
  lastContacts?: number;
}

export async function callList(sql: Sql, campaign: StoredCampaign, q: CallListQuery): Promise<CallListRow[]> {
  const waves = q.wave ? campaign.callWaves.filter((w) => w.name === q.wave) : campaign.callWaves;
  if (q.wave && !waves.length)
    throw new UserError(
      `campaign ${campaign.slug} has no call wave "${q.wave}"; its call waves: ${campaign.callWaves.map((w) => w.name).join(', ') || '(none)'}`,
      ExitCode.badInput,
    );
  const rows = await sql<
    (MemberRow & {
      task_id: number;
      wave: string;
      manager: string;
      status: TaskStatus;
      attempts: number;
      attempts_allowed: number;
      due_at: Date | null;
      outcome: string | null;
      booked_online_at: Date | null;
      phone_flagged: boolean;
      last_contacts: LastContact[];
    })[]
  >`
    select t.id as task_id, t.wave, t.manager, t.status, t.attempts, t.attempts_allowed, t.due_at, t.outcome,
      (select b.slot_at from bookings b where b.campaign_id = t.campaign_id and b.customer_id = t.customer_id) as booked_online_at,
      c.id as customer_id, ${MEMBER_COLUMNS(sql)}, m.rank, m.band, m.variant,
      exists (select 1 from suppressions s where s.customer_id = c.id and s.address = c.phone and s.reason = 'invalid_address') as phone_flagged,
      coalesce((select json_agg(l order by l.at desc) from (
        select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at, channel, actor as who, outcome, next_step
        from contact_log where customer_id = c.id order by occurred_at desc, id desc limit ${q.lastContacts ?? 3}) l), '[]') as last_contacts
    from call_tasks t
      join customers c on c.id = t.customer_id
      join campaign_members m on m.campaign_id = t.campaign_id and m.customer_id = t.customer_id
    where t.campaign_id = ${campaign.id}
      and (${q.manager ?? null}::text is null or t.manager = ${q.manager ?? null})
      and (${q.wave ?? null}::text is null or t.wave = ${q.wave ?? null})
      and (${q.due === true} = false or t.status in ('open', 'overdue'))
      and (${q.taskIds === undefined} or t.id = any(${(q.taskIds ?? []).map(String)}::bigint[]))
    order by t.manager, (t.status in ('open', 'overdue')) desc, m.rank nulls last, c.id`;
  const info = {
    name: campaign.title,
    slug: campaign.slug,
    description: campaign.description,
    owner: campaign.owner,
    offers: Object.fromEntries([...campaign.offers.values()].map((o) => [o.key, o.text])),
  };
  const scripts = new Map(
    campaign.callWaves.map((w) => [w.name, loadCallScript(w.template, dirname(campaign.file))] as const),
  );
  return rows.map((r) => {
    const context = memberContext(r, info, { secret: q.secret, trackingUrl: q.trackingUrl, asOf: q.asOf });
    const script = scripts.get(r.wave);
    return {
      task_id: r.task_id,
      wave: r.wave,
      manager: r.manager,
      status: r.status,
      attempts: r.attempts,
      attempts_allowed: r.attempts_allowed,
      due_at: r.due_at?.toISOString() ?? null,
      outcome: r.outcome,
      booked_online_at: r.booked_online_at?.toISOString() ?? null,
      customer_id: r.customer_id,
      external_id: r.external_id,
      name: r.full_name,
      salutation: context.customer.salutation,
      phone: r.phone,
      phone_flagged: r.phone_flagged,
      rank: r.rank,
      band: r.band,
      offer: context.offer,
      // A task of a wave no longer in the file (renamed): no script, the rest still shows.
      script: script ? script.render(context, r.manager) : '',
      last_contacts: r.last_contacts,
    };
  });
}
