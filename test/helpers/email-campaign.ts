// The pieces of an end-to-end email campaign test: customers with email consent, a one-wave
// campaign file registered as a campaign row, the worker's email settings, and what the SMTP
// server ended up with.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCampaign, type LoadedCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { registerCampaign } from '../../client/api.ts';
import type { Sql } from '../../db/connection.ts';
import type { SmtpSink } from '../../dev/smtp-sink.ts';

/** `count` customers <prefix>1…<prefix>count with an address <prefix>i@example.com (lower case) and email consent. */
export async function seedEmailCustomers(sql: Sql, prefix: string, count: number): Promise<void> {
  await sql`insert into customers (external_id, full_name, family_name, gender, email, address_line1, city, postal_code)
            select ${prefix}::text || i, '王' || i, '王', 'male', lower(${prefix}::text) || i || '@example.com', '路1号', '北京市', (100000 + i)::text
            from generate_series(1, ${count}) as i`;
  await sql`insert into consents (customer_id, channel, status, source) select id, 'email', 'granted', 't' from customers
            where external_id like ${`${prefix}%`} on conflict do nothing`;
}

/**
 * A campaign of those customers with one email wave `hello` (`waveOptions` adds to it, e.g.
 * "rate_limit: 100") and no response window, written to `dir` and registered.
 */
export async function emailCampaign(
  sql: Sql,
  dir: string,
  slug: string,
  prefix: string,
  opts: { waveOptions?: string; holdout?: number; template?: string } = {},
): Promise<{ campaign: LoadedCampaign; campaignId: number }> {
  const file = join(dir, `${slug}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${slug}`,
      `audience: { rules: { field: external_id, op: starts_with, value: ${prefix} }, channel: email, holdout: ${opts.holdout ?? 0} }`,
      'response_window: 0s',
      'waves:',
      `  - { name: hello, channel: email, template: ${opts.template ?? 'wealth-reminder-email'}${opts.waveOptions ? `, ${opts.waveOptions}` : ''} }`,
    ].join('\n'),
  );
  const campaign = loadCampaign(file);
  return { campaign, campaignId: await registerCampaign(sql, campaign) };
}

/** A worker's campaign settings for email through `sink`, settling interrupted sends by its lookup. */
export const emailDeps = (sink: SmtpSink) => ({
  secret: 's',
  trackingUrl: 'https://go.example.com',
  from: 'Mailroom <m@example.com>',
  smtpUrl: sink.url,
  smtpLookupUrl: sink.lookupUrl,
});

/** The messages the SMTP server kept: file names, second copies of a Message-ID (<id>.2.eml), recipients. */
export function messagesAt(outbox: string) {
  const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
  return {
    files,
    copies: files.filter((f) => /\.\d+\.eml$/.test(f)),
    recipients: files.map((f) => /^To: .*<([^>]+@example\.com)>/m.exec(readFileSync(join(outbox, f), 'utf8'))?.[1]),
  };
}

/** The contactable members' and the holdout's addresses. */
export async function memberAddresses(
  sql: Sql,
  campaignId: number,
): Promise<{ contactable: Set<string>; holdout: Set<string> }> {
  const rows = await sql<{ email: string; holdout: boolean }[]>`
    select c.email, m.holdout from campaign_members m join customers c on c.id = m.customer_id
    where m.campaign_id = ${campaignId} and m.suppression_reason is null`;
  return {
    contactable: new Set(rows.filter((r) => !r.holdout).map((r) => r.email)),
    holdout: new Set(rows.filter((r) => r.holdout).map((r) => r.email)),
  };
}
