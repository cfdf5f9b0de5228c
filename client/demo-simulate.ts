// What people do during the demo's campaign, simulated through the same functions their pages,
// sheets and imports use: account managers record call outcomes (recordCallOutcome), branch staff
// register visits and hand out gifts (registerVisit), the branch's coupon system and the core
// system hand over files of offline responses and orders (import responses, import orders).
// Who does what is decided by a hash of the campaign and the customer, so a run is reproducible.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '../db/connection.ts';
import { insertResponsesFrom } from '../pipeline/responses/record.ts';
import { recordCallOutcome, type CallOutcome } from '../pipeline/calls/call-tasks.ts';
import { registerVisit, type VisitLookup } from '../pipeline/visits/branch-visit.ts';
import type { StoredCampaign } from '../pipeline/calls/stored-campaign.ts';
import { responseCode } from '../pipeline/render/codes.ts';

/** The share of posted letters whose QR code is scanned or PURL visited. */
const SCAN_RATE = 0.12;
/** First call: booked, declined, call back later, wrong number; the rest do not answer (called again). */
const FIRST_CALL: [CallOutcome, number][] = [
  ['appointment', 0.3],
  ['declined', 0.2],
  ['call_back', 0.08],
  ['wrong_number', 0.02],
];
/** A call after a no-answer. */
const LATER_CALL: [CallOutcome, number][] = [
  ['appointment', 0.2],
  ['declined', 0.2],
];
/** Who comes to the branch: most who booked; a few treated and held-out customers on their own. */
const SHOW_UP = { booked: 0.75, treated: 0.03, holdout: 0.06 };
/** Offline: wealth-product subscriptions (orders) and trial-coupon redemptions at the counter. */
const ORDER_RATE = { treated: 0.09, holdout: 0.06 };
const COUPON_RATE = 0.05;

/** A number in [0, 1) from the campaign, the customer and what is decided. */
function unit(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join(':')).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The first ceil(rate × n) of `group` in a hash order: a small group (the holdout) still has its
 * share, where a coin per member could leave it with none.
 */
function shareOf<T extends { customer_id: number }>(group: T[], rate: number, ...parts: string[]): T[] {
  return group
    .map((m) => ({ m, u: unit(...parts, m.customer_id) }))
    .sort((a, b) => a.u - b.u)
    .slice(0, Math.ceil(group.length * rate))
    .map((x) => x.m);
}

function pick(u: number, table: [CallOutcome, number][], otherwise: CallOutcome): CallOutcome {
  let upTo = 0;
  for (const [outcome, share] of table) if (u < (upTo += share)) return outcome;
  return otherwise;
}

/** Runs `work` over `items`, a few at a time (each is a transaction of its own). */
async function inTurn<T>(items: T[], work: (item: T, i: number) => Promise<void>, width = 4): Promise<void> {
  for (let i = 0; i < items.length; i += width)
    await Promise.all(items.slice(i, i + width).map((item, k) => work(item, i + k)));
}

/** QR scans and PURL visits on the posted letters of a mail wave (the tracking server would record them). */
export async function simulateScans(sql: Sql, slug: string, wave: string): Promise<number> {
  return insertResponsesFrom(
    sql,
    sql`
    select d.campaign_id, d.customer_id, d.id, case when d.id % 2 = 0 then 'purl_visit' else 'qr_scan' end, 'demo',
           'demo:' || d.id, now()
    from deliveries d join campaigns c on c.id = d.campaign_id
    where c.slug = ${slug} and d.wave = ${wave} and d.status = 'sent'
      and mailroom_hash_unit(${slug} || ':' || d.customer_id::text) < ${SCAN_RATE}`,
  );
}

/** One round of calls: every open task is called once and its outcome recorded as a manager would. */
export async function simulateCalls(sql: Sql, slug: string, now: Date): Promise<Partial<Record<CallOutcome, number>>> {
  const tasks = await sql<{ id: number; customer_id: number; attempts: number }[]>`
    select t.id, t.customer_id, t.attempts from call_tasks t join campaigns c on c.id = t.campaign_id
    where c.slug = ${slug} and t.status = 'open' order by t.id`;
  const counts: Partial<Record<CallOutcome, number>> = {};
  await inTurn(tasks, async (t) => {
    const u = unit(slug, 'call', t.customer_id, t.attempts);
    const outcome = t.attempts === 0 ? pick(u, FIRST_CALL, 'no_answer') : pick(u, LATER_CALL, 'no_answer');
    // "Tomorrow or the day after?": 10:00 or 15:00 Beijing time.
    const day = new Date(now.getTime() + (u < 0.2 ? 1 : 2) * 86_400_000).toISOString().slice(0, 10);
    const result = await recordCallOutcome(sql, {
      taskId: t.id,
      outcome,
      ...(outcome === 'appointment' ? { appointmentAt: new Date(`${day}T${u < 0.1 ? '10' : '15'}:00:00+08:00`) } : {}),
      ...(outcome === 'call_back' ? { callBackOn: day } : {}),
      ...(outcome === 'declined' ? { note: '近期资金已有安排' } : {}),
      source: 'demo',
      key: `demo:${t.id}:${t.attempts + 1}`,
      occurredAt: now,
    });
    if (result.applied) counts[outcome] = (counts[outcome] ?? 0) + 1;
  });
  return counts;
}

export interface SimulatedVisits {
  recorded: number;
  holdout: number;
  outOfStock: number;
  already: number;
}

/**
 * Branch staff register the visits: by the code on the letter (scanned), the phone number or the
 * customer id, each once; a holdout customer's visit is recorded without a gift.
 */
export async function simulateVisits(
  sql: Sql,
  campaign: StoredCampaign,
  secret: string,
  now: Date,
): Promise<SimulatedVisits> {
  const members = await sql<
    {
      customer_id: number;
      external_id: string;
      phone: string | null;
      holdout: boolean;
      band: string | null;
      booked: boolean;
    }[]
  >`
    select m.customer_id, cu.external_id, cu.phone, m.holdout, m.band,
           exists (select 1 from call_tasks t where t.campaign_id = m.campaign_id and t.customer_id = m.customer_id
                   and t.outcome = 'appointment') as booked
    from campaign_members m join customers cu on cu.id = m.customer_id
    where m.campaign_id = ${campaign.id} and m.suppression_reason is null
    order by m.rank nulls last, m.customer_id`;
  const heldOut = new Set(
    shareOf(
      members.filter((m) => m.holdout),
      SHOW_UP.holdout,
      campaign.slug,
      'visit',
    ),
  );
  const visitors = members.filter((m) =>
    m.holdout
      ? heldOut.has(m)
      : unit(campaign.slug, 'visit', m.customer_id) < (m.booked ? SHOW_UP.booked : SHOW_UP.treated),
  );
  const seen: SimulatedVisits = { recorded: 0, holdout: 0, outOfStock: 0, already: 0 };
  await inTurn(visitors, async (m, i) => {
    const by: VisitLookup =
      i % 3 === 0 || !m.phone
        ? { code: responseCode(secret, campaign.slug, m.customer_id) }
        : i % 3 === 1
          ? { phone: m.phone }
          : { customer: m.external_id };
    // Ranks 1–60 choose one of the two appliances.
    const choice = campaign.offers.get(m.band ?? '')?.text.includes('二选一')
      ? unit(campaign.slug, 'choice', m.customer_id) < 0.5
        ? '电风扇'
        : '电饭煲'
      : undefined;
    const result = await registerVisit(sql, campaign, {
      by,
      ...(choice ? { choice } : {}),
      staff: i % 2 ? '柜员 张敏' : '大堂经理 刘洋',
      secret,
      at: now,
    });
    if (result.status === 'recorded') {
      seen.recorded++;
      if (m.holdout) seen.holdout++;
    } else if (result.status === 'out_of_stock') seen.outOfStock++;
    else if (result.status === 'already') seen.already++;
  });
  return seen;
}

export interface OfflineFiles {
  orders: string;
  responses: string;
  /** Of the orders, how many are the holdout's. */
  holdoutOrders: number;
}

const csvLine = (cells: (string | number)[]) => cells.join(',');

/**
 * The files the bank's systems hand over: wealth-product subscriptions from the core system
 * (`mailroom import orders`) and trial-coupon redemptions from the branch counter, with Chinese
 * headers, matched by phone or customer number (`mailroom import responses`), one of them for a
 * customer the bank does not know. Treated and held-out members both buy: the holdout is the baseline.
 */
export async function writeOfflineFiles(sql: Sql, slug: string, dir: string, now: Date): Promise<OfflineFiles> {
  const members = await sql<{ customer_id: number; external_id: string; phone: string | null; holdout: boolean }[]>`
    select m.customer_id, cu.external_id, cu.phone, m.holdout
    from campaign_members m join campaigns c on c.id = m.campaign_id join customers cu on cu.id = m.customer_id
    where c.slug = ${slug} and m.suppression_reason is null order by m.customer_id`;
  const at = now.toISOString();
  const buyers = [
    ...shareOf(
      members.filter((m) => !m.holdout),
      ORDER_RATE.treated,
      slug,
      'order',
    ),
    ...shareOf(
      members.filter((m) => m.holdout),
      ORDER_RATE.holdout,
      slug,
      'order',
    ),
  ];
  const orders = join(dir, `${slug}-orders.csv`);
  writeFileSync(
    orders,
    [
      csvLine(['order_ref', 'customer_external_id', 'amount', 'currency', 'occurred_at', 'channel']),
      ...buyers.map((m) =>
        csvLine([
          `WM-${slug.slice(-12)}-${m.customer_id}`,
          m.external_id,
          (50_000 + Math.floor(unit(slug, 'amount', m.customer_id) * 20) * 10_000).toFixed(2),
          'CNY',
          at,
          'branch',
        ]),
      ),
    ].join('\n') + '\n',
  );
  const coupons = members.filter((m) => unit(slug, 'coupon', m.customer_id) < COUPON_RATE);
  const responses = join(dir, `${slug}-coupons.csv`);
  writeFileSync(
    responses,
    [
      csvLine(['流水号', '类型', '时间', '手机号', '客户编号', '金额', '网点']),
      ...coupons.map((m, i) =>
        csvLine([
          `HX${String(i + 1).padStart(6, '0')}`,
          '券核销',
          at,
          i % 2 && m.phone ? m.phone : '',
          i % 2 && m.phone ? '' : m.external_id,
          '0',
          '招商路支行',
        ]),
      ),
      csvLine(['HX999999', '券核销', at, '', 'S00-0000000', '0', '招商路支行']),
    ].join('\n') + '\n',
  );
  return { orders, responses, holdoutOrders: buyers.filter((m) => m.holdout).length };
}
