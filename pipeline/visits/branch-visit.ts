// Branch visits: staff find the customer by the response code on the letter, the phone number or
// the customer id, see their band and the gift they are entitled to, and record the visit. One
// branch_visit response per customer per campaign (its dedupe key says so); a gift with stock is
// taken from offer_stock by a conditional update in the same transaction, so concurrent visits
// never hand out more than was bought and a refused or repeated visit takes nothing.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Sql } from '../../db/connection.ts';
import { logContact } from '../contacts/contact-log.ts';
import { recordResponse } from '../responses/record.ts';
import { normaliseCode } from '../responses/member-codes.ts';
import { responseCode } from '../render/codes.ts';
import { salutationFor } from '../render/helpers.ts';
import type { Offer, StoredCampaign } from '../calls/stored-campaign.ts';

export type VisitLookup = { code: string } | { phone: string } | { customer: string };

export interface VisitCustomer {
  id: number;
  external_id: string;
  full_name: string;
  salutation: string;
  account_manager: string | null;
}

export interface VisitMember {
  rank: number | null;
  band: string | null;
  holdout: boolean;
}

export type VisitResult =
  | { status: 'not_found'; message: string }
  /** Looked up, not recorded (lookupVisit): what staff see before they record. */
  | {
      status: 'found';
      customer: VisitCustomer;
      member: VisitMember;
      entitled: Offer | null;
      gift: null;
      /** Stock left of the entitled offer, when it has stock. */
      remaining: number | null;
      visitedAt: null;
    }
  | { status: 'ambiguous'; message: string; candidates: string[] }
  | { status: 'not_member'; customer: VisitCustomer }
  | {
      status: 'recorded' | 'already' | 'out_of_stock';
      customer: VisitCustomer;
      member: VisitMember;
      /** The offer of the customer's band (none for the holdout or a member outside the bands). */
      entitled: Offer | null;
      /** What was handed out: the offer's key and the choice named by staff, if any. */
      gift: { offer: string; choice: string | null } | null;
      /** Stock left of the gift's offer, when it has stock. */
      remaining: number | null;
      visitedAt: string | null;
    };

interface CustomerRow {
  id: number;
  external_id: string;
  full_name: string;
  family_name: string | null;
  gender: string;
  salutation: string | null;
  locale: string;
  account_manager: string | null;
}

const CUSTOMER_COLUMNS = (sql: Sql) =>
  sql`c.id, c.external_id, c.full_name, c.family_name, c.gender, c.salutation, c.locale, c.attributes ->> 'account_manager' as account_manager`;

function visitCustomer(row: CustomerRow): VisitCustomer {
  return {
    id: row.id,
    external_id: row.external_id,
    full_name: row.full_name,
    salutation: salutationFor(row),
    account_manager: row.account_manager,
  };
}

/** The member a printed code belongs to in this campaign; codes not yet stored are computed for its members. */
async function customerByCode(sql: Sql, campaign: StoredCampaign, raw: string, secret: string): Promise<number | null> {
  const code = normaliseCode(raw);
  if (!code) return null;
  const [stored] = await sql<{ customer_id: number }[]>`
    select customer_id from campaign_members where campaign_id = ${campaign.id} and response_code = ${code}`;
  if (stored) return responseCode(secret, campaign.slug, stored.customer_id) === code ? stored.customer_id : null;
  // A code is an HMAC of (campaign, customer): it is found by computing the members' codes.
  const members = await sql<{ customer_id: number }[]>`
    select customer_id from campaign_members where campaign_id = ${campaign.id} and response_code is null`;
  return members.find((m) => responseCode(secret, campaign.slug, m.customer_id) === code)?.customer_id ?? null;
}

async function findVisitor(
  sql: Sql,
  campaign: StoredCampaign,
  by: VisitLookup,
  secret: string,
): Promise<{ row: CustomerRow } | { status: 'not_found' | 'ambiguous'; message: string; candidates?: string[] }> {
  if ('code' in by) {
    const id = await customerByCode(sql, campaign, by.code, secret);
    if (id === null)
      return {
        status: 'not_found',
        message: `code ${by.code} is not a response code of campaign ${campaign.slug} (check the letter's code, or find the customer by phone)`,
      };
    const [row] = await sql<CustomerRow[]>`select ${CUSTOMER_COLUMNS(sql)} from customers c where c.id = ${id}`;
    return { row: row! };
  }
  if ('phone' in by) {
    const parsed = parsePhoneNumberFromString(by.phone.trim(), 'CN');
    if (!parsed?.isValid()) return { status: 'not_found', message: `phone ${by.phone} is not a valid phone number` };
    // Members of the campaign first: a household may share a number with customers outside it.
    const rows = await sql<(CustomerRow & { member: boolean })[]>`
      select ${CUSTOMER_COLUMNS(sql)},
        exists (select 1 from campaign_members m where m.campaign_id = ${campaign.id} and m.customer_id = c.id) as member
      from customers c where c.phone = ${parsed.number} order by 9 desc, c.id`;
    if (!rows.length) return { status: 'not_found', message: `no customer has the phone number ${parsed.number}` };
    const members = rows.filter((r) => r.member);
    if (members.length > 1)
      return {
        status: 'ambiguous',
        message: `${members.length} members of ${campaign.slug} share the phone number ${parsed.number}; register the visit by --code or --customer`,
        candidates: members.map((r) => r.external_id),
      };
    return { row: members[0] ?? rows[0]! };
  }
  const ref = by.customer.trim();
  const rows = await sql<CustomerRow[]>`
    select ${CUSTOMER_COLUMNS(sql)} from customers c
    where c.external_id = ${ref} or (${/^\d{1,15}$/.test(ref)} and c.id = ${/^\d{1,15}$/.test(ref) ? Number(ref) : 0})
    order by (c.external_id = ${ref}) desc limit 1`;
  if (!rows[0]) return { status: 'not_found', message: `no customer has the external id or id ${ref}` };
  return { row: rows[0] };
}

class NothingWritten extends Error {
  constructor(readonly result: VisitResult) {
    super('nothing written');
  }
}

export interface VisitOptions {
  by: VisitLookup;
  /** An offer key (the gift of another band), or the choice within the entitled offer (电风扇). */
  gift?: string | undefined;
  /** The choice within the offer `gift` names (电风扇), when gift is an offer key. */
  choice?: string | undefined;
  staff?: string | undefined;
  /** The branch that registered the visit (the staff page's link names it). */
  branch?: string | undefined;
  secret: string;
  at?: Date;
}

type Identified =
  | Extract<VisitResult, { status: 'not_found' | 'ambiguous' | 'not_member' }>
  | { status: 'member'; customer: VisitCustomer; member: VisitMember; entitled: Offer | null };

async function identify(sql: Sql, campaign: StoredCampaign, by: VisitLookup, secret: string): Promise<Identified> {
  const found = await findVisitor(sql, campaign, by, secret);
  if (!('row' in found))
    return found.status === 'ambiguous'
      ? { status: 'ambiguous', message: found.message, candidates: found.candidates ?? [] }
      : { status: 'not_found', message: found.message };
  const customer = visitCustomer(found.row);
  const [member] = await sql<VisitMember[]>`
    select rank, band, holdout from campaign_members where campaign_id = ${campaign.id} and customer_id = ${customer.id}`;
  if (!member) return { status: 'not_member', customer };
  const entitled = !member.holdout && member.band ? (campaign.offers.get(member.band) ?? null) : null;
  return { status: 'member', customer, member, entitled };
}

/** Who the customer is, their band, the gift and the stock left, and an earlier visit: records nothing. */
export async function lookupVisit(
  sql: Sql,
  campaign: StoredCampaign,
  opts: { by: VisitLookup; secret: string },
): Promise<VisitResult> {
  const who = await identify(sql, campaign, opts.by, opts.secret);
  if (who.status !== 'member') return who;
  const { customer, member, entitled } = who;
  const [r] = await sql<{ occurred_at: Date; details: { gift?: { offer: string; choice: string | null } | null } }[]>`
    select occurred_at, details from responses where dedupe_key = ${`visit:${campaign.id}:${customer.id}`}`;
  if (r)
    return {
      status: 'already',
      customer,
      member,
      entitled,
      gift: r.details.gift ?? null,
      remaining: await remainingOf(sql, campaign.id, r.details.gift?.offer),
      visitedAt: r.occurred_at.toISOString(),
    };
  const remaining = entitled ? ((await remainingOf(sql, campaign.id, entitled.key)) ?? entitled.stock) : null;
  return { status: 'found', customer, member, entitled, gift: null, remaining, visitedAt: null };
}

/** Looks the customer up and records the visit once; returns what staff are shown. */
export async function registerVisit(sql: Sql, campaign: StoredCampaign, opts: VisitOptions): Promise<VisitResult> {
  const who = await identify(sql, campaign, opts.by, opts.secret);
  if (who.status !== 'member') return who;
  const { customer, member, entitled } = who;
  const giftOffer = member.holdout
    ? null
    : opts.gift && campaign.offers.has(opts.gift)
      ? campaign.offers.get(opts.gift)!
      : entitled;
  const choice = opts.choice?.trim() || (opts.gift && opts.gift !== giftOffer?.key ? opts.gift : null) || null;
  const gift = giftOffer ? { offer: giftOffer.key, choice } : null;
  const dedupeKey = `visit:${campaign.id}:${customer.id}`;
  const at = opts.at ?? new Date();

  const previous = async (): Promise<VisitResult> => {
    const [r] = await sql<{ occurred_at: Date; details: { gift?: { offer: string; choice: string | null } | null } }[]>`
      select occurred_at, details from responses where dedupe_key = ${dedupeKey}`;
    return {
      status: 'already',
      customer,
      member,
      entitled,
      gift: r?.details.gift ?? null,
      remaining: await remainingOf(sql, campaign.id, r?.details.gift?.offer ?? giftOffer?.key),
      visitedAt: r?.occurred_at.toISOString() ?? null,
    };
  };
  if ((await sql`select 1 from responses where dedupe_key = ${dedupeKey}`).length) return previous();

  try {
    return await sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      let remaining: number | null = null;
      if (giftOffer && giftOffer.stock !== null) {
        await tx`
          insert into offer_stock (campaign_id, offer, stock, unit_cost)
          values (${campaign.id}, ${giftOffer.key}, ${giftOffer.stock}, ${giftOffer.unitCost})
          on conflict (campaign_id, offer) do nothing`;
        // One statement decides: the row lock makes concurrent visits take their turn.
        const [taken] = await tx<{ remaining: number }[]>`
          update offer_stock set used = used + 1
          where campaign_id = ${campaign.id} and offer = ${giftOffer.key} and used < stock
          returning stock - used as remaining`;
        if (!taken)
          throw new NothingWritten({
            status: 'out_of_stock',
            customer,
            member,
            entitled,
            gift,
            remaining: 0,
            visitedAt: null,
          });
        remaining = taken.remaining;
      }
      const written = await recordResponse(tx, {
        campaignId: campaign.id,
        customerId: customer.id,
        deliveryId: null,
        kind: 'branch_visit',
        source: 'visit',
        dedupeKey,
        details: {
          gift,
          band: member.band,
          holdout: member.holdout,
          staff: opts.staff ?? null,
          branch: opts.branch ?? null,
        },
      });
      // A visit registered at the same moment elsewhere: give the gift back by rolling back.
      if (!written)
        throw new NothingWritten({ status: 'already', customer, member, entitled, gift, remaining, visitedAt: null });
      await logContact(tx, {
        customerId: customer.id,
        campaignId: campaign.id,
        occurredAt: at,
        channel: 'visit',
        actor: opts.staff?.trim() || opts.branch || 'branch',
        purpose: opts.branch ? `branch visit (${opts.branch})` : 'branch visit',
        outcome: member.holdout
          ? 'visited (holdout: no gift)'
          : gift
            ? `gift handed out: ${giftOffer!.text}${gift.choice ? ` (${gift.choice})` : ''}`
            : 'visited (no gift for this band)',
        nextStep: null,
        note: null,
        naturalKey: dedupeKey,
      });
      return { status: 'recorded', customer, member, entitled, gift, remaining, visitedAt: at.toISOString() };
    });
  } catch (error) {
    if (!(error instanceof NothingWritten)) throw error;
    if (error.result.status === 'already') return previous();
    if (error.result.status === 'out_of_stock' && giftOffer)
      return { ...error.result, remaining: await remainingOf(sql, campaign.id, giftOffer.key) };
    return error.result;
  }
}

async function remainingOf(sql: Sql, campaignId: number, offer: string | undefined): Promise<number | null> {
  if (!offer) return null;
  const [row] = await sql<{ remaining: number }[]>`
    select stock - used as remaining from offer_stock where campaign_id = ${campaignId} and offer = ${offer}`;
  return row?.remaining ?? null;
}

export interface GiftStock {
  offer: string;
  text: string;
  stock: number | null;
  used: number;
  remaining: number | null;
  unit_cost: number | null;
  cost: number | null;
}

/** Per offer: stock, handed out, left, and the cost of what was handed out. */
export async function giftStock(sql: Sql, campaign: StoredCampaign): Promise<GiftStock[]> {
  const rows = await sql<{ offer: string; used: number }[]>`
    select details -> 'gift' ->> 'offer' as offer, count(*)::int as used from responses
    where campaign_id = ${campaign.id} and kind = 'branch_visit' and details -> 'gift' ->> 'offer' is not null
    group by 1`;
  const used = new Map(rows.map((r) => [r.offer, r.used]));
  return [...campaign.offers.values()].map((o) => {
    const n = used.get(o.key) ?? 0;
    return {
      offer: o.key,
      text: o.text,
      stock: o.stock,
      used: n,
      remaining: o.stock === null ? null : o.stock - n,
      unit_cost: o.unitCost,
      cost: o.unitCost === null ? null : Math.round(n * o.unitCost * 100) / 100,
    };
  });
}
