// Where given customers stand in a campaign's audience, and why: in it, in the holdout, kept out
// (which suppression, which consent or address is missing), or not in it at all (the segment's
// rules do not match, no value to rank by, beyond the top N, not drawn in the sample). Proofs
// show it next to each customer, so a marketer sees why someone would get nothing.
import type { Sql } from '../../db/connection.ts';
import { compileRule, fieldSql, type Fragment } from './compile.ts';
import { resolveField } from './fields.ts';
import { channelAddress, type FrequencyCap } from './suppression.ts';
import type { Audience } from './audience.ts';
import type { SegmentRegistry } from './segments.ts';

export type StandingStatus = 'in the audience' | 'holdout' | 'excluded' | 'not in the audience';

export interface Standing {
  status: StandingStatus;
  /** Why, in words; null for members who would be contacted. */
  reason: string | null;
}

export interface StandingCampaign {
  slug: string;
  audience: Audience;
  registry: SegmentRegistry;
  config: { frequencyCap?: FrequencyCap | undefined };
}

interface MemberRow {
  customer_id: number;
  holdout: boolean;
  suppression_reason: string | null;
}

const CHANNEL_WORD = { mail: 'mail', email: 'email', sms: 'SMS' } as const;

async function suppressionDetail(sql: Sql, audience: Audience, ids: number[]): Promise<Map<number, string>> {
  if (!ids.length) return new Map();
  const channel = audience.channel;
  const rows = await sql<{ customer_id: number; channel: string; reason: string; by_address: boolean }[]>`
    select c.id as customer_id, s.channel, s.reason, s.customer_id is null as by_address
    from customers c
    join suppressions s on s.channel in (${channel}::text, 'all')
      and (s.customer_id = c.id or s.address = ${channelAddress(sql, channel)})
    where c.id = any(${ids}::bigint[])
    order by c.id, s.customer_id is null, s.id`;
  const out = new Map<number, string>();
  for (const r of rows) {
    const text = `${r.reason} (${r.channel === 'all' ? 'every channel' : CHANNEL_WORD[r.channel as keyof typeof CHANNEL_WORD]}${r.by_address ? ', by address' : ''})`;
    out.set(r.customer_id, out.has(r.customer_id) ? `${out.get(r.customer_id)}, ${text}` : text);
  }
  return out;
}

function keptOutReason(reason: string, audience: Audience, suppressed: string | undefined, cap?: FrequencyCap): string {
  const ch = CHANNEL_WORD[audience.channel];
  switch (reason) {
    case 'suppressed':
      return `on the suppression list: ${suppressed ?? 'an entry for this channel'}`;
    case 'no_consent':
      return audience.channel === 'mail' ? 'mail consent denied' : `no ${ch} consent granted`;
    case 'no_address':
      return audience.channel === 'email'
        ? 'no email address'
        : audience.channel === 'sms'
          ? 'no mobile number'
          : 'no usable postal address (a street line, a city, or a postal code is missing)';
    case 'frequency_cap':
      return cap
        ? `frequency cap: already sent ${cap.maxContacts} messages within ${cap.days} days`
        : 'frequency cap reached';
    case 'household_duplicate':
      return 'one per household: another member at the same address ranks higher';
    default:
      return reason;
  }
}

/** Why customers outside the audience are outside it, evaluated as of `asOf`. */
async function outsideReasons(
  sql: Sql,
  campaign: StandingCampaign,
  asOf: Date,
  ids: number[],
  snapshotAt: Date | null,
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!ids.length) return out;
  const { segment } = campaign.audience;
  const matches = compileRule({ sql, registry: campaign.registry, asOf }, segment.rules);
  const byField = segment.top ? resolveField(segment.top.by) : undefined;
  const hasMetric: Fragment = byField ? sql`${fieldSql(sql, byField)} is not null` : sql`true`;
  const rows = await sql<{ id: number; matches: boolean; has_metric: boolean }[]>`
    select c.id, ${matches} as matches, ${hasMetric} as has_metric
    from customers c where c.id = any(${ids}::bigint[])`;
  const what = segment.name === 'audience' ? "the audience's rules" : `segment ${segment.name}`;
  const when = snapshotAt ? `not in the campaign's snapshot of ${snapshotAt.toISOString().slice(0, 16)}Z; ` : '';
  for (const r of rows) {
    let why: string;
    if (!r.matches) why = `does not match ${what}`;
    else if (segment.top && !r.has_metric) why = `matches ${what} but has no ${segment.top.by} to rank by`;
    else if (segment.top)
      why = `matches ${what} but ranks beyond the top ${segment.top.n} by ${segment.top.by}${segment.top.order === 'asc' ? ' (ascending)' : ''}`;
    else if (segment.sample)
      why = `matches ${what} but was not drawn in the sample (${'n' in segment.sample ? segment.sample.n : `${segment.sample.percent} %`})`;
    else why = snapshotAt ? `matches ${what} now, but did not then` : `matches ${what}`;
    out.set(r.id, `${when}${snapshotAt ? `today it ${why}` : why}`);
  }
  return out;
}

/**
 * The standing of each of `ids`: `members` are the audience's rows for them (from the snapshot
 * when `snapshotAt` is given, else the live audience).
 */
export async function standingOf(
  sql: Sql,
  campaign: StandingCampaign,
  asOf: Date,
  ids: number[],
  members: MemberRow[],
  snapshotAt: Date | null,
): Promise<Map<number, Standing>> {
  const byId = new Map(members.map((m) => [m.customer_id, m]));
  const suppressedIds = members.filter((m) => m.suppression_reason === 'suppressed').map((m) => m.customer_id);
  const details = await suppressionDetail(sql, campaign.audience, suppressedIds);
  const outside = await outsideReasons(
    sql,
    campaign,
    asOf,
    ids.filter((id) => !byId.has(id)),
    snapshotAt,
  );
  const result = new Map<number, Standing>();
  for (const id of ids) {
    const m = byId.get(id);
    if (!m) result.set(id, { status: 'not in the audience', reason: outside.get(id) ?? 'no such customer' });
    else if (m.suppression_reason)
      result.set(id, {
        status: 'excluded',
        reason: keptOutReason(m.suppression_reason, campaign.audience, details.get(id), campaign.config.frequencyCap),
      });
    else if (m.holdout)
      result.set(id, {
        status: 'holdout',
        reason: `in the holdout (${campaign.audience.holdoutPercent} % kept aside to measure lift): would not be contacted`,
      });
    else result.set(id, { status: 'in the audience', reason: null });
  }
  return result;
}
