// A campaign's cohorts: the launch snapshot is cohort 1; the fallback adds the next ranks of the
// same audience (same rules, suppression, household and holdout hashing by the campaign's name,
// bands by rank) as cohort 2. The extension is one transaction under a lock of the campaign's
// own: a retry after a crash, before or after the commit, adds nobody twice.
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { audienceQuery, type AudienceContext } from './audience-query.ts';
import { audienceCounts, type AudienceCounts } from './counts.ts';
import type { Audience } from './audience.ts';
import { insertCohortMembers, recordCohort } from './members-table.ts';
import type { RangeTotals } from '../send/deliveries.ts';

export interface CohortResult {
  cohort: number;
  /** False when an earlier attempt had added the cohort already. */
  created: boolean;
  counts: AudienceCounts;
}

/** The lock an extension holds while it adds a cohort (a test holds it to stop one half-way). */
export const cohortLockKey = (campaignId: number) => `mailroom-cohort:${campaignId}`;

export async function extendAudience(
  ctx: AudienceContext,
  campaignId: number,
  audience: Audience,
  opts: { cohort: number; extendTo: number; responses?: number; pace?: number },
): Promise<CohortResult> {
  const top = audience.segment.top;
  if (!top)
    throw new UserError(`campaign ${campaignId}: only a ranked audience (top) can be extended`, ExitCode.badInput);
  return ctx.sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    await tx`select pg_advisory_xact_lock(hashtext(${cohortLockKey(campaignId)}))`;
    const [campaign] = await tx<{ slug: string }[]>`select slug from campaigns where id = ${campaignId}`;
    if (!campaign) throw new UserError(`campaign ${campaignId} does not exist`, ExitCode.badInput);
    const [done] =
      await tx`select 1 from campaign_cohorts where campaign_id = ${campaignId} and cohort = ${opts.cohort}`;
    if (!done) {
      // The same audience ranked to extend_to; its ranks beyond top.n are the new cohort's (with
      // the bands that cover them), and the hashes are salted with the campaign's name as before.
      const extended: Audience = { ...audience, segment: { ...audience.segment, top: { ...top, n: opts.extendTo } } };
      await insertCohortMembers(
        tx,
        campaignId,
        opts.cohort,
        audienceQuery({ ...ctx, sql: tx }, extended, campaign.slug),
      );
      await recordCohort(tx, campaignId, {
        cohort: opts.cohort,
        extendTo: opts.extendTo,
        responses: opts.responses ?? null,
        pace: opts.pace ?? null,
      });
    }
    const counts = await audienceCounts(
      tx,
      tx`select * from campaign_members where campaign_id = ${campaignId} and cohort = ${opts.cohort}`,
    );
    return { cohort: opts.cohort, created: !done, counts };
  }) as Promise<CohortResult>;
}

/** Customer-id ranges of about `batchSize` contactable members of a cohort each. */
export async function cohortRanges(
  sql: Sql,
  campaignId: number,
  cohort: number | null,
  batchSize: number,
): Promise<[number, number][]> {
  const rows = await sql<{ lo: number; hi: number }[]>`
    select min(customer_id) as lo, max(customer_id) as hi
    from (select customer_id, (row_number() over (order by customer_id) - 1) / ${batchSize} as bucket
          from campaign_members where campaign_id = ${campaignId} and suppression_reason is null and not holdout
            and (${cohort}::int is null or cohort = ${cohort}::int)) b
    group by bucket order by bucket`;
  return rows.map((r) => [r.lo, r.hi]);
}

/** The cohorts the fallback added to a campaign. */
export async function addedCohorts(sql: Sql, campaignId: number) {
  return sql<{ cohort: number; extend_to: number; created_at: Date }[]>`
    select cohort, extend_to, created_at from campaign_cohorts where campaign_id = ${campaignId} order by cohort`;
}

/** A range's standing in the ledger for one cohort's members (the ledger's own totals count every member in the range). */
export async function cohortSendTotals(
  sql: Sql,
  range: { campaignId: number; wave: string; fromCustomerId: number; toCustomerId: number },
  channel: string,
  cohort: number,
): Promise<RangeTotals> {
  const [totals] = await sql<RangeTotals[]>`
    select count(*) filter (where d.status = 'sent')::int as sent, count(*) filter (where d.status = 'failed')::int as failed,
           count(*) filter (where d.status = 'uncertain' or d.recovery is not null)::int as uncertain,
           count(*) filter (where d.recovery is not null)::int as recovered
    from deliveries d join campaign_members m on m.campaign_id = d.campaign_id and m.customer_id = d.customer_id
    where d.campaign_id = ${range.campaignId} and d.wave = ${range.wave} and d.channel = ${channel}
      and d.customer_id between ${range.fromCustomerId} and ${range.toCustomerId} and m.cohort = ${cohort}::int`;
  return totals!;
}
