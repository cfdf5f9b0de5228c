// A campaign whose fallback added a second cohort prints each cohort's letters on their own; the
// posting confirmed for one cohort marks only that cohort's printed pieces as posted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertPrinted } from '../../pipeline/send/deliveries.ts';
import { recordMailing } from '../../pipeline/send/mail-wave.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createCampaignFixture, CUSTOMERS, type Fixture } from '../helpers/calls-fixture.ts';

let db: TestDatabase;
let fx: Fixture;
const cohortTwo = CUSTOMERS.slice(0, 3).map((c) => c.key);

beforeAll(async () => {
  db = await createTestDatabase();
  fx = await createCampaignFixture(db.sql, 'mail-cohorts');
  const twoIds = cohortTwo.map((k) => fx.ids[k]!);
  await db.sql`update campaign_members set cohort = 2 where campaign_id = ${fx.campaignId} and customer_id in ${db.sql(twoIds)}`;
}, 60_000);
afterAll(() => db?.drop());

const statusOf = async () =>
  Object.fromEntries(
    (
      await db.sql<{ customer_id: number; status: string }[]>`
        select customer_id, status from deliveries where campaign_id = ${fx.campaignId} and wave = 'letter'`
    ).map((r) => [Number(r.customer_id), r.status]),
  );

describe('posting a cohort mail wave', () => {
  it("marks only the confirmed cohort's printed letters as posted, and counts only them", async () => {
    const all = Object.values(fx.ids);
    const one = CUSTOMERS.filter((c) => !cohortTwo.includes(c.key)).map((c) => fx.ids[c.key]!);
    const two = cohortTwo.map((k) => fx.ids[k]!);
    await insertPrinted(db.sql, fx.campaignId, 'letter', all);

    const first = await recordMailing(db.sql, fx.campaignId, 'letter', '2026-12-02', 1);
    expect(first.mailed).toBe(one.length);
    let status = await statusOf();
    for (const id of one) expect(status[id]).toBe('sent');
    for (const id of two) expect(status[id]).toBe('printed');

    const second = await recordMailing(db.sql, fx.campaignId, 'letter', '2026-12-05', 2);
    expect(second.mailed).toBe(two.length);
    status = await statusOf();
    for (const id of all) expect(status[id]).toBe('sent');
    const dates = await db.sql<{ customer_id: number; day: string }[]>`
      select customer_id, to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD') as day
      from deliveries where campaign_id = ${fx.campaignId} and wave = 'letter'`;
    for (const d of dates) expect(d.day).toBe(two.includes(Number(d.customer_id)) ? '2026-12-05' : '2026-12-02');
  });

  it('without a cohort, a posting covers every printed letter of the wave', async () => {
    await insertPrinted(db.sql, fx.campaignId, 'second-letter', Object.values(fx.ids));
    const r = await recordMailing(db.sql, fx.campaignId, 'second-letter', '2026-12-06');
    expect(r.mailed).toBe(CUSTOMERS.length);
  });
});
