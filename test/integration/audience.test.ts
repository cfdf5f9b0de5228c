import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceQuery, type AudienceContext } from '../../pipeline/audience/audience-query.ts';
import type { Audience } from '../../pipeline/audience/audience.ts';
import { audienceCounts } from '../../pipeline/audience/counts.ts';
import { parseRule } from '../../pipeline/audience/rules.ts';
import { builtinSegments, type Segment } from '../../pipeline/audience/segments.ts';
import { snapshotAudience } from '../../pipeline/audience/snapshot.ts';
import { runSeed } from '../../dev/seed/run-seed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const AS_OF = new Date('2026-06-15T02:00:00Z');

function segmentOf(rules: unknown, extra: Partial<Segment> = {}): Segment {
  return { name: 't', rules: parseRule(rules), origin: 'test', ...extra };
}

function audienceOf(rules: unknown, extra: Partial<Audience> = {}, segment: Partial<Segment> = {}): Audience {
  return {
    segment: segmentOf(rules, segment),
    channel: 'mail',
    holdoutPercent: 0,
    variants: [],
    onePerHousehold: false,
    ...extra,
  };
}

/** The same hash as mailroom_hash_unit in SQL. */
function hashUnit(text: string): number {
  return parseInt(createHash('md5').update(text).digest('hex').slice(0, 12), 16) / 2 ** 48;
}

describe('audiences', () => {
  let db: TestDatabase;
  let ctx: AudienceContext;
  type Row = {
    external_id: string;
    rank: number | null;
    band: string | null;
    variant: string | null;
    holdout: boolean;
    suppression_reason: string | null;
    customer_id: number;
  };
  const rows = async (audience: Audience, key = 'test', context = ctx) =>
    db.sql<
      Row[]
    >`select c.external_id, a.* from (${audienceQuery(context, audience, key)}) a join customers c on c.id = a.customer_id order by c.external_id`;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = { sql: db.sql, registry: builtinSegments(), asOf: AS_OF, frequencyCap: { maxContacts: 3, days: 30 } };
    await runSeed(db.sql, { customers: 6000, seed: 11, asOf: AS_OF });
    const sql = db.sql;
    const addr = { address_line1: '建国路1号', city: '北京市', postal_code: '100022', country: 'CN' };
    const people = [
      ['X-ok', addr],
      ['X-supp-cust', addr],
      ['X-supp-all', addr],
      ['X-supp-addr', { ...addr, address_line1: '朝阳路8号' }],
      ['X-denied', addr],
      ['X-noaddr', { ...addr, address_line1: null }],
      ['X-hk', { ...addr, country: 'HK', postal_code: null, city: '香港' }],
      ['X-freq', addr],
      ['X-house1', { ...addr, address_line1: '建国路 1 号', address_line2: '3-101' }],
      ['X-house2', { ...addr, address_line1: '建国路1号', address_line2: '3 101' }],
    ] as const;
    for (const [id, a] of people) {
      await sql`insert into customers (external_id, full_name, address_line1, address_line2, city, postal_code, country, email)
                values (${id}, ${id}, ${a.address_line1}, ${'address_line2' in a ? a.address_line2 : null}, ${a.city}, ${a.postal_code}, ${a.country}, ${id === 'X-ok' ? 'ok@example.com' : null})`;
    }
    const idOf = async (x: string) =>
      (await sql<{ id: number }[]>`select id from customers where external_id = ${x}`)[0]!.id;
    await sql`insert into suppressions (channel, customer_id, reason, source) values ('mail', ${await idOf('X-supp-cust')}, 'moved', 't'), ('all', ${await idOf('X-supp-all')}, 'do_not_contact', 't')`;
    await sql`insert into suppressions (channel, address, reason, source) values ('mail', mailroom_postal_key('CN', '100022', '朝阳路8号', null), 'deceased', 't')`;
    await sql`insert into consents (customer_id, channel, status, source) values (${await idOf('X-denied')}, 'mail', 'denied', 't'), (${await idOf('X-ok')}, 'email', 'granted', 't')`;
    const [camp] = await sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('earlier', 'Earlier', '{}', 'campaign-earlier') returning id`;
    for (const wave of ['w1', 'w2', 'w3']) {
      await sql`insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at) values (${camp!.id}, ${wave}, ${await idOf('X-freq')}, 'mail', 'sent', '2026-06-01T00:00:00Z')`;
    }
    for (let i = 1; i <= 10; i++) {
      await sql`insert into customers (external_id, full_name, address_line1, city, postal_code, attributes)
                values (${`T-${String(i).padStart(2, '0')}`}, 'T', ${`路${i}号`}, '上海市', '200001', ${sql.json({ financial_assets: i * 100 })})`;
    }
    await sql`insert into suppressions (channel, customer_id, reason, source)
              select 'mail', id, 'moved', 't' from customers where external_id in ('T-10', 'T-05')`;
  });
  afterAll(() => db.drop());

  it('keeps every excluded member with one reason: suppression list, consent, address, frequency cap, household', async () => {
    const result = await rows(
      audienceOf({ field: 'external_id', op: 'starts_with', value: 'X-' }, { onePerHousehold: true }),
    );
    expect(Object.fromEntries(result.map((r) => [r.external_id, r.suppression_reason]))).toEqual({
      'X-ok': null,
      'X-supp-cust': 'suppressed',
      'X-supp-all': 'suppressed',
      'X-supp-addr': 'suppressed',
      'X-denied': 'no_consent',
      'X-noaddr': 'no_address',
      'X-hk': null,
      'X-freq': 'frequency_cap',
      'X-house1': null,
      // Same flat as X-house1 written differently: one letter per household.
      'X-house2': 'household_duplicate',
    });
    const email = await rows(
      audienceOf({ field: 'external_id', op: 'in', value: ['X-ok', 'X-denied', 'X-supp-all'] }, { channel: 'email' }),
    );
    expect(email.map((r) => [r.external_id, r.suppression_reason])).toEqual([
      ['X-denied', 'no_consent'],
      ['X-ok', null],
      ['X-supp-all', 'suppressed'],
    ]);
  });

  it('ranks the top N by a field into bands, keeping suppressed customers who would have made the cut', async () => {
    const audience = audienceOf(
      { field: 'external_id', op: 'starts_with', value: 'T-' },
      {},
      {
        top: {
          n: 3,
          by: 'financial_assets',
          order: 'desc',
          bands: [
            { name: 'A', from: 1, to: 1 },
            { name: 'B', from: 2, to: 3 },
          ],
        },
      },
    );
    const result = await rows(audience);
    expect(result.map((r) => [r.external_id, r.rank, r.band, r.suppression_reason])).toEqual([
      ['T-07', 3, 'B', null],
      ['T-08', 2, 'B', null],
      ['T-09', 1, 'A', null],
      ['T-10', null, null, 'suppressed'],
    ]);
  });

  it('samples a number or a share of the audience, the same way on every run', async () => {
    const all = audienceOf({ field: 'country', op: '=', value: 'CN' });
    const byN = await rows({ ...all, segment: { ...all.segment, sample: { n: 100 } } });
    expect(byN.filter((r) => !r.suppression_reason)).toHaveLength(100);
    expect(await rows({ ...all, segment: { ...all.segment, sample: { n: 100 } } })).toEqual(byN);
    const counts = await audienceCounts(db.sql, audienceQuery(ctx, all, 'test'));
    const tenth = await audienceCounts(
      db.sql,
      audienceQuery(ctx, { ...all, segment: { ...all.segment, sample: { percent: 10 } } }, 'test'),
    );
    expect(tenth.members / counts.members).toBeGreaterThan(0.08);
    expect(tenth.members / counts.members).toBeLessThan(0.12);
  });

  it('assigns holdout and variants by a stable hash of campaign and customer, in the requested proportions', async () => {
    const audience = audienceOf(
      { field: 'country', op: '=', value: 'CN' },
      {
        holdoutPercent: 10,
        variants: [
          { name: 'A', weight: 70 },
          { name: 'B', weight: 30 },
        ],
      },
    );
    const first = await rows(audience, 'spring-2026');
    expect(await rows(audience, 'spring-2026')).toEqual(first);
    const eligible = first.filter((r) => !r.suppression_reason);
    const holdout = eligible.filter((r) => r.holdout).length / eligible.length;
    expect(holdout).toBeGreaterThan(0.08);
    expect(holdout).toBeLessThan(0.12);
    const contacted = eligible.filter((r) => !r.holdout);
    const a = contacted.filter((r) => r.variant === 'A').length / contacted.length;
    expect(a).toBeGreaterThan(0.67);
    expect(a).toBeLessThan(0.73);
    expect(contacted.every((r) => r.variant === 'A' || r.variant === 'B')).toBe(true);
    expect(first.filter((r) => r.holdout || r.suppression_reason).every((r) => r.variant === null)).toBe(true);
    expect(first.filter((r) => r.suppression_reason).every((r) => !r.holdout)).toBe(true);
    // The hash is md5, the same in any PostgreSQL version and in TypeScript.
    for (const r of eligible.slice(0, 50))
      expect(r.holdout).toBe(hashUnit(`spring-2026:holdout:${r.customer_id}`) < 0.1);
    // Another campaign draws another holdout.
    const other = await rows(audience, 'autumn-2026');
    const same = other.filter((r, i) => r.holdout === first[i]!.holdout).length / other.length;
    expect(same).toBeLessThan(0.95);
  });

  it('snapshots into campaign_members once; taking it again changes nothing', async () => {
    const [camp] = await db.sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('wealth', 'Wealth', '{}', 'campaign-wealth') returning id`;
    const audience = audienceOf(
      { field: 'financial_assets', op: '>', value: 0 },
      {
        holdoutPercent: 10,
        variants: [
          { name: 'A', weight: 1 },
          { name: 'B', weight: 1 },
        ],
      },
      {
        top: {
          n: 500,
          by: 'financial_assets',
          order: 'desc',
          bands: [
            { name: 'gift-a', from: 1, to: 60 },
            { name: 'gift-b', from: 61, to: 160 },
          ],
        },
      },
    );
    const first = await snapshotAudience(ctx, camp!.id, audience);
    expect(first.created).toBe(true);
    expect(first.counts.contactable + first.counts.holdout).toBe(500);
    expect(first.counts.bands).toEqual({ 'gift-a': 60, 'gift-b': 100 });
    const stored = await db.sql<
      { n: number; ranked: number }[]
    >`select count(*)::int as n, count(rank)::int as ranked from campaign_members where campaign_id = ${camp!.id}`;
    expect(stored[0]!.n).toBe(first.counts.members);
    expect(stored[0]!.ranked).toBe(500);
    // New data does not move a snapshot that was already taken.
    await db.sql`insert into customers (external_id, full_name, address_line1, city, postal_code, attributes) values ('RICH', 'R', '路1号', '上海市', '200001', ${db.sql.json({ financial_assets: 1e12 })})`;
    const again = await snapshotAudience(ctx, camp!.id, audience);
    expect(again.created).toBe(false);
    expect(again.counts).toEqual(first.counts);
    expect(again.takenAt).toBe(first.takenAt);
  });
});
