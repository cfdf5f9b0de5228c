// A goal is met by what happened before its deadline: a letter posted, a message sent or a call
// that reached the customer after `contact.within` does not count for the contact goal, and a
// visit after `responses.by` does not count for the responses goal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goalStandings } from '../../pipeline/campaign/goals.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createCampaignFixture, CUSTOMERS, type Fixture } from '../helpers/calls-fixture.ts';

let db: TestDatabase;
let fx: Fixture;
const start = new Date('2026-12-01T00:00:00Z');
const day = (n: number) => new Date(start.getTime() + n * 86_400_000);
const treated = CUSTOMERS.filter((c) => !c.holdout);

beforeAll(async () => {
  db = await createTestDatabase();
  fx = await createCampaignFixture(db.sql, 'goal-standings');
  const [a, b, c, d] = treated.map((t) => fx.ids[t.key]!);
  // a: letter posted on day 2; b: letter posted on day 9 (after the 6 days); c: call reached on day 3;
  // d: call reached on day 8.
  await db.sql`
    insert into deliveries (campaign_id, wave, customer_id, channel, status, attempts, sent_at)
    values (${fx.campaignId}, 'letter', ${a!}, 'mail', 'sent', 1, ${day(2)}),
           (${fx.campaignId}, 'letter', ${b!}, 'mail', 'sent', 1, ${day(9)})`;
  await db.sql`
    insert into call_tasks (campaign_id, wave, customer_id, manager, status, attempts_allowed, settled_at)
    values (${fx.campaignId}, 'calls', ${c!}, '周敏', 'settled', 3, ${day(3)}),
           (${fx.campaignId}, 'calls', ${d!}, '周敏', 'settled', 3, ${day(8)})`;
  // Visits: a on day 5, c on day 25 (after the 20 days).
  await db.sql`
    insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at)
    values (${fx.campaignId}, ${a!}, 'branch_visit', 'visit', 'gs-a', ${day(5)}),
           (${fx.campaignId}, ${c!}, 'branch_visit', 'visit', 'gs-c', ${day(25)})`;
}, 60_000);
afterAll(() => db?.drop());

describe('goals against their deadlines', () => {
  it('counts only contacts and responses made by each goal’s deadline', async () => {
    const goals = { contact: { within: '6d' }, responses: { kind: 'branch_visit', target: 4, by: '20d' } };
    const [contact, responses] = await goalStandings(db.sql, fx.campaignId, goals, start, day(30));
    expect(contact).toMatchObject({ goal: 'contact', done: 2, target: treated.length, pace: treated.length });
    expect(contact!.onPace).toBe(false);
    expect(contact!.by).toBe(day(6).toISOString());
    expect(responses).toMatchObject({ goal: 'responses', kind: 'branch_visit', done: 1, target: 4, pace: 4 });
  });

  it('before the deadline, counts everything so far against the pace', async () => {
    const goals = { responses: { kind: 'branch_visit', target: 4, by: '20d' } };
    const [responses] = await goalStandings(db.sql, fx.campaignId, goals, start, day(10));
    expect(responses).toMatchObject({ done: 1, pace: 2, onPace: false });
  });
});
