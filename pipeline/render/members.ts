// The members a wave renders for, with their customer data, in postal-code order: from the
// campaign's snapshot when it has one, else from its audience as it stands now.
import type { Sql } from '../../db/connection.ts';
import type { LoadedCampaign } from '../campaign/campaign-file.ts';
import { audienceQuery } from '../audience/audience-query.ts';
import type { Fragment } from '../audience/compile.ts';
import type { MemberRow } from './context.ts';

export interface MemberQuery {
  asOf: Date;
  limit?: number | undefined;
  customerIds?: number[] | undefined;
  /** Include holdout and suppressed members (proofs of a named customer). */
  everyone?: boolean;
  /** A further condition over the member `m` and `customers c` (a wave's target). */
  where?: Fragment | undefined;
}

async function snapshotOf(sql: Sql, slug: string): Promise<{ id: number; snapshot_at: Date } | undefined> {
  const [row] = await sql<{ id: number; snapshot_at: Date }[]>`
    select id, snapshot_at from campaigns where slug = ${slug} and snapshot_at is not null`;
  return row;
}

/** Wrapped in an object: a query fragment is a thenable, and returning it from an async function would run it. */
export async function memberSource(
  sql: Sql,
  campaign: LoadedCampaign,
  asOf: Date,
): Promise<{ rows: Fragment; fromSnapshot: boolean; snapshotAt: Date | null }> {
  const snapshot = await snapshotOf(sql, campaign.slug);
  if (snapshot !== undefined)
    return {
      rows: sql`select * from campaign_members where campaign_id = ${snapshot.id}`,
      fromSnapshot: true,
      snapshotAt: snapshot.snapshot_at,
    };
  return {
    rows: audienceQuery(
      { sql, registry: campaign.registry, asOf, frequencyCap: campaign.config.frequencyCap },
      campaign.audience,
      campaign.slug,
    ),
    fromSnapshot: false,
    snapshotAt: null,
  };
}

/** The customer fields a render context needs, from `customers c`. */
export const MEMBER_COLUMNS = (sql: Sql) => sql`
    c.external_id, c.full_name, c.family_name, c.given_name, c.gender, c.salutation, c.locale,
    c.email, c.phone, c.address_line1, c.address_line2, c.district, c.city, c.province, c.postal_code, c.country,
    to_char(c.birthday, 'YYYY-MM-DD') as birthday, c.timezone, c.attributes`;

/** Customers by id as members outside any audience (no rank, band or variant): for proofs. */
export async function customersAsMembers(sql: Sql, ids: number[]): Promise<MemberRow[]> {
  if (!ids.length) return [];
  return (await sql`
    select c.id as customer_id, ${MEMBER_COLUMNS(sql)}, null::int as rank, null::text as band, null::text as variant
    from customers c where c.id = any(${ids}::bigint[]) order by c.id`) as unknown as MemberRow[];
}

/** How many members memberBatches would yield for `q`. */
export async function memberCount(sql: Sql, campaign: LoadedCampaign, q: MemberQuery): Promise<number> {
  const { rows: source } = await memberSource(sql, campaign, q.asOf);
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n
    from (${source}) m join customers c on c.id = m.customer_id
    where ${q.everyone ? sql`true` : sql`m.suppression_reason is null and not m.holdout`}
      and ${q.customerIds ? sql`m.customer_id = any(${q.customerIds}::bigint[])` : sql`true`}
      and ${q.where ?? sql`true`}`;
  return q.limit !== undefined ? Math.min(q.limit, row!.n) : row!.n;
}

export async function* memberBatches(
  sql: Sql,
  campaign: LoadedCampaign,
  q: MemberQuery,
  batch = 500,
): AsyncGenerator<MemberRow[]> {
  const { rows: source } = await memberSource(sql, campaign, q.asOf);
  const rows = sql`
    select m.customer_id, ${MEMBER_COLUMNS(sql)}, m.rank, m.band, m.variant
    from (${source}) m join customers c on c.id = m.customer_id
    where ${q.everyone ? sql`true` : sql`m.suppression_reason is null and not m.holdout`}
      and ${q.customerIds ? sql`m.customer_id = any(${q.customerIds}::bigint[])` : sql`true`}
      and ${q.where ?? sql`true`}
    order by c.postal_code nulls last, m.customer_id
    ${q.limit !== undefined ? sql`limit ${q.limit}` : sql``}`;
  for await (const chunk of rows.cursor(batch)) yield chunk as unknown as MemberRow[];
}
