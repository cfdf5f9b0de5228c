// Why a matched customer must not be contacted on a channel: one reason, the first that applies,
// or null. Email and SMS need consent granted; mail is allowed unless consent was denied.
import type { Sql } from '../../db/connection.ts';
import type { Fragment } from './compile.ts';
import type { Channel } from './rules.ts';

export const SUPPRESSION_REASONS = [
  'suppressed',
  'no_consent',
  'no_address',
  'frequency_cap',
  'household_duplicate',
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface FrequencyCap {
  maxContacts: number;
  days: number;
}

/** The address a suppression entry matches for a channel, normalised as suppressions store it. */
export function channelAddress(sql: Sql, channel: Channel): Fragment {
  if (channel === 'email') return sql`lower(c.email)`;
  if (channel === 'sms') return sql`c.phone`;
  // Stored on the customer (a generated column): see db/migrations/0003_postal_key.sql.
  return sql`c.postal_key`;
}

function consentMissing(sql: Sql, channel: Channel): Fragment {
  return channel === 'mail'
    ? sql`exists (select 1 from consents k where k.customer_id = c.id and k.channel = 'mail' and k.status = 'denied')`
    : sql`not exists (select 1 from consents k where k.customer_id = c.id and k.channel = ${channel}::text and k.status = 'granted')`;
}

function addressUnusable(sql: Sql, channel: Channel): Fragment {
  if (channel === 'email') return sql`c.email is null`;
  if (channel === 'sms') return sql`c.phone is null`;
  // A letter needs a street line, a city, and a postal code where the country has them.
  return sql`(c.address_line1 is null or c.city is null or (c.postal_code is null and c.country not in ('HK', 'MO')))`;
}

export function suppressionReason(sql: Sql, channel: Channel, asOf: Date, cap: FrequencyCap | undefined): Fragment {
  const address = channelAddress(sql, channel);
  const frequency = cap
    ? sql`when (select count(*) from deliveries d where d.customer_id = c.id and d.status = 'sent'
                 and d.sent_at > ${asOf.toISOString()}::timestamptz - make_interval(days => ${cap.days}::int)) >= ${cap.maxContacts}::int
            then 'frequency_cap'`
    : sql``;
  return sql`case
    when exists (select 1 from suppressions s where s.customer_id = c.id and s.channel in (${channel}::text, 'all'))
      or exists (select 1 from suppressions s where s.address = ${address} and s.channel in (${channel}::text, 'all'))
      then 'suppressed'
    when ${consentMissing(sql, channel)} then 'no_consent'
    when ${addressUnusable(sql, channel)} then 'no_address'
    ${frequency}
    else null end`;
}
