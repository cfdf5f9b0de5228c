// Attribution and the report against a real PostgreSQL: orders inside and outside the window for
// treated and holdout members, two overlapping campaigns, imported responses matched by customer
// (counted by window, holdout alike) and by code (traceable, own campaign only), traceable
// responses kept out of the lift, gifts handed out in the cost, late data changing the report but
// not the stored summary, and the SQL views agreeing with the report.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResponseImport } from '../../pipeline/responses/import/run.ts';
import { tempDir, writeCsv } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { readReportData } from '../../pipeline/report/read.ts';
import { buildReport, type CampaignReport } from '../../pipeline/report/build.ts';
import { recordCallOutcome } from '../../pipeline/calls/call-tasks.ts';

let db: TestDatabase;
const ids: Record<string, number> = {};
const campaigns: Record<string, number> = {};

const A = `name: camp-a
waves:
  - { name: letter, channel: mail, template: x, cost_per_piece: 2.80 }
audience: { holdout: 25 }
response_kinds: [purl_visit, qr_scan, click, branch_visit, coupon_redemption, order]
budget: 5000
offers:
  gift: { text: 电风扇, stock: 10, unit_cost: 268.96 }
  plain: 资产配置方案
`;
const B = `name: camp-b
waves:
  - { name: mail-1, channel: email, template: y, cost_per_piece: 0.01 }
attribution: { window: 10d, model: any_touch }
`;

async function report(slug: string): Promise<CampaignReport> {
  return buildReport(await readReportData(db.sql, slug));
}

beforeAll(async () => {
  db = await createTestDatabase();
  const { sql } = db;
  for (let i = 1; i <= 11; i++) {
    const [row] = await sql<{ id: number }[]>`
      insert into customers (external_id, full_name, province, attributes)
      values (${`C${i}`}, ${`客户${i}`}, ${i % 2 ? '广东省' : '北京市'},
              ${sql.json({ tier: i <= 3 ? 'Gold' : 'VIP', segment: i <= 5 ? '零售' : '对公' })}) returning id`;
    ids[`c${i}`] = row!.id;
  }
  for (const [slug, text] of [
    ['camp-a', A],
    ['camp-b', B],
  ] as const) {
    const [row] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, status, workflow_id)
      values (${slug}, ${slug}, ${sql.json({ file: `/x/${slug}.yaml`, text })}, 'completed', ${`campaign-${slug}`}) returning id`;
    campaigns[slug] = row!.id;
  }
  const member = (c: string, k: string, opts: { holdout?: boolean; band?: string; suppressed?: boolean } = {}) =>
    sql`insert into campaign_members (campaign_id, customer_id, band, holdout, suppression_reason)
        values (${campaigns[c]!}, ${ids[k]!}, ${opts.band ?? null}, ${opts.holdout ?? false}, ${opts.suppressed ? 'suppressed' : null})`;
  for (const k of ['c1', 'c2', 'c3']) await member('camp-a', k, { band: 'gift' });
  for (const k of ['c4', 'c5', 'c6']) await member('camp-a', k, { band: 'plain' });
  await member('camp-a', 'c7', { holdout: true, band: 'gift' });
  await member('camp-a', 'c8', { holdout: true, band: 'plain' });
  await member('camp-a', 'c11', { holdout: true, band: 'plain' });
  await member('camp-a', 'c9', { suppressed: true });
  for (const k of ['c1', 'c2', 'c10']) await member('camp-b', k);
  const send = (c: string, wave: string, channel: string, k: string, at: string) =>
    sql`insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
        values (${campaigns[c]!}, ${wave}, ${ids[k]!}, ${channel}, 'sent', ${at}::timestamptz)`;
  // camp-a's letter was posted on 1 October: its window runs 90 days, to 30 December.
  for (const k of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) await send('camp-a', 'letter', 'mail', k, '2026-10-01');
  // camp-b's email went out on 15 November, with a 10-day window.
  for (const k of ['c1', 'c2', 'c10']) await send('camp-b', 'mail-1', 'email', k, '2026-11-15T09:00:00Z');
  const order = (ref: string, k: string, at: string, amount: string) =>
    sql`insert into orders (customer_id, order_ref, amount, occurred_at) values (${ids[k]!}, ${ref}, ${amount}, ${at}::timestamptz)`;
  await order('o1', 'c1', '2026-10-10T10:00:00Z', '100.10'); // inside camp-a, before camp-b
  await order('o2', 'c2', '2026-11-20T10:00:00Z', '200.20'); // inside both: counts for both
  await order('o3', 'c3', '2026-09-01T10:00:00Z', '999.00'); // before camp-a's letter
  await order('o4', 'c4', '2027-01-15T10:00:00Z', '50.00'); // after camp-a's window
  await order('o7', 'c7', '2026-10-20T10:00:00Z', '70.00'); // holdout, inside the window
  await order('o8', 'c8', '2027-02-01T10:00:00Z', '80.00'); // holdout, after the window
  await order('o10', 'c10', '2026-11-27T10:00:00Z', '10.00'); // after camp-b's 10 days
  await sql`insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at)
            values (${campaigns['camp-a']!}, ${ids.c5!}, 'purl_visit', 'tracking', 'r1', '2026-10-05T08:00:00Z'),
                   (null, ${ids.c6!}, 'branch_visit', 'import', 'r2', '2026-10-08T08:00:00Z')`;
  // Imported: a coupon of holdout member c11 matched by phone (counts by window, as an order would);
  // a coupon of c1 matched by camp-a's response code inside camp-b's window (traceable: camp-a only).
  await sql`insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at, details)
            values (null, ${ids.c11!}, 'coupon_redemption', 'import', 'i1', '2026-10-15T08:00:00Z', ${sql.json({ matched_by: 'phone' })}),
                   (${campaigns['camp-a']!}, ${ids.c1!}, 'coupon_redemption', 'import', 'i2', '2026-11-20T08:00:00Z', ${sql.json({ matched_by: 'code' })})`;
  // c1 visited the branch and took the gift of band "gift".
  await sql`insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at, details)
            values (${campaigns['camp-a']!}, ${ids.c1!}, 'branch_visit', 'visit', 'v1', '2026-10-12T08:00:00Z',
                    ${sql.json({ gift: { offer: 'gift', choice: null }, band: 'gift', holdout: false })})`;
  await sql`insert into imports (kind, source, read, matched, unmatched, duplicates, rejected)
            values ('responses', 'till.csv', 10, 6, 2, 1, 1)`;
  await sql`update campaigns set summary = ${sql.json({ responders: 2, holdout_responders: 1 })} where slug = 'camp-a'`;
});

afterAll(async () => {
  await db?.drop();
});

describe('attribution', () => {
  it('counts orders and comparable responses inside the window, for treated and holdout members alike', async () => {
    const r = await report('camp-a');
    expect(r.treatment).toMatchObject({ n: 6, responders: 3, traceable_responders: 2, attributed_orders: 2 });
    expect(r.holdout).toMatchObject({ n: 3, responders: 2, attributed_orders: 1 });
    expect(r.suppressed).toBe(1);
    expect(r.treatment.revenue).toBe(300.3);
    expect(r.holdout.revenue).toBe(70);
    expect(r.checks.responses_after_window).toBe(2); // c4's and c8's orders
    expect(r.attribution.windows).toEqual([
      expect.objectContaining({
        wave: 'letter',
        starts_at: '2026-10-01T00:00:00.000Z',
        ends_at: '2026-12-30T00:00:00.000Z',
      }),
    ]);
    // The data are as of now (the test's clock is the database's): camp-a's window may still be open.
    expect(r.provisional).toBe(new Date(r.as_of) < new Date('2026-12-30T00:00:00Z'));
    if (r.provisional) expect(r.provisional_reason).toBe('the attribution window is open until 2026-12-30');
    expect(r.breakdowns.wave[0]).toMatchObject({ value: 'letter', treatment: { n: 6, responders: 3 } });
    // A purl visit only the letter can cause is reported apart, never in the lift.
    expect(r.attribution.traceable_kinds).toEqual(['purl_visit', 'qr_scan', 'click']);
    expect(r.lift.test).toBe('fisher');
    expect(r.breakdowns.channel).toEqual([
      expect.objectContaining({ value: 'mail', treatment: expect.objectContaining({ n: 6, responders: 3 }) }),
    ]);
    expect(r.breakdowns.segment.map((s) => [s.value, s.treatment.n, s.holdout?.n])).toEqual([
      ['对公', 1, 3],
      ['零售', 5, 0],
    ]);
    // The letter's own curve: the six it reached against the three held out, from 1 October.
    const letter = r.curve_by_wave.find((w) => w.wave === 'letter')!;
    expect(letter.points).toHaveLength(90);
    expect(letter.points.at(-1)).toMatchObject({ treatment_responders: 3, holdout_responders: 2 });
    expect(letter.points[9]).toMatchObject({ day: 9, treatment_responders: 2, holdout_responders: 0 });
    // The responses import's match rate: 6 matched of the 8 rows that could be (duplicates and bad rows aside).
    expect(r.checks.match_rate).toEqual([
      { kind: 'responses', imports: 1, read: 10, matched: 6, unmatched: 2, duplicates: 1, rejected: 1, rate: 0.75 },
    ]);
  });

  it('adds the gifts handed out to the cost, in total and per band', async () => {
    const r = await report('camp-a');
    expect(r.cost.pieces).toBe(16.8);
    expect(r.cost.gifts).toBe(268.96);
    expect(r.cost.total).toBe(285.76);
    expect(r.cost.gifts_by_offer).toEqual([{ band: 'gift', offer: 'gift', gifts: 1, unit_cost: 268.96, cost: 268.96 }]);
    expect(r.cost.by_band).toEqual([
      { band: 'gift', pieces: 3, gifts: 1, gift_cost: 268.96, cost: 277.36, per_response: 138.68 },
      { band: 'plain', pieces: 3, gifts: 0, gift_cost: 0, cost: 8.4, per_response: 8.4 },
    ]);
    expect(r.cost.per_response).toBe(95.25);
  });

  it('uses the attribution window of the campaign file and counts a response in two windows for both', async () => {
    const b = await report('camp-b');
    expect(b.attribution.windows[0]!.ends_at).toBe('2026-11-25T09:00:00.000Z');
    expect(b.treatment).toMatchObject({ n: 3, responders: 1 }); // c2 only: c1 ordered before, c10 after
    expect(b.checks.responses_after_window).toBe(1);
    expect(b.provisional).toBe(false);
    const a = await report('camp-a');
    expect(a.overlap).toEqual([{ campaign: 'camp-b', shared_responders: 1 }]);
    expect(b.overlap).toEqual([{ campaign: 'camp-a', shared_responders: 1 }]);
  });

  it('counts late data in the report and leaves the stored summary as it was', async () => {
    const before = await report('camp-a');
    await db.sql`insert into orders (customer_id, order_ref, amount, occurred_at) values (${ids.c3!}, 'late-1', 12.5, '2026-12-01T10:00:00Z')`;
    await db.sql`insert into responses (customer_id, kind, source, dedupe_key, occurred_at)
                 values (${ids.c8!}, 'branch_visit', 'import', 'late-2', '2026-10-03T10:00:00Z')`;
    const after = await report('camp-a');
    expect(after.treatment.responders).toBe(before.treatment.responders + 1);
    expect(after.holdout.responders).toBe(before.holdout.responders + 1);
    const [row] = await db.sql<
      { summary: { responders: number } }[]
    >`select summary from campaigns where slug = 'camp-a'`;
    expect(row!.summary).toEqual({ responders: 2, holdout_responders: 1 });
  });
});

describe('SQL views', () => {
  it('campaign_results, campaign_breakdowns and campaign_response_curve show the report’s numbers', async () => {
    const r = await report('camp-a');
    const results = await db.sql<
      { group: string; n: number; responders: number; ci95_low: number; ci95_high: number }[]
    >`select "group", n, responders, ci95_low, ci95_high from campaign_results where campaign = 'camp-a' order by "group"`;
    const byGroup = Object.fromEntries(results.map((x) => [x.group, x]));
    for (const g of ['treatment', 'holdout'] as const) {
      expect(byGroup[g]).toMatchObject({ n: r[g].n, responders: r[g].responders });
      expect(byGroup[g]!.ci95_low).toBeCloseTo(r[g].ci95![0], 12);
      expect(byGroup[g]!.ci95_high).toBeCloseTo(r[g].ci95![1], 12);
    }
    const breakdowns = await db.sql<
      { dimension: string; value: string; group: string; n: number; responders: number }[]
    >`
      select dimension, value, "group", n, responders from campaign_breakdowns where campaign = 'camp-a'`;
    for (const dim of ['band', 'segment', 'cohort', 'tier', 'province', 'wave', 'channel'] as const)
      for (const row of r.breakdowns[dim]) {
        const at = (group: string) =>
          breakdowns.find((b) => b.dimension === dim && b.value === row.value && b.group === group);
        expect(at('treatment'), `${dim} ${row.value}`).toMatchObject({
          n: row.treatment.n,
          responders: row.treatment.responders,
        });
        if (dim !== 'wave' && dim !== 'channel' && row.holdout!.n > 0)
          expect(at('holdout'), `${dim} ${row.value}`).toMatchObject({
            n: row.holdout!.n,
            responders: row.holdout!.responders,
          });
      }
    const waveCurve = await db.sql<{ wave: string; group: string; day: number; n: number; responders: number }[]>`
      select wave, "group", day, n, responders from campaign_wave_response_curve where campaign = 'camp-a' order by wave, day`;
    for (const w of r.curve_by_wave)
      for (const g of ['treatment', 'holdout'] as const)
        expect(
          waveCurve.filter((c) => c.wave === w.wave && c.group === g).map((c) => c.responders),
          `${w.wave} ${g}`,
        ).toEqual(w.points.map((p) => p[`${g}_responders`]));
    const gifts = await db.sql<{ band: string; offer: string; gifts: number; cost: string }[]>`
      select band, offer, gifts, cost from campaign_gift_costs where campaign = 'camp-a'`;
    expect(gifts.map((g) => ({ ...g, cost: Number(g.cost) }))).toEqual(
      r.cost.gifts_by_offer.map((g) => ({ band: g.band, offer: g.offer, gifts: g.gifts, cost: g.cost })),
    );
    const curve = await db.sql<{ group: string; day: number; responders: number }[]>`
      select "group", day, responders from campaign_response_curve where campaign = 'camp-a' order by day`;
    expect(curve.filter((c) => c.group === 'treatment').map((c) => c.responders)).toEqual(
      r.curve.map((p) => p.treatment_responders),
    );
    expect(curve.filter((c) => c.group === 'holdout').map((c) => c.responders)).toEqual(
      r.curve.map((p) => p.holdout_responders),
    );
    const members = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from member_outcomes where campaign = 'camp-a' and responded and "group" = 'treatment'`;
    expect(members[0]!.n).toBe(r.treatment.responders);
    const kinds = await db.sql<
      { customer_id: number; first_response_kind: string | null; credited_wave: string | null }[]
    >`
      select customer_id, first_response_kind, credited_wave from member_outcomes where campaign = 'camp-a' and customer_id in ${db.sql([ids.c1!, ids.c6!, ids.c11!, ids.c5!])}`;
    expect(Object.fromEntries(kinds.map((k) => [k.customer_id, [k.first_response_kind, k.credited_wave]]))).toEqual({
      [ids.c1!]: ['order', 'letter'],
      [ids.c6!]: ['branch_visit', 'letter'],
      [ids.c11!]: ['coupon_redemption', null], // held out: no wave to credit
      [ids.c5!]: [null, null], // a PURL visit only: traceable, not a response in the lift
    });
  });
});

describe('offline responses from mailroom import responses', () => {
  it('count by window for a treated and a holdout member matched by customer id, and the import’s match rate changes', async () => {
    const before = await report('camp-a');
    const [c12] = await db.sql<{ id: number }[]>`
      insert into customers (external_id, full_name, phone) values ('C12', '客户12', '+8613900000012') returning id`;
    await db.sql`insert into campaign_members (campaign_id, customer_id, band, holdout) values (${campaigns['camp-a']!}, ${c12!.id}, 'plain', true)`;
    const file = writeCsv(tempDir(), 'till.csv', [
      ['source_id', 'kind', 'occurred_at', 'external_id', 'phone'],
      ['T1', 'coupon_redemption', '2026-10-20 10:00', 'C4', ''], // treated, inside the window
      ['T2', '到店', '2026-10-22 15:30', '', '139 0000 0012'], // held out, found by phone
      ['T3', 'coupon_redemption', '2026-10-23 09:00', 'C404', ''], // nobody
    ]);
    const summary = await runResponseImport(db.sql, {
      file,
      source: 'till',
      timezone: 'Asia/Shanghai',
      log: pino({ level: 'silent' }),
    });
    expect(summary).toMatchObject({ read: 3, matched: 2, unmatched: 1 });
    const after = await report('camp-a');
    expect(after.treatment).toMatchObject({ n: before.treatment.n, responders: before.treatment.responders + 1 });
    expect(after.holdout).toMatchObject({ n: before.holdout.n + 1, responders: before.holdout.responders + 1 });
    const rate = after.checks.match_rate.find((m) => m.kind === 'responses')!;
    expect(rate).toMatchObject({ imports: 2, read: 13, matched: 8, unmatched: 3 });
    expect(rate.rate).toBeCloseTo(8 / 11, 12);
  });
});

const C = `name: camp-c
waves:
  - { name: letter, channel: mail, template: x, cost_per_piece: 1 }
  - { name: calls, channel: call, template: z }
audience: { holdout: 30 }
response_kinds: [branch_visit, order]
`;

describe('call waves', () => {
  it('a call that reached the customer opens the wave’s window from its start and takes last-touch credit', async () => {
    const { sql } = db;
    const k: Record<string, number> = {};
    for (const name of ['t1', 't2', 't3', 't4', 'h1', 'h2']) {
      const [row] = await sql<{ id: number }[]>`
        insert into customers (external_id, full_name) values (${`K-${name}`}, ${name}) returning id`;
      k[name] = row!.id;
    }
    const [camp] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, status, workflow_id)
      values ('camp-c', 'camp-c', ${sql.json({ file: '/x/camp-c.yaml', text: C })}, 'running', 'campaign-camp-c') returning id`;
    const cid = camp!.id;
    // t4 and h2 joined with the fallback's second cohort.
    for (const name of ['t1', 't2', 't3', 't4', 'h1', 'h2'])
      await sql`insert into campaign_members (campaign_id, customer_id, holdout, cohort)
                values (${cid}, ${k[name]!}, ${name.startsWith('h')}, ${name === 't4' || name === 'h2' ? 2 : 1})`;
    for (const name of ['t1', 't2', 't3', 't4']) {
      await sql`insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
                values (${cid}, 'letter', ${k[name]!}, 'mail', 'sent', '2026-06-01T00:00:00Z')`;
      await sql`insert into call_tasks (campaign_id, wave, customer_id, manager, attempts_allowed, created_at)
                values (${cid}, 'calls', ${k[name]!}, '王经理', 2, '2026-06-02T00:00:00Z')`;
    }
    const order = (ref: string, name: string, at: string) =>
      sql`insert into orders (customer_id, order_ref, amount, occurred_at) values (${k[name]!}, ${ref}, 10, ${at}::timestamptz)`;
    await order('c-o2', 't2', '2026-06-04T10:00:00Z');
    await order('c-o3', 't3', '2026-06-02T12:00:00Z'); // before t3's call: the letter's
    await order('c-h1', 'h1', '2026-06-10T10:00:00Z');
    await sql`insert into responses (customer_id, kind, source, dedupe_key, occurred_at)
              values (${k.t1!}, 'branch_visit', 'import', 'c-v1', '2026-06-05T09:00:00Z')`;

    // Tasks but nobody reached yet: no window for the wave, and the report says why it is provisional.
    const waiting = await report('camp-c');
    expect(waiting.breakdowns.wave.map((w) => w.value)).toEqual(['letter']);
    expect(waiting.provisional_reason).toBe('call waves with nobody reached yet: calls');
    expect(waiting.breakdowns.wave[0]!.treatment).toMatchObject({ n: 4, responders: 3 });

    const call = (name: string, outcome: 'appointment' | 'declined' | 'wrong_number', at: string) =>
      recordCallOutcome(sql, {
        campaignId: cid,
        customerId: k[name]!,
        wave: 'calls',
        outcome,
        appointmentAt: outcome === 'appointment' ? new Date('2026-06-05T09:00:00Z') : null,
        source: 'test',
        key: `camp-c:${name}`,
        occurredAt: new Date(at),
      });
    await call('t1', 'appointment', '2026-06-03T10:00:00Z');
    await call('t2', 'wrong_number', '2026-06-03T11:00:00Z'); // not reached
    await call('t3', 'declined', '2026-06-04T10:00:00Z'); // reached, after t3's order
    const r = await report('camp-c');
    expect(r.provisional_reason).toBeNull();
    const win = r.attribution.windows.find((w) => w.wave === 'calls')!;
    expect(win).toMatchObject({
      channel: 'call',
      starts_at: '2026-06-02T00:00:00.000Z',
      ends_at: '2026-07-02T00:00:00.000Z',
    });
    const byWave = Object.fromEntries(r.breakdowns.wave.map((w) => [w.value, [w.treatment.n, w.treatment.responders]]));
    expect(byWave).toEqual({ letter: [4, 2], calls: [2, 1] });
    const byChannel = Object.fromEntries(
      r.breakdowns.channel.map((w) => [w.value, [w.treatment.n, w.treatment.responders]]),
    );
    expect(byChannel).toEqual({ mail: [4, 2], call: [2, 1] });
    expect(r.treatment).toMatchObject({ n: 4, responders: 3 });
    expect(r.holdout).toMatchObject({ n: 2, responders: 1 });
    // By cohort; the overall groups above stay intent-to-treat over both.
    expect(
      r.breakdowns.cohort.map((c) => [
        c.value,
        c.treatment.n,
        c.treatment.responders,
        c.holdout!.n,
        c.holdout!.responders,
      ]),
    ).toEqual([
      ['1', 3, 3, 1, 1],
      ['2', 1, 0, 1, 0],
    ]);
    // The call wave's curve: the reached members (t3 responded after the wave's start) against the holdout from the same date.
    const curve = r.curve_by_wave.find((w) => w.wave === 'calls')!;
    expect(curve.points).toHaveLength(30);
    expect(curve.points.at(-1)).toMatchObject({ treatment_responders: 2, holdout_responders: 1 });
    expect(curve.points[2]).toMatchObject({ treatment_responders: 1, holdout_responders: 0 });

    // The views count the call wave as the report does.
    const views = await sql<{ dimension: string; value: string; n: number; responders: number }[]>`
      select dimension, value, n, responders from campaign_breakdowns
      where campaign = 'camp-c' and dimension in ('wave', 'channel', 'cohort') and "group" = 'treatment'
      order by dimension, value`;
    expect(views.map((v) => [v.dimension, v.value, v.n, v.responders])).toEqual([
      ['channel', 'call', 2, 1],
      ['channel', 'mail', 4, 2],
      ['cohort', '1', 3, 3],
      ['cohort', '2', 1, 0],
      ['wave', 'calls', 2, 1],
      ['wave', 'letter', 4, 2],
    ]);
    const credited = await sql<{ customer_id: number; credited_wave: string | null; reached_waves: string[] | null }[]>`
      select customer_id, credited_wave, reached_waves from member_outcomes where campaign = 'camp-c' and responded and "group" = 'treatment'`;
    expect(
      Object.fromEntries(credited.map((c) => [c.customer_id, [c.credited_wave, [...c.reached_waves!].sort()]])),
    ).toEqual({
      [k.t1!]: ['calls', ['calls', 'letter']],
      [k.t2!]: ['letter', ['letter']],
      [k.t3!]: ['letter', ['calls', 'letter']],
    });
  });
});
