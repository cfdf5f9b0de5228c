import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRule } from '../../pipeline/audience/compile.ts';
import { parseRule } from '../../pipeline/audience/rules.ts';
import { builtinSegments } from '../../pipeline/audience/segments.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// 02:00 UTC on Monday 15 June 2026: 10:00 on the 15th in Shanghai, 22:00 on the 14th in New York.
const AS_OF = new Date('2026-06-15T02:00:00Z');

describe('segment rules on PostgreSQL', () => {
  let db: TestDatabase;
  const registry = builtinSegments();

  async function select(rule: unknown, asOf = AS_OF): Promise<string[]> {
    const where = compileRule({ sql: db.sql, registry, asOf }, parseRule(rule));
    const rows = await db.sql<{ external_id: string }[]>`select external_id from customers c where ${where} order by 1`;
    return rows.map((r) => r.external_id);
  }
  async function segment(name: string, asOf = AS_OF): Promise<string[]> {
    return select({ segment: name }, asOf);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const sql = db.sql;
    await sql`
      insert into customers (external_id, full_name, city, timezone, birthday, created_at, country, attributes) values
        ('A', '王晓明', '北京市', 'Asia/Shanghai', '1980-06-15', '2020-01-01', 'CN', ${sql.json({ annual_spend: 6000000, cumulative_spend: 3500, stored_value_balance: 15, notes: "O'Brien; drop" })}),
        ('B', 'Emma Wright', 'New York', 'America/New_York', '1990-06-14', '2026-06-01', 'US', ${sql.json({ annual_spend: 1200000, cumulative_spend: 1500, stored_value_balance: 500 })}),
        ('C', '李娜', '上海市', 'Asia/Shanghai', '2000-02-29', '2019-03-01', 'CN', ${sql.json({ annual_spend: 600000, cumulative_spend: 2500, stored_value_balance: 100, vip: true })}),
        ('D', '张伟', '南京市', 'Asia/Shanghai', '1975-06-17', '2018-05-05', 'CN', ${sql.json({ annual_spend: 20000, cumulative_spend: 500, stored_value_balance: 10, annual_spend_note: 'n/a' })}),
        ('E', 'No Data', null, 'Asia/Shanghai', null, '2026-06-14', 'CN', '{}')`;
    const id = async (x: string) =>
      (await sql<{ id: number }[]>`select id from customers where external_id = ${x}`)[0]!.id;
    const [a, b, c] = [await id('A'), await id('B'), await id('C')];
    await sql`insert into orders (customer_id, order_ref, amount, occurred_at) values
      (${a}, 'A1', 100.00, '2026-06-10T03:00:00Z'), (${a}, 'A2', 50.00, '2026-01-01T03:00:00Z'),
      (${c}, 'C1', 1000.00, '2026-05-01T03:00:00Z'), (${c}, 'LATER', 99999.00, '2026-07-01T03:00:00Z')`;
    await sql`insert into consents (customer_id, channel, status, source) values (${a}, 'email', 'granted', 't'), (${a}, 'sms', 'denied', 't'), (${b}, 'email', 'denied', 't')`;
    const [camp] = await sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('spring', 'Spring', '{}', 'campaign-spring') returning id`;
    await sql`insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at) values
      (${camp!.id}, 'letter', ${a}, 'mail', 'sent', '2026-06-01T00:00:00Z'), (${camp!.id}, 'letter', ${b}, 'mail', 'failed', null)`;
    await sql`insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at) values
      (${camp!.id}, ${a}, 'click', 't', 'r1', '2026-06-05T00:00:00Z'), (${camp!.id}, ${b}, 'delivered', 't', 'r2', '2026-06-05T00:00:00Z')`;
  });
  afterAll(() => db.drop());

  it('compares customer fields with every operator; a field without a value never matches', async () => {
    expect(await select({ field: 'city', op: '=', value: '北京市' })).toEqual(['A']);
    expect(await select({ field: 'city', op: '!=', value: '北京市' })).toEqual(['B', 'C', 'D']);
    expect(await select({ not: { field: 'city', op: '=', value: '北京市' } })).toEqual(['B', 'C', 'D', 'E']);
    expect(await select({ field: 'city', op: 'in', value: ['北京市', '上海市'] })).toEqual(['A', 'C']);
    expect(await select({ field: 'city', op: 'not in', value: ['北京市', '上海市'] })).toEqual(['B', 'D']);
    expect(await select({ field: 'city', op: 'exists', value: false })).toEqual(['E']);
    expect(await select({ field: 'full_name', op: 'contains', value: '晓' })).toEqual(['A']);
    expect(await select({ field: 'full_name', op: 'starts_with', value: '李' })).toEqual(['C']);
    expect(await select({ field: 'birthday', op: '<', value: '1980-06-15' })).toEqual(['D']);
    expect(await select({ field: 'birthday', op: 'between', value: ['1980-06-15', '1990-06-14'] })).toEqual(['A', 'B']);
    expect(await select({ field: 'created_at', op: '>=', value: '2026-06-01' })).toEqual(['B', 'E']);
  });

  it('compares attributes by type: numbers, text and booleans', async () => {
    expect(await select({ field: 'annual_spend', op: '>', value: 1000000 })).toEqual(['A', 'B']);
    expect(await select({ field: 'annual_spend', op: 'between', value: [600000, 1200000] })).toEqual(['B', 'C']);
    expect(await select({ field: 'attributes.notes', op: 'contains', value: "O'Brien; drop" })).toEqual(['A']);
    expect(await select({ field: 'attributes.vip', type: 'boolean', op: '=', value: true })).toEqual(['C']);
    // A text value where a number is expected is no number: it never matches a numeric rule.
    expect(await select({ field: 'attributes.annual_spend_note', type: 'number', op: '>', value: 0 })).toEqual([]);
  });

  it("finds birthdays today, this week and this month in each customer's own time zone", async () => {
    expect(await select({ birthday: 'today' })).toEqual(['A', 'B']);
    expect(await select({ birthday: 'this_week' })).toEqual(['A', 'B', 'D']);
    expect(await select({ birthday: 'this_month' })).toEqual(['A', 'B', 'D']);
    // 29 February is celebrated on 28 February in a year without one.
    expect(await select({ birthday: 'today' }, new Date('2027-02-28T04:00:00Z'))).toEqual(['C']);
    expect(await select({ birthday: 'today' }, new Date('2028-02-28T04:00:00Z'))).toEqual([]);
  });

  it('uses join dates, last orders and order aggregates, ignoring orders after "today"', async () => {
    expect(await select({ joined: { within_days: 30 } })).toEqual(['B', 'E']);
    expect(await select({ joined: { more_than_days_ago: 365 } })).toEqual(['A', 'C', 'D']);
    expect(await select({ last_order: { within_days: 30 } })).toEqual(['A']);
    expect(await select({ last_order: { more_than_days_ago: 30 } })).toEqual(['B', 'C', 'D', 'E']);
    // Lapsing: ordered within 60 days but not within the last 30.
    expect(await select({ last_order: { within_days: 60, more_than_days_ago: 30 } })).toEqual(['C']);
    expect(await select({ joined: { within_days: 30, more_than_days_ago: 5 } })).toEqual(['B']);
    expect(await select({ orders: { metric: 'count', op: '>=', value: 2 } })).toEqual(['A']);
    expect(await select({ orders: { metric: 'count', op: '=', value: 0 } })).toEqual(['B', 'D', 'E']);
    expect(await select({ orders: { metric: 'sum', within_days: 60, op: '>=', value: 1000 } })).toEqual(['C']);
    expect(await select({ orders: { metric: 'max_amount', op: '>', value: 500 } })).toEqual(['C']);
    expect(await select({ orders: { metric: 'days_since_last', op: '>', value: 40 } })).toEqual(['C']);
  });

  it('checks consent, membership of named segments, and campaign history', async () => {
    expect(await select({ consent: 'email' })).toEqual(['A']);
    expect(await select({ consent: 'email', status: 'denied' })).toEqual(['B']);
    expect(await select({ not: { consent: 'sms' } })).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(await select({ all: [{ segment: 'key-accounts' }, { not: { segment: 'tier-diamond' } }] })).toEqual([
      'B',
      'C',
      'D',
    ]);
    expect(await select({ contacted: { campaign: 'spring' } })).toEqual(['A']);
    expect(await select({ contacted: { within_days: 10 } })).toEqual([]);
    expect(await select({ contacted: { within_days: 20 } })).toEqual(['A']);
    expect(await select({ responded: { campaign: 'spring' } })).toEqual(['A']);
    expect(
      await select({ all: [{ contacted: { campaign: 'spring' } }, { not: { responded: { campaign: 'spring' } } }] }),
    ).toEqual([]);
    expect(
      await select({ any: [{ field: 'city', op: '=', value: '南京市' }, { responded: { campaign: 'spring' } }] }),
    ).toEqual(['A', 'D']);
  });

  it('gives the built-in segments their documented meaning', async () => {
    expect(await segment('tier-diamond')).toEqual(['A']);
    expect(await segment('tier-platinum')).toEqual(['B']);
    expect(await segment('tier-gold')).toEqual(['C']);
    expect(await segment('tier-vip')).toEqual(['D']);
    expect(await segment('member-black')).toEqual(['A']);
    expect(await segment('member-red')).toEqual(['C']);
    expect(await segment('member-yellow')).toEqual(['B']);
    expect(await segment('dormant-members')).toEqual(['B', 'C', 'D', 'E']);
    expect(await segment('dormant-low-balance')).toEqual(['D']);
    expect(await segment('birthdays-today')).toEqual(['A', 'B']);
    expect(await segment('new-customers')).toEqual(['B', 'E']);
  });
});
