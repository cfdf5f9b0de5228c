// Which campaign member a response code (from /p/<code> or /u/<code>) belongs to. A code is an
// HMAC of (campaign slug, customer id) (activities/render/codes.ts), so it cannot be reversed; the
// snapshot does not store it either. The server stores them instead: the first time a code is not
// found, it computes the codes of every member still without one (campaign by campaign, in chunks)
// and writes them to campaign_members.response_code, after which every lookup is one indexed
// read. A forged code costs one indexed read and one look at an index of members without a code.
import type { Logger } from 'pino';
import type { Sql } from '../../db/connection.ts';
import { CODE_LENGTH, responseCode } from '../render/codes.ts';
import { storeResponseCodes } from '../audience/members-table.ts';

export interface CodeMember {
  campaignId: number;
  slug: string;
  campaignName: string;
  spec: unknown;
  customerId: number;
  band: string | null;
}

const CHUNK = 5000;
const CROCKFORD = new RegExp(`^[0-9A-HJKMNP-TV-Z]{${CODE_LENGTH}}$`);

/** The code as printed, from what was typed: case, O for 0 and I or L for 1 forgiven (Crockford). Null when it cannot be one. */
export function normaliseCode(raw: string): string | null {
  const code = raw.trim().toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  return CROCKFORD.test(code) ? code : null;
}

async function storedMember(sql: Sql, code: string): Promise<CodeMember | null> {
  const [row] = await sql<
    { campaign_id: number; slug: string; name: string; spec: unknown; customer_id: number; band: string | null }[]
  >`
    select m.campaign_id, c.slug, c.name, c.spec, m.customer_id, m.band
    from campaign_members m join campaigns c on c.id = m.campaign_id
    where m.response_code = ${code}`;
  return row
    ? {
        campaignId: row.campaign_id,
        slug: row.slug,
        campaignName: row.name,
        spec: row.spec,
        customerId: row.customer_id,
        band: row.band,
      }
    : null;
}

async function fillCampaign(
  sql: Sql,
  secret: string,
  campaign: { id: number; slug: string },
  log: Logger,
): Promise<number> {
  let after = 0;
  let written = 0;
  for (;;) {
    const rows = await sql<{ customer_id: number }[]>`
      select customer_id from campaign_members
      where campaign_id = ${campaign.id} and response_code is null and customer_id > ${after}
      order by customer_id limit ${CHUNK}`;
    if (!rows.length) return written;
    const ids = rows.map((r) => String(r.customer_id));
    const codes = rows.map((r) => responseCode(secret, campaign.slug, r.customer_id));
    try {
      written += await storeResponseCodes(sql, campaign.id, ids, codes);
    } catch (error) {
      // Two members sharing a code (50 bits: about one pair in 30 million members) leave this chunk
      // without stored codes; the next miss tries again.
      if ((error as { code?: string }).code !== '23505') throw error;
      log.warn({ campaignId: campaign.id }, 'a response code is taken by another member; left unstored');
    }
    after = rows[rows.length - 1]!.customer_id;
  }
}

/** Stores the code of every member still without one, campaign by campaign, so that codes can be
 * looked up with one indexed read (or matched set-based by an import). */
export async function storeMissingCodes(
  sql: Sql,
  secret: string,
  log: Logger,
): Promise<{ campaigns: number; written: number }> {
  const campaigns = await sql<{ id: number; slug: string }[]>`
    select c.id, c.slug from campaigns c
    where exists (select 1 from campaign_members m where m.campaign_id = c.id and m.response_code is null)`;
  let written = 0;
  for (const c of campaigns) written += await fillCampaign(sql, secret, c, log);
  if (written) log.info({ campaigns: campaigns.map((c) => c.id), codes: written }, 'stored response codes');
  return { campaigns: campaigns.length, written };
}

export interface MemberCodes {
  find(raw: string): Promise<CodeMember | null>;
}

export function memberCodes(sql: Sql, secret: string, log: Logger): MemberCodes {
  // One fill at a time per process: a mailing landing brings many first visits at once.
  let filling: Promise<number> | undefined;
  const fill = () => {
    // Campaigns looked at, not codes written: another server may have written them meanwhile.
    filling ??= storeMissingCodes(sql, secret, log)
      .then((r) => r.campaigns)
      .finally(() => (filling = undefined));
    return filling;
  };

  return {
    async find(raw) {
      const code = normaliseCode(raw);
      if (!code) return null;
      let member = await storedMember(sql, code);
      if (!member && (await fill()) > 0) member = await storedMember(sql, code);
      if (!member) return null;
      // A stored code made under another secret is no proof of anything.
      if (responseCode(secret, member.slug, member.customerId) !== code) {
        log.error(
          { campaignId: member.campaignId },
          'stored response code does not match this secret: is MAILROOM_SECRET the one the campaign was sent with?',
        );
        return null;
      }
      return member;
    },
  };
}

/** Null when the stored codes agree with `secret`, else what is wrong (checked once at start). */
export async function checkStoredCodes(sql: Sql, secret: string): Promise<string | null> {
  const [row] = await sql<{ slug: string; customer_id: number; response_code: string }[]>`
    select c.slug, m.customer_id, m.response_code from campaign_members m join campaigns c on c.id = m.campaign_id
    where m.response_code is not null limit 1`;
  if (!row || responseCode(secret, row.slug, row.customer_id) === row.response_code) return null;
  return (
    'the response codes stored in campaign_members were made with another secret than this MAILROOM_SECRET; ' +
    "run the tracking server with the secret the campaigns were sent with (the worker's). If the stored codes are the wrong ones, " +
    'clear them (`update campaign_members set response_code = null`) and they are stored again under the right secret.'
  );
}
