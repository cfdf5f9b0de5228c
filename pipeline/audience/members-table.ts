// The campaign_members table: every write to it is here. The snapshot fills it once per campaign;
// response codes are stored on members as the tracking server first looks them up.
import type { Sql } from '../../db/connection.ts';
import type { Fragment } from './compile.ts';

/** The audience rows (`rows`: an audience query) become the campaign's members. */
export async function insertMembers(tx: Sql, campaignId: number, rows: Fragment): Promise<void> {
  await tx`
    insert into campaign_members (campaign_id, customer_id, rank, band, variant, holdout, suppression_reason)
    select ${campaignId}, a.customer_id, a.rank, a.band, a.variant, a.holdout, a.suppression_reason from (${rows}) a`;
}

/**
 * The audience rows of an extended audience that are not members yet become members of `cohort`;
 * returns how many joined. A customer already a member (of any cohort) is never added twice.
 */
export async function insertCohortMembers(
  tx: Sql,
  campaignId: number,
  cohort: number,
  rows: Fragment,
): Promise<number> {
  const result = await tx`
    insert into campaign_members (campaign_id, customer_id, rank, band, variant, holdout, suppression_reason, cohort)
    select ${campaignId}, a.customer_id, a.rank, a.band, a.variant, a.holdout, a.suppression_reason, ${cohort}::int
    from (${rows}) a
    where not exists (select 1 from campaign_members m where m.campaign_id = ${campaignId} and m.customer_id = a.customer_id)
    on conflict (campaign_id, customer_id) do nothing`;
  return result.count;
}

/** Records that `cohort` was added (in the transaction that added its members). */
export async function recordCohort(
  tx: Sql,
  campaignId: number,
  cohort: { cohort: number; extendTo: number; responses: number | null; pace: number | null },
): Promise<void> {
  await tx`
    insert into campaign_cohorts (campaign_id, cohort, extend_to, responses, pace)
    values (${campaignId}, ${cohort.cohort}, ${cohort.extendTo}, ${cohort.responses}, ${cohort.pace})`;
}

/** Stores codes for members who have none yet; returns how many were stored. */
export async function storeResponseCodes(
  sql: Sql,
  campaignId: number,
  customerIds: string[],
  codes: string[],
): Promise<number> {
  const result = await sql`
    update campaign_members m set response_code = v.code
    from unnest(${customerIds}::bigint[], ${codes}::text[]) as v(customer_id, code)
    where m.campaign_id = ${campaignId} and m.customer_id = v.customer_id and m.response_code is null`;
  return result.count;
}
