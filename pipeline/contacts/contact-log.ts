// The contact log: every write to it is here. One row per contact with a customer (a call, a
// visit, a handover to another manager…), its natural key deciding what counts as the same
// contact, so every write can be repeated safely. Reading a customer's history also brings in the
// pieces already in the deliveries ledger and the responses, which this module only reads.
import { z } from 'zod';
import type { Sql } from '../../db/connection.ts';

export const CONTACT_CHANNELS = ['mail', 'email', 'sms', 'call', 'visit', 'handover'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** Who made the contact when no person did. */
export const SYSTEM_ACTOR = 'system';

export const contactEntrySchema = z.object({
  customerId: z.number().int().positive(),
  campaignId: z.number().int().positive().nullable(),
  occurredAt: z.date(),
  channel: z.enum(CONTACT_CHANNELS),
  /** The manager's or staff member's name, or 'system'. */
  actor: z.string().trim().min(1),
  purpose: z.string().min(1),
  outcome: z.string().nullable().default(null),
  nextStep: z.string().nullable().default(null),
  note: z.string().nullable().default(null),
  /** What makes this contact the same contact when written again, e.g. call:<outcome key>. */
  naturalKey: z.string().min(1),
});
export type ContactEntry = z.input<typeof contactEntrySchema>;

/** True when the row was written, false when a contact with the same natural key was already logged. */
export async function logContact(sql: Sql, entry: ContactEntry): Promise<boolean> {
  return (await logContacts(sql, [entry])) === 1;
}

/** Many contacts in one statement; returns how many were new. */
export async function logContacts(sql: Sql, entries: ContactEntry[]): Promise<number> {
  if (!entries.length) return 0;
  const rows = entries.map((e) => contactEntrySchema.parse(e));
  const result = await sql`
    insert into contact_log (customer_id, campaign_id, occurred_at, channel, actor, purpose, outcome, next_step, note, natural_key)
    select * from unnest(
      ${rows.map((r) => String(r.customerId))}::bigint[], ${rows.map((r) => (r.campaignId === null ? null : String(r.campaignId)))}::bigint[],
      ${rows.map((r) => r.occurredAt.toISOString())}::timestamptz[], ${rows.map((r) => r.channel)}::text[],
      ${rows.map((r) => r.actor)}::text[], ${rows.map((r) => r.purpose)}::text[], ${rows.map((r) => r.outcome)}::text[],
      ${rows.map((r) => r.nextStep)}::text[], ${rows.map((r) => r.note)}::text[], ${rows.map((r) => r.naturalKey)}::text[])
    on conflict (natural_key) do nothing`;
  return result.count;
}

export interface HistoryEntry {
  at: string;
  channel: string;
  campaign: string | null;
  who: string;
  purpose: string;
  outcome: string | null;
  next_step: string | null;
  note: string | null;
  /** Where the row comes from: the contact log, the deliveries ledger or the responses. */
  source: 'log' | 'delivery' | 'response';
}

// Responses written together with a log row (call appointments, branch visits) are shown once,
// from the log; delivery reports are the ledger's business, not a contact.
const LOGGED_RESPONSE_SOURCES = ['calls', 'visit'];

/**
 * A customer's contacts across campaigns in time order: the log, the pieces sent (letters count
 * from their posting date), and the customer's responses. `limit` keeps the latest ones.
 */
export async function contactHistory(
  sql: Sql,
  customerId: number,
  opts: { limit?: number } = {},
): Promise<HistoryEntry[]> {
  const limit = opts.limit ?? 10_000;
  const rows = await sql<(Omit<HistoryEntry, 'at'> & { at: Date })[]>`
    select * from (
      select l.occurred_at as at, l.channel, c.slug as campaign, l.actor as who, l.purpose, l.outcome,
             l.next_step, l.note, 'log' as source, l.id as ord
      from contact_log l left join campaigns c on c.id = l.campaign_id
      where l.customer_id = ${customerId}
      union all
      select d.sent_at, d.channel, c.slug, ${SYSTEM_ACTOR}, 'wave ' || d.wave, 'sent', null, null, 'delivery', d.id
      from deliveries d join campaigns c on c.id = d.campaign_id
      where d.customer_id = ${customerId} and d.status = 'sent' and d.sent_at is not null
      union all
      select r.occurred_at, 'response', c.slug, 'customer', r.kind, r.source, null, null, 'response', r.id
      from responses r left join campaigns c on c.id = r.campaign_id
      where r.customer_id = ${customerId} and r.kind <> 'delivered'
        and not (r.kind in ('appointment', 'branch_visit') and r.source = any(${LOGGED_RESPONSE_SOURCES}::text[]))
      order by 1 desc, 10 desc
      limit ${limit}
    ) h order by at, ord`;
  return rows.map(({ ord: _ord, ...r }: (typeof rows)[number] & { ord?: number }) => ({
    ...r,
    at: r.at.toISOString(),
  }));
}

export interface CustomerRef {
  id: number;
  external_id: string;
  full_name: string;
  account_manager: string | null;
}

/** A customer by external id, or by Mailroom's customer id when no external id matches. */
export async function findCustomer(sql: Sql, ref: string): Promise<CustomerRef | null> {
  const [byExternal] = await sql<CustomerRef[]>`
    select id, external_id, full_name, attributes ->> 'account_manager' as account_manager
    from customers where external_id = ${ref}`;
  if (byExternal) return byExternal;
  if (!/^\d{1,15}$/.test(ref)) return null;
  const [byId] = await sql<CustomerRef[]>`
    select id, external_id, full_name, attributes ->> 'account_manager' as account_manager
    from customers where id = ${Number(ref)}`;
  return byId ?? null;
}
