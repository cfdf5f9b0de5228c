// The report keeps every member's outcome and its tallies between runs and updates only the
// members whose customers changed (db/migrations/0016_report_tallies.sql). After each kind of
// write that can change an outcome, the kept figures must equal the figures computed from scratch,
// and only the changed members may have been computed again. Real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { readReportData, type ReportData } from '../../pipeline/report/read.ts';

let db: TestDatabase;
let campaignId = 0;
const customer: number[] = [];

const SPEC = `name: kept
waves:
  - { name: letter, channel: mail, template: x, cost_per_piece: 2.80 }
  - { name: reminder, channel: email, template: y, cost_per_piece: 0.01 }
audience: { holdout: 20, variants: { A: 50, B: 50 } }
response_kinds: [purl_visit, branch_visit, coupon_redemption, order]
`;

/** What the report counts from the kept outcomes, in a fixed order. */
function counted(d: ReportData) {
  const order = <T>(xs: T[]) => [...xs].map((x) => JSON.stringify(x)).sort();
  return { cells: order(d.cells), waveDays: order(d.waveDays), bandPieces: order(d.bandPieces), overlap: d.overlap };
}

/** The report as kept, then from scratch; both must count the same. Returns how the kept one was brought up to date. */
async function agree(): Promise<ReportData['refresh']> {
  const kept = await readReportData(db.sql, 'kept');
  await db.sql`delete from report_caches where campaign_id = ${campaignId}`;
  const fresh = await readReportData(db.sql, 'kept');
  expect(fresh.refresh.rebuilt).toBe(true);
  expect(counted(kept)).toEqual(counted(fresh));
  // The deliveries as counted when written equal a count of the deliveries.
  const counts = await db.sql`
    select campaign_id, wave, channel, status, recovered, dated, n::int from delivery_counts where n <> 0 order by 1, 2, 3, 4, 5, 6`;
  const recount = await db.sql`
    select campaign_id, wave, channel, status, recovery is not null as recovered, sent_at is not null as dated, count(*)::int as n
    from deliveries group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6`;
  expect(counts).toEqual(recount);
  return kept.refresh;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const { sql } = db;
  for (let i = 0; i < 40; i++) {
    const [row] = await sql<{ id: number }[]>`
      insert into customers (external_id, full_name, province, attributes)
      values (${`K${i}`}, ${`客户${i}`}, ${i % 3 ? '广东省' : '北京市'},
              ${sql.json({ tier: i % 4 ? 'Gold' : 'VIP', segment: i % 2 ? '零售' : '对公' })}) returning id`;
    customer.push(row!.id);
  }
  const [c] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, status, workflow_id)
    values ('kept', 'kept', ${sql.json({ file: '/x/kept.yaml', text: SPEC })}, 'running', 'campaign-kept') returning id`;
  campaignId = c!.id;
  // Members 0–29: 0–5 held out, 6 suppressed, the rest treated in two bands and two variants.
  for (let i = 0; i < 30; i++)
    await sql`
      insert into campaign_members (campaign_id, customer_id, rank, band, variant, holdout, suppression_reason)
      values (${campaignId}, ${customer[i]!}, ${i + 1}, ${i < 15 ? 'gift' : 'plain'}, ${i < 6 ? null : i % 2 ? 'A' : 'B'},
              ${i < 6}, ${i === 6 ? 'opted_out' : null})`;
  for (let i = 7; i < 30; i++)
    await sql`
      insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
      values (${campaignId}, 'letter', ${customer[i]!}, 'mail', ${i === 29 ? 'failed' : 'sent'}, ${i === 29 ? null : '2026-10-01'})`;
  await sql`
    insert into orders (customer_id, order_ref, amount, occurred_at)
    values (${customer[8]!}, 'k1', 100.5, '2026-10-05'), (${customer[2]!}, 'k2', 40, '2026-10-06'),
           (${customer[35]!}, 'k3', 9, '2026-10-07')`;
});

afterAll(async () => {
  await db?.drop();
});

describe('the kept report outcomes', () => {
  it('equal the outcomes computed from scratch after every kind of change, and only changed members are computed again', async () => {
    const { sql } = db;
    const first = await readReportData(sql, 'kept');
    expect(first.refresh).toEqual({ rebuilt: true, members: 30 });

    // Nothing changed: nobody is computed again.
    expect(await agree()).toEqual({ rebuilt: false, members: 0 });

    // New orders and responses, treated and held out; one order of a customer outside the campaign.
    await sql`
      insert into orders (customer_id, order_ref, amount, occurred_at)
      values (${customer[9]!}, 'k4', 80, '2026-10-09'), (${customer[3]!}, 'k5', 60, '2026-10-10'),
             (${customer[36]!}, 'k6', 5, '2026-10-10'), (${customer[10]!}, 'k7', 7, '2027-03-01')`;
    await sql`
      insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at, details)
      values (${campaignId}, ${customer[11]!}, 'purl_visit', 'tracking', 'k-r1', '2026-10-03', '{}'),
             (null, ${customer[12]!}, 'branch_visit', 'import', 'k-r2', '2026-10-04', '{}'),
             (null, ${customer[4]!}, 'coupon_redemption', 'import', 'k-r3', '2026-10-12', ${sql.json({ matched_by: 'phone' })})`;
    expect(await agree()).toEqual({ rebuilt: false, members: 6 });

    // An order corrected and moved to another customer; another removed.
    await sql`update orders set amount = 81, customer_id = ${customer[13]!} where order_ref = 'k4'`;
    await sql`delete from orders where order_ref = 'k2'`;
    expect(await agree()).toEqual({ rebuilt: false, members: 3 });

    // A customer's province and segment change; a member changes band; response codes are written.
    await sql`update customers set province = '上海市', attributes = attributes || '{"segment":"私行"}' where id = ${customer[8]!}`;
    await sql`update customers set full_name = '改名' where id = ${customer[14]!}`;
    await sql`update campaign_members set band = 'plain' where campaign_id = ${campaignId} and customer_id = ${customer[9]!}`;
    await sql`update campaign_members set response_code = 'code-' || customer_id where campaign_id = ${campaignId}`;
    expect(await agree()).toEqual({ rebuilt: false, members: 2 });

    // A failed letter sent after all (same window), a pending email given up, and a new member (a
    // cohort added by the fallback).
    await sql`update deliveries set status = 'sent', sent_at = '2026-10-02' where campaign_id = ${campaignId} and customer_id = ${customer[29]!}`;
    await sql`
      insert into deliveries (campaign_id, wave, customer_id, channel, status)
      values (${campaignId}, 'reminder', ${customer[28]!}, 'email', 'pending')`;
    await sql`delete from deliveries where campaign_id = ${campaignId} and customer_id = ${customer[28]!} and status = 'pending'`;
    await sql`
      insert into campaign_members (campaign_id, customer_id, rank, band, variant, holdout, cohort)
      values (${campaignId}, ${customer[31]!}, 32, 'plain', 'A', false, 2)`;
    await sql`insert into orders (customer_id, order_ref, amount, occurred_at) values (${customer[31]!}, 'k8', 12, '2026-10-20')`;
    expect(await agree()).toEqual({ rebuilt: false, members: 3 });

    // A new wave opens a new window: the rows are computed whole.
    for (let i = 7; i < 20; i++)
      await sql`
        insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
        values (${campaignId}, 'reminder', ${customer[i]!}, 'email', 'sent', '2026-10-08T02:00:00Z')`;
    expect((await agree()).rebuilt).toBe(true);
    await sql`insert into orders (customer_id, order_ref, amount, occurred_at) values (${customer[15]!}, 'k9', 30, '2026-10-09')`;
    expect(await agree()).toEqual({ rebuilt: false, members: 1 });
  });

  it('takes in, at the next report, a write that was not yet committed when a report read the data', async () => {
    const { sql } = db;
    await readReportData(sql, 'kept');
    const writer = await sql.reserve();
    try {
      await writer`begin`;
      await writer`insert into orders (customer_id, order_ref, amount, occurred_at) values (${customer[16]!}, 'k10', 44, '2026-10-11')`;
      const during = await readReportData(sql, 'kept');
      expect(during.refresh).toEqual({ rebuilt: false, members: 0 });
      await writer`commit`;
    } finally {
      writer.release();
    }
    expect(await agree()).toEqual({ rebuilt: false, members: 1 });
    // And the report counts what the views count.
    const after = await readReportData(sql, 'kept');
    const treated = after.cells.find((c) => c.group === 'treatment' && c.dimension === 'all')!;
    const [view] = await sql<{ orders: number; responders: number }[]>`
      select sum(attributed_orders)::int as orders, count(*) filter (where responded)::int as responders
      from member_outcomes where campaign = 'kept' and "group" = 'treatment'`;
    expect({ orders: treated.orders, responders: treated.responders }).toEqual(view);
    expect(treated.orders).toBeGreaterThan(0);
    // Changes every kept campaign has taken in are removed.
    const [{ left } = { left: -1 }] = await sql<{ left: number }[]>`select count(*)::int as left from report_changes`;
    expect(left).toBe(0);

    // A campaign deleted with its deliveries takes its counters and kept rows with it.
    const [other] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, status, workflow_id)
      values ('gone', 'gone', ${sql.json({ file: '/x/gone.yaml', text: SPEC.replace('kept', 'gone') })}, 'running', 'campaign-gone')
      returning id`;
    await sql`insert into campaign_members (campaign_id, customer_id, rank) values (${other!.id}, ${customer[1]!}, 1)`;
    await sql`
      insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
      values (${other!.id}, 'letter', ${customer[1]!}, 'mail', 'sent', '2026-10-01')`;
    await readReportData(sql, 'gone');
    await sql`delete from campaigns where id = ${other!.id}`;
    const [{ counters, rows } = { counters: -1, rows: -1 }] = await sql<{ counters: number; rows: number }[]>`
      select (select count(*)::int from delivery_counts where campaign_id = ${other!.id}) as counters,
             (select count(*)::int from report_member_rows where campaign_id = ${other!.id}) as rows`;
    expect({ counters, rows }).toEqual({ counters: 0, rows: 0 });
  });
});
