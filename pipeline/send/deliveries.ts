// The deliveries ledger table: every write to it is here. A row per (campaign, wave, customer,
// channel) goes 'pending' before the provider call and 'sent' or 'failed' after it; mail pieces
// go 'printed' when exported and 'sent' when the operator confirms the posting.
import type { Sql } from '../../db/connection.ts';

export interface LedgerKey {
  campaignId: number;
  wave: string;
  channel: string;
}

export interface CustomerRange {
  fromCustomerId: number;
  toCustomerId: number;
}

export interface RangeTotals {
  sent: number;
  failed: number;
  /** Interrupted sends: settled by the channel (`recovered`) or left uncertain. */
  uncertain: number;
  recovered: number;
}

export interface LedgerRow {
  customer_id: number;
  id: number;
  status: string;
  created_at: Date;
}

/** The ledger rows of a customer-id range of one wave. */
export function rangeDeliveries(sql: Sql, key: LedgerKey, range: CustomerRange) {
  return sql<LedgerRow[]>`
    select customer_id, id, status, created_at from deliveries
    where campaign_id = ${key.campaignId} and wave = ${key.wave} and channel = ${key.channel}
      and customer_id between ${range.fromCustomerId} and ${range.toCustomerId}`;
}

/** Rows for these customers go 'pending' in one statement; a customer who has a row already gets none. */
export function insertPending(sql: Sql, key: LedgerKey, customerIds: number[]) {
  return sql<{ id: number; customer_id: number }[]>`
    insert into deliveries (campaign_id, wave, customer_id, channel, status, attempts)
    select ${key.campaignId}, ${key.wave}, u.customer_id, ${key.channel}, 'pending', 1 from unnest(${customerIds}::bigint[]) as u(customer_id)
    on conflict on constraint deliveries_key do nothing returning id, customer_id`;
}

export async function markSent(sql: Sql, sent: { id: number; providerId: string }[]): Promise<void> {
  await sql`
    update deliveries d set status = 'sent', provider_id = u.provider_id, sent_at = now(), updated_at = now()
    from unnest(${sent.map((o) => o.id)}::bigint[], ${sent.map((o) => o.providerId)}::text[]) as u(id, provider_id)
    where d.id = u.id`;
}

export async function markFailed(sql: Sql, id: number, error: string): Promise<void> {
  await sql`update deliveries set status = 'failed', error = ${error.slice(0, 500)}, updated_at = now() where id = ${id}`;
}

/** A send that certainly did not leave: the row goes, so that a retry sends it. */
export async function forgetPending(sql: Sql, id: number): Promise<void> {
  await sql`delete from deliveries where id = ${id} and status = 'pending'`;
}

export async function markUncertain(sql: Sql, id: number): Promise<void> {
  await sql`update deliveries set status = 'uncertain', error = 'left pending by an interrupted send', updated_at = now() where id = ${id} and status = 'pending'`;
}

/** Rows left pending by an interrupted send that go again now, in one statement; returns those still pending. */
export async function markResent(sql: Sql, ids: number[]): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    update deliveries set recovery = 'resent', attempts = attempts + 1, updated_at = now()
    where id = any(${ids}::bigint[]) and status = 'pending' returning id`;
  return rows.map((r) => r.id);
}

/** The provider had the message after all. */
export async function markFound(sql: Sql, id: number, providerId: string): Promise<void> {
  await sql`update deliveries set status = 'sent', recovery = 'found', provider_id = ${providerId}, sent_at = coalesce(sent_at, now()), updated_at = now() where id = ${id} and status = 'pending'`;
}

export async function rangeTotals(sql: Sql, key: LedgerKey, range: CustomerRange): Promise<RangeTotals> {
  const [totals] = await sql<RangeTotals[]>`
    select count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status = 'failed')::int as failed,
           count(*) filter (where status = 'uncertain' or recovery is not null)::int as uncertain,
           count(*) filter (where recovery is not null)::int as recovered
    from deliveries
    where campaign_id = ${key.campaignId} and wave = ${key.wave} and channel = ${key.channel}
      and customer_id between ${range.fromCustomerId} and ${range.toCustomerId}`;
  return totals!;
}

/** Exported mail pieces; pieces confirmed as posted by an earlier attempt stay as they are. */
export async function insertPrinted(sql: Sql, campaignId: number, wave: string, customerIds: number[]): Promise<void> {
  await sql`
    insert into deliveries (campaign_id, wave, customer_id, channel, status, attempts)
    select ${campaignId}, ${wave}, id, 'mail', 'printed', 1 from unnest(${customerIds}::bigint[]) as id
    on conflict on constraint deliveries_key do nothing`;
}

/** The operator posted the wave on `date` (YYYY-MM-DD): printed pieces become sent; returns the wave's sent count. */
export async function markMailed(
  sql: Sql,
  campaignId: number,
  wave: string,
  date: string,
  cohort?: number,
): Promise<number> {
  // A campaign with a fallback prints each cohort's letters on their own; a posting confirmed for
  // one cohort must not mark the other's printed pieces as posted.
  const inCohort =
    cohort === undefined
      ? sql`true`
      : sql`customer_id in (select customer_id from campaign_members where campaign_id = ${campaignId} and cohort = ${cohort})`;
  await sql`
    update deliveries set status = 'sent', sent_at = ${date}::date::timestamptz, updated_at = now()
    where campaign_id = ${campaignId} and wave = ${wave} and channel = 'mail' and status = 'printed' and ${inCohort}`;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from deliveries
    where campaign_id = ${campaignId} and wave = ${wave} and channel = 'mail' and status = 'sent' and ${inCohort}`;
  return row!.n;
}
