// A campaign's goals against their pace: all contactable members contacted within a time, and so
// many responses of a kind by a time, both from the campaign's start. The pace is linear: at a
// third of the time, a third of the target. The fallback's check and `mailroom status` use it.
import type { Sql } from '../../db/connection.ts';
import { durationMs } from './names.ts';
import type { Goals } from './campaign-file.ts';

/** What a goal should have reached `at` (ms), on a straight line from 0 at the start to target at the deadline. */
export function paceAt(target: number, startedAt: number, withinMs: number, at: number): number {
  if (withinMs <= 0) return target;
  return target * Math.min(1, Math.max(0, (at - startedAt) / withinMs));
}

/** Treated members (not held out) with a response of `kind` to the campaign (by `until`, when given), each counted once. */
export async function respondersOfKind(sql: Sql, campaignId: number, kind: string, until?: Date): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(distinct r.customer_id)::int as n
    from responses r join campaign_members m on m.campaign_id = r.campaign_id and m.customer_id = r.customer_id
    where r.campaign_id = ${campaignId} and r.kind = ${kind} and not m.holdout
      and (${until ?? null}::timestamptz is null or r.occurred_at <= ${until ?? null}::timestamptz)`;
  return row!.n;
}

/**
 * Contactable members reached by the campaign by `until`: a message sent or a letter posted, or a
 * call that reached them. A contact after the goal's deadline does not meet it.
 */
export async function contactedMembers(
  sql: Sql,
  campaignId: number,
  until: Date,
): Promise<{ contacted: number; contactable: number }> {
  const [row] = await sql<{ contacted: number; contactable: number }[]>`
    select count(*) filter (where
        exists (select 1 from deliveries d where d.campaign_id = m.campaign_id and d.customer_id = m.customer_id
                  and d.status = 'sent' and d.sent_at <= ${until})
        or exists (select 1 from call_tasks t where t.campaign_id = m.campaign_id and t.customer_id = m.customer_id
                  and t.status = 'settled' and t.settled_at <= ${until})
      )::int as contacted,
      count(*)::int as contactable
    from campaign_members m
    where m.campaign_id = ${campaignId} and not m.holdout and m.suppression_reason is null`;
  return row!;
}

export interface GoalStanding {
  goal: 'contact' | 'responses';
  /** The response kind, for the responses goal. */
  kind?: string;
  done: number;
  target: number;
  /** Where the goal should stand now. */
  pace: number;
  /** The goal's deadline (ISO). */
  by: string;
  onPace: boolean;
}

/** Each goal of the campaign as it stands at `now`. */
export async function goalStandings(
  sql: Sql,
  campaignId: number,
  goals: Goals,
  startedAt: Date,
  now: Date,
): Promise<GoalStanding[]> {
  const out: GoalStanding[] = [];
  const start = startedAt.getTime();
  const standing = (goal: GoalStanding['goal'], done: number, target: number, within: string, kind?: string) => {
    const pace = paceAt(target, start, durationMs(within), now.getTime());
    out.push({
      goal,
      ...(kind ? { kind } : {}),
      done,
      target,
      pace: Math.round(pace * 10) / 10,
      by: deadline(within).toISOString(),
      onPace: done >= pace,
    });
  };
  const deadline = (within: string) => new Date(start + durationMs(within));
  if (goals.contact) {
    const { contacted, contactable } = await contactedMembers(sql, campaignId, deadline(goals.contact.within));
    standing('contact', contacted, contactable, goals.contact.within);
  }
  if (goals.responses) {
    const r = goals.responses;
    standing('responses', await respondersOfKind(sql, campaignId, r.kind, deadline(r.by)), r.target, r.by, r.kind);
  }
  return out;
}
