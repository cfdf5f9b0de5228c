import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSeed } from '../../dev/seed/run-seed.ts';
import { keyAccountTier, memberLevel } from '../../dev/seed/generate.ts';
import { parseEmail, parsePhone, parsePostalCode } from '../../pipeline/customers/fields.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const asOf = new Date('2026-11-01T12:00:00Z');

async function fingerprint(db: TestDatabase) {
  const [row] = await db.sql<{ customers: string; orders: string }[]>`
    select
      (select md5(string_agg(concat_ws('|', external_id, full_name, gender, email, phone, address_line1, address_line2, city, province, postal_code, country, birthday, timezone, created_at, attributes::text), ',' order by external_id)) from customers) as customers,
      (select md5(string_agg(concat_ws('|', order_ref, amount, occurred_at, channel), ',' order by order_ref)) from orders) as orders`;
  return row;
}

describe('mailroom seed', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    await runSeed(a.sql, { customers: 2000, seed: 7, asOf });
    await runSeed(b.sql, { customers: 2000, seed: 7, asOf, batchSize: 333 });
  });
  afterAll(async () => {
    await a.drop();
    await b.drop();
  });

  it('is reproducible from the seed, whatever the batch size', async () => {
    expect(await fingerprint(a)).toEqual(await fingerprint(b));
    const c = await createTestDatabase();
    await runSeed(c.sql, { customers: 2000, seed: 8, asOf });
    expect((await fingerprint(c))!.customers).not.toEqual((await fingerprint(a))!.customers);
    await c.drop();
  });

  it('updates rather than duplicates when run again with the same seed', async () => {
    const again = await runSeed(a.sql, { customers: 2000, seed: 7, asOf });
    expect(again).toMatchObject({ inserted: 0, updated: 2000 });
    const [{ n }] = (await a.sql`select count(*)::int as n from customers`) as unknown as [{ n: number }];
    expect(n).toBe(2000);
  });

  it('follows the domain rules: tiers by annual spend, member levels by cumulative spend', async () => {
    const rows = await a.sql<
      { tier: string; level: string; annual: number; cumulative: number; spent: string | null }[]
    >`
      select attributes->>'tier' as tier, attributes->>'member_level' as level,
             (attributes->>'annual_spend')::numeric as annual, (attributes->>'cumulative_spend')::numeric as cumulative,
             (select sum(amount) from orders o where o.customer_id = c.id) as spent
      from customers c`;
    for (const r of rows) {
      expect(r.tier).toBe(keyAccountTier(Number(r.annual)));
      expect(r.level).toBe(memberLevel(Number(r.cumulative)));
      expect(Number(r.cumulative)).toBeCloseTo(Number(r.spent ?? 0), 1);
    }
    expect(new Set(rows.map((r) => r.tier))).toEqual(new Set(['Standard', 'VIP', 'Gold', 'Platinum', 'Diamond']));
  });

  it('produces phones, emails and postal codes that the import itself accepts', async () => {
    const rows = await a.sql<
      { phone: string | null; email: string | null; postal_code: string | null; country: string }[]
    >`
      select phone, email, postal_code, country from customers`;
    for (const r of rows) {
      if (r.phone) expect(parsePhone(r.phone, 'CN')).toBe(r.phone);
      if (r.email) expect(parseEmail(r.email)).toBe(r.email);
      if (r.postal_code) expect(parsePostalCode(r.postal_code, r.country)).toBe(r.postal_code);
    }
  });

  it('has Chinese and English customers with valid-looking addresses, denied consents and suppressions', async () => {
    const [s] = await a.sql`
      select count(*) filter (where full_name ~ '^[\u4e00-\u9fff]+$')::int as chinese,
             count(*) filter (where full_name ~ '^[A-Za-z'' ]+$')::int as english,
             count(*) filter (where country = 'CN' and postal_code !~ '^[0-9]{6}$')::int as bad_cn_postcodes,
             count(*) filter (where country = 'CN' and left(postal_code, 2) not in ('10','20','21','31','51','61','43','71'))::int as unknown_provinces,
             count(*) filter (where country = 'HK' and postal_code is not null)::int as hk_with_postcode,
             count(*) filter (where created_at > ${asOf}::timestamptz - interval '30 days')::int as new_customers,
             (select count(*)::int from consents where status = 'denied') as denied,
             (select count(*)::int from suppressions) as suppressed
      from customers`;
    expect(s!.chinese).toBeGreaterThan(1500);
    expect(s!.english).toBeGreaterThan(100);
    expect(s).toMatchObject({ bad_cn_postcodes: 0, unknown_provinces: 0, hk_with_postcode: 0 });
    expect(s!.new_customers).toBeGreaterThan(0);
    expect(s!.denied).toBeGreaterThan(100);
    expect(s!.suppressed).toBeGreaterThan(0);
  });
});
