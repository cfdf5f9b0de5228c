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
