// Branch visits on the real PostgreSQL: found by the letter's code, the phone or the customer id;
// one branch_visit per customer per campaign with the gift handed out; gift stock that runs out
// (also under concurrent visits); the holdout's visit without a gift; a customer outside the
// campaign; through the pipeline and the real CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { SECRET, createCampaignFixture, type Fixture } from '../helpers/calls-fixture.ts';
import { storedCampaign } from '../../pipeline/calls/stored-campaign.ts';
import { giftStock, registerVisit } from '../../pipeline/visits/branch-visit.ts';
import { responseCode } from '../../pipeline/render/codes.ts';
import { campaignDetails, type CampaignState } from '../../client/api.ts';

describe('branch visits', { timeout: 240_000 }, () => {
  let db: TestDatabase;
  let f: Fixture;
  const dir = tempDir('mailroom-visit-');
  const env = () => ({ DATABASE_URL: db.url, MAILROOM_SECRET: SECRET });
  const visits = async (campaignId: number) =>
    (
      await db.sql<
        { n: number }[]
      >`select count(*)::int as n from responses where campaign_id = ${campaignId} and kind = 'branch_visit'`
    )[0]!.n;

  beforeAll(async () => {
    db = await createTestDatabase();
    f = await createCampaignFixture(db.sql, 'visit-test', { dir, applianceStock: 2 });
    await db.sql`insert into customers (external_id, full_name) values ('OUTSIDER', '孙丽')`;
  });
  afterAll(() => db.drop());

  it('registers a visit by the code on the letter, once; a second visit by phone records nothing new', async () => {
    const code = responseCode(SECRET, f.slug, f.ids.W1!);
    // Typed from paper in lower case, with O for 0 and l for 1: still the code.
    const typed = code.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
    const run = await runCli(['visit', f.slug, '--code', typed, '--staff', '柜员小林', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'recorded',
      customer: { full_name: '王建华', salutation: '王先生', account_manager: '周敏' },
      member: { rank: 1, band: 'gift-appliance', holdout: false },
      entitled: { key: 'gift-appliance', text: '电风扇或电饭煲（二选一）', stock: 2 },
      gift: { offer: 'gift-appliance', choice: null },
      remaining: 1,
    });
    const again = await runCli(['visit', f.slug, '--phone', '13800000001'], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Already registered on .* with gift-appliance; nothing new recorded\./);
    expect(await visits(f.campaignId)).toBe(1);
    const log = await db.sql`select channel, actor, outcome from contact_log where customer_id = ${f.ids.W1!}`;
    expect(log).toEqual([
      { channel: 'visit', actor: '柜员小林', outcome: 'gift handed out: 电风扇或电饭煲（二选一）' },
    ]);
  });

  it('refuses a gift out of stock with what remains, writing nothing; another offer can be given instead', async () => {
    const campaign = await storedCampaign(db.sql, f.slug);
    const second = await registerVisit(db.sql, campaign, {
      by: { customer: `${f.slug}-W2` },
      gift: '电饭煲',
      secret: SECRET,
    });
    expect(second).toMatchObject({
      status: 'recorded',
      gift: { offer: 'gift-appliance', choice: '电饭煲' },
      remaining: 0,
    });
    const run = await runCli(['visit', f.slug, '--customer', String(f.ids.W3!)], env());
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Refused: gift-appliance is out of stock (0 left). No visit recorded');
    expect(await db.sql`select 1 from responses where customer_id = ${f.ids.W3!}`).toHaveLength(0);
    expect(await db.sql`select 1 from contact_log where customer_id = ${f.ids.W3!}`).toHaveLength(0);
    const oil = await registerVisit(db.sql, campaign, {
      by: { customer: `${f.slug}-W3` },
      gift: 'gift-oil',
      secret: SECRET,
    });
    expect(oil).toMatchObject({ status: 'recorded', gift: { offer: 'gift-oil', choice: null }, remaining: 99 });
  });

  it("records the holdout's visit without a gift, and tells a customer outside the campaign so", async () => {
    const holdout = await runCli(['visit', f.slug, '--customer', `${f.slug}-W7`], env());
    expect(holdout.code, holdout.stderr).toBe(0);
    expect(holdout.stdout).toContain('holdout (the baseline): the visit counts, no gift is offered');
    expect(holdout.stdout).toContain('Visit recorded; handed out: no gift.');
    const [row] = await db.sql<{ details: { gift: unknown; holdout: boolean } }[]>`
      select details from responses where customer_id = ${f.ids.W7!} and kind = 'branch_visit'`;
    expect(row!.details).toMatchObject({ gift: null, holdout: true });
    const outsider = await runCli(['visit', f.slug, '--customer', 'OUTSIDER'], env());
    expect(outsider.code).toBe(3);
    expect(outsider.stderr).toContain(
      `孙丽（孙丽, OUTSIDER） is not in campaign ${f.slug}: no visit recorded, no gift.`,
    );
    const forged = await runCli(['visit', f.slug, '--code', 'ZZZZZZZZZZ'], env());
    expect(forged.code).toBe(3);
    expect(forged.stderr).toContain(`code ZZZZZZZZZZ is not a response code of campaign ${f.slug}`);
    const usage = await runCli(['visit', f.slug, '--code', 'X', '--phone', '1'], env());
    expect(usage.code).toBe(2);
  });

  it('shows the gifts handed out and their cost', async () => {
    const run = await runCli(['visit', f.slug, '--stock', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).gifts).toEqual([
      {
        offer: 'gift-appliance',
        text: '电风扇或电饭煲（二选一）',
        stock: 2,
        used: 2,
        remaining: 0,
        unit_cost: 325.09,
        cost: 650.18,
      },
      {
        offer: 'gift-oil',
        text: '5 升装花生油一桶',
        stock: 100,
        used: 1,
        remaining: 99,
        unit_cost: 107.98,
        cost: 107.98,
      },
    ]);
  });

  it("shows the same stock and cost in the campaign's status details", async () => {
    const details = await campaignDetails(db.sql, f.slug, { waves: [] } as unknown as CampaignState);
    expect(details.gifts.map((g) => [g.offer, g.stock, g.used, g.remaining, g.cost])).toEqual([
      ['gift-appliance', 2, 2, 0, 650.18],
      ['gift-oil', 100, 1, 99, 107.98],
    ]);
  });

  it('never hands out more than the stock when visits come at the same moment', async () => {
    const g = await createCampaignFixture(db.sql, 'visit-rush', { dir, applianceStock: 2 });
    const campaign = await storedCampaign(db.sql, g.slug);
    // Three appliance-band customers at three counters, each registered twice at once.
    const results = await Promise.all(
      ['W1', 'W2', 'W3', 'W1', 'W2', 'W3'].map((k) =>
        registerVisit(db.sql, campaign, { by: { customer: `${g.slug}-${k}` }, secret: SECRET }),
      ),
    );
    const recorded = results.filter((r) => r.status === 'recorded');
    expect(recorded).toHaveLength(2);
    expect(results.filter((r) => r.status === 'out_of_stock' || r.status === 'already')).toHaveLength(4);
    expect(await visits(g.campaignId)).toBe(2);
    expect((await giftStock(db.sql, campaign))[0]).toMatchObject({ used: 2, remaining: 0 });
    const [stock] = await db.sql`select stock, used from offer_stock where campaign_id = ${g.campaignId}`;
    expect(stock).toEqual({ stock: 2, used: 2 });
  });
});
