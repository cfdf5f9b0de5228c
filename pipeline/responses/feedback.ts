// Feedback when a campaign's response window closes: every customer it reached gets the contact
// (last contacted, contact count) and their responses (response count, last responded) on their
// record, and unsubscribes recorded as responses (imported ones included) join the suppression
// list. SMS STOP and START are applied live by the tracking server, which sees both: a STOP taken
// back by START must stay taken back, so feedback leaves SMS opt-outs alone. The next campaign's
// segments can use all of it. Applied once per campaign, in one transaction.
import type { Sql } from '../../db/connection.ts';
import { claimFeedback } from '../campaign/campaigns-table.ts';

export interface FeedbackResult {
  applied: boolean;
  contacted: number;
  responded: number;
  optedOut: number;
}

export async function applyFeedback(sql: Sql, campaignId: number, responseKinds: string[]): Promise<FeedbackResult> {
  return sql.begin(async (tx) => {
    if (!(await claimFeedback(tx as unknown as Sql, campaignId)))
      return { applied: false, contacted: 0, responded: 0, optedOut: 0 };
    const contacted = await tx`
      update customers c set last_contacted_at = greatest(c.last_contacted_at, d.last_sent), contact_count = c.contact_count + d.n
      from (select customer_id, count(*)::int as n, max(sent_at) as last_sent from deliveries
            where campaign_id = ${campaignId} and status = 'sent' group by customer_id) d
      where c.id = d.customer_id`;
    const responded = await tx`
      update customers c set response_count = c.response_count + r.n, last_responded_at = greatest(c.last_responded_at, r.last_at)
      from (select customer_id, count(*)::int as n, max(occurred_at) as last_at from responses
            where campaign_id = ${campaignId} and customer_id is not null and kind = any(${responseKinds}::text[]) group by customer_id) r
      where c.id = r.customer_id`;
    const optedOut = await tx`
      insert into suppressions (channel, customer_id, reason, source)
      select distinct coalesce(d.channel, 'all'), r.customer_id, 'unsubscribed', ${`campaign:${campaignId}`}
      from responses r left join deliveries d on d.id = r.delivery_id
      where r.campaign_id = ${campaignId} and r.customer_id is not null and r.kind = 'unsubscribe'
      on conflict on constraint suppressions_key do nothing`;
    return { applied: true, contacted: contacted.count, responded: responded.count, optedOut: optedOut.count };
  });
}
