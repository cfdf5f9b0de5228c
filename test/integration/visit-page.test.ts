// Booking from the letter and the branch's staff page, in Debian's headless Chromium against the
// real tracking server: the customer books a slot on their landing page (by keyboard, on a phone),
// which settles their call task as booked online (the manager's page and `calls list` show it);
// replayed and forged posts write nothing; a full slot is refused. Branch staff scan or type the
// letter's code, a phone or a customer id, see the band, the gift with its stock and the booking,
// and record the visit by keyboard alone; holdout, outsider, out-of-stock and second visits; links
// expired, altered or for another campaign refused with nothing written.
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/csv.ts';
import { runCli } from '../helpers/cli.ts';
import { focused, pageWidth, pagesFixture, phonePage, type PagesFixture } from '../helpers/browser.ts';
import { SECRET, createCampaignFixture, type Fixture } from '../helpers/calls-fixture.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { recordCallOutcome } from '../../pipeline/calls/call-tasks.ts';
import { bookVisit, bookingSettings, slotTimes } from '../../pipeline/calls/booking.ts';
import { signManagerLink } from '../../pipeline/calls/manager-link.ts';
import { signBranchLink, visitFormToken } from '../../pipeline/visits/branch-link.ts';
import { formTokenFor } from '../../pipeline/calls/signed-link.ts';
import { responseCode } from '../../pipeline/render/codes.ts';

const BOOKING = [
  'booking:',
  '  slots: { days: [sun, mon, tue, wed, thu, fri, sat], times: ["09:30", "14:00"], per_slot: 1 }',
  '  within: 14d',
].join('\n');

describe('booking from the letter and the branch staff page', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let f: Fixture;
  let other: Fixture;
  let base: string;
  let browser: Browser;
  const dir = tempDir('mailroom-visit-page-');
  const week = () => new Date(Date.now() + 7 * 86_400_000);
  const code = (key: string) => responseCode(SECRET, f.slug, f.ids[key]!);
  const branchLink = (campaignId = f.campaignId, expiresAt = week()) =>
    signBranchLink(SECRET, { campaignId, branch: '招商路支行', expiresAt });
  const written = async () =>
    (
      await db.sql<{ n: string }[]>`
      select ((select count(*) from bookings) + (select coalesce(sum(booked), 0) from booking_slots)
        + (select count(*) from responses where kind not in ('purl_visit', 'qr_scan')) + (select count(*) from call_outcomes)
        + (select count(*) from contact_log) + (select coalesce(sum(used), 0) from offer_stock))::text as n`
    )[0]!.n;
  const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const bookingCsrf = (key: string) => formTokenFor(SECRET, 'booking-form', f.slug, f.ids[key]!);
  const task = async (key: string) =>
    (
      await db.sql<{ status: string; outcome: string | null; manager: string }[]>`
      select status, outcome, manager from call_tasks where customer_id = ${f.ids[key]!}`
    )[0]!;

  let fixture: PagesFixture;
  beforeAll(async () => {
    fixture = await pagesFixture('visit-page', { dir, applianceStock: 2 });
    ({ db, f, base, browser } = fixture);
    other = await createCampaignFixture(db.sql, 'visit-page-other', { dir });
    await db.sql`update campaigns set spec = jsonb_set(spec, '{text}', to_jsonb(spec ->> 'text' || ${`\n${BOOKING}\n`}::text))
      where id = ${f.campaignId}`;
    await db.sql`insert into customers (external_id, full_name) values ('OUTSIDER', '孙丽')`;
  });
  afterAll(() => fixture?.close());

  it('books a slot from the letter by keyboard on a phone, settling the call task as booked online', async () => {
    const page = await phonePage(browser);
    expect((await page.goto(`${base}/p/${code('W1')}?src=qr`))!.status()).toBe(200);
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    const options = await page.$$eval('select[name=slot] option', (os) => os.map((o) => o.textContent ?? ''));
    // Two times a day for two weeks (less the next hour's), each with its one place.
    expect(options.length).toBeGreaterThan(20);
    expect(options[1]).toMatch(/^\d{1,2}月\d{1,2}日 周. (09:30|14:00)（余 1 位）$/);
    for (let i = 0; i < 20 && !(await focused(page)).startsWith('SELECT'); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown');
    const chosen = (await page.$eval('select[name=slot]', (s) => (s as unknown as { value: string }).value)) as string;
    expect(chosen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toContain('确认预约');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    const status = await page.$eval('[role=status]', (e) => e.textContent ?? '');
    expect(status).toContain('预约成功！您已预约');
    expect(status).toContain(options[1]!.replace(/（余 1 位）$/, ''));

    const [booking] = await db.sql`select customer_id, slot_at from bookings`;
    expect(booking).toEqual({ customer_id: f.ids.W1!, slot_at: new Date(chosen) });
    expect(await task('W1')).toEqual({ status: 'settled', outcome: 'appointment', manager: '周敏' });
    const [outcome] = await db.sql`select recorded_by, source from call_outcomes`;
    expect(outcome).toEqual({ recorded_by: '在线预约', source: 'online' });
    const appointments = await db.sql`select customer_id from responses where kind = 'appointment'`;
    expect(appointments).toEqual([{ customer_id: f.ids.W1! }]);

    // The manager sees it booked and not to call; so does `calls list`.
    const managerPage = await phonePage(browser);
    await managerPage.goto(
      `${base}/calls/${signManagerLink(SECRET, { campaignId: f.campaignId, manager: '周敏', expiresAt: week() })}`,
    );
    expect(await managerPage.$$eval('form', (fs) => fs.length)).toBe(1); // only 李秀英 is left to call
    expect(await managerPage.$eval('#booked', (e) => e.parentElement!.textContent ?? '')).toContain(
      `已在线预约，无需拨打（1）王建华 · 预约到访 ${options[1]!.replace(/（余 1 位）$/, '')}`,
    );
    const list = await runCli(['calls', 'list', f.slug, '--manager', '周敏', '--json'], {
      DATABASE_URL: db.url,
      MAILROOM_SECRET: SECRET,
    });
    expect(list.code, list.stderr).toBe(0);
    const tasks = (
      JSON.parse(list.stdout) as { tasks: { name: string; status: string; booked_online_at: string | null }[] }
    ).tasks;
    expect(tasks.find((t) => t.name === '王建华')).toMatchObject({ status: 'settled', booked_online_at: chosen });
    expect(tasks.find((t) => t.name === '李秀英')).toMatchObject({ status: 'open', booked_online_at: null });
    const due = await runCli(['calls', 'list', f.slug, '--manager', '周敏', '--due'], {
      DATABASE_URL: db.url,
      MAILROOM_SECRET: SECRET,
    });
    expect(due.stdout).not.toContain('王建华');
    await managerPage.close();

    // Sent again (a reload of the post, a double tap): the booking stands, nothing new is written.
    const before = await written();
    const again = await form(`/p/${code('W1')}`, { csrf: bookingCsrf('W1'), slot: chosen });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('您已预约');
    const another = await form(`/p/${code('W1')}`, {
      csrf: bookingCsrf('W1'),
      slot: new Date(Date.parse(chosen) + 86_400_000).toISOString(),
    });
    expect(another.status).toBe(200);
    expect(await written()).toBe(before);
    await page.close();
  });

  it('refuses a full slot, a slot not offered, and forged or cross-site posts, writing nothing', async () => {
    const [{ slot_at: full } = { slot_at: new Date(0) }] = await db.sql<
      { slot_at: Date }[]
    >`select slot_at from bookings`;
    const before = await written();
    const taken = await form(`/p/${code('W2')}`, { csrf: bookingCsrf('W2'), slot: full.toISOString() });
    expect(taken.status).toBe(409);
    const page = await taken.text();
    expect(page).toContain('已约满');
    expect(page).not.toContain(`value="${full.toISOString()}"`); // no longer offered
    const madeUp = await form(`/p/${code('W2')}`, { csrf: bookingCsrf('W2'), slot: '2026-12-05T03:17:00.000Z' });
    expect(madeUp.status).toBe(409);
    const open = new Date(full.getTime() + 86_400_000).toISOString();
    expect((await form(`/p/${code('W2')}`, { csrf: 'x', slot: open })).status).toBe(403);
    expect((await form(`/p/${code('W2')}`, { csrf: bookingCsrf('W1'), slot: open })).status).toBe(403);
    expect(
      (await form(`/p/${code('W2')}`, { csrf: bookingCsrf('W2'), slot: open }, { origin: 'https://evil.example' }))
        .status,
    ).toBe(403);
    expect((await form('/p/ZZZZZZZZZZ', { csrf: bookingCsrf('W2'), slot: open })).status).toBe(404);
    expect(await written()).toBe(before);
    expect(await task('W2')).toMatchObject({ status: 'open' });
  });

  it('never books a slot beyond its places when customers book it at the same moment', async () => {
    const settings = bookingSettings(
      (await db.sql<{ spec: unknown }[]>`select spec from campaigns where id = ${f.campaignId}`)[0]!.spec,
    )!;
    // The last slot offered: nobody has it yet.
    const slotAt = slotTimes(settings, new Date()).at(-1)!;
    const results = await Promise.all(
      ['W4', 'W5', 'W6', 'W4', 'W5', 'W6'].map((k) =>
        bookVisit(db.sql, { campaignId: f.campaignId, customerId: f.ids[k]!, slotAt, settings }),
      ),
    );
    expect(results.filter((r) => r.status === 'booked')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'full' || r.status === 'already')).toHaveLength(5);
    const [slot] =
      await db.sql`select booked from booking_slots where campaign_id = ${f.campaignId} and slot_at = ${slotAt}`;
    expect(slot).toEqual({ booked: 1 });
    expect(await db.sql`select 1 from bookings where slot_at = ${slotAt}`).toHaveLength(1);
    // The one booked customer's task is settled; the others still wait for their call.
    const statuses = await Promise.all(['W4', 'W5', 'W6'].map(async (k) => (await task(k)).status));
    expect(statuses.sort()).toEqual(['open', 'open', 'settled']);
  });

  it('books for a customer whose call task is already closed: the appointment response comes from the page', async () => {
    await recordCallOutcome(db.sql, {
      campaignId: f.campaignId,
      customerId: f.ids.W3!,
      outcome: 'declined',
      source: 'api',
      key: 'w3-declined',
    });
    const page = await (await fetch(`${base}/p/${code('W3')}`)).text();
    const slot = /<option value="([^"]+)">/.exec(page)![1]!;
    const booked = await form(`/p/${code('W3')}`, { csrf: bookingCsrf('W3'), slot });
    expect(booked.status).toBe(200);
    expect(await task('W3')).toMatchObject({ status: 'settled', outcome: 'declined' });
    const rows =
      await db.sql`select kind, source from responses where customer_id = ${f.ids.W3!} and kind = 'appointment'`;
    expect(rows).toEqual([{ kind: 'appointment', source: 'landing' }]);
  });

  it('lets branch staff scan, look up and record visits by keyboard alone, with the gift, stock and booking', async () => {
    const token = branchLink();
    const page = await phonePage(browser);
    expect((await page.goto(`${base}/visit/${token}`))!.status()).toBe(200);
    expect(await focused(page)).toMatch(/^INPUT:q:/);
    // A scanner types the QR code's address and Enter.
    await page.keyboard.type(`https://track.example.com/p/${code('W1')}?src=qr`);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    let card = await page.$eval('[aria-label=客户]', (e) => (e as unknown as { innerText: string }).innerText);
    expect(card).toContain('王建华（王先生）');
    expect(card).toMatch(/排名 \/ 档位\s+1 \/ gift-appliance/);
    expect(card).toMatch(/可领礼品\s+电风扇或电饭煲（二选一）（剩余 2）/);
    expect(card).toMatch(/在线预约\s+已预约 \d{1,2}月\d{1,2}日 周. (09:30|14:00)/);
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    // No name yet: the name box has the focus; typed, Enter records.
    expect(await focused(page)).toMatch(/^INPUT:staff:/);
    await page.keyboard.type('柜员小林');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await page.$eval('[role=status]', (e) => e.textContent)).toContain(
      '已登记到访：王建华，发放礼品：电风扇或电饭煲（二选一），剩余 1',
    );
    const [visit] =
      await db.sql`select details from responses where customer_id = ${f.ids.W1!} and kind = 'branch_visit'`;
    expect(visit!.details).toMatchObject({
      staff: '柜员小林',
      branch: '招商路支行',
      gift: { offer: 'gift-appliance' },
    });

    // The next customer by phone: the box has the focus again, the name is kept, the button takes Enter.
    expect(await focused(page)).toMatch(/^INPUT:q:/);
    await page.keyboard.type('138 0000 0002');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await focused(page)).toContain('登记到访并发放礼品');
    await page.type('input[name=choice]', '电饭煲');
    await page.focus('form button');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await page.$eval('[role=status]', (e) => e.textContent)).toContain(
      '发放礼品：电风扇或电饭煲（二选一）（电饭煲），剩余 0',
    );

    // By customer id, once the appliances are gone: the entitled gift cannot be chosen, another can.
    await page.type('#q', `${f.slug}-W3`);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    card = await page.$eval('[aria-label=客户]', (e) => (e as unknown as { innerText: string }).innerText);
    expect(card).toMatch(/可领礼品\s+电风扇或电饭煲（二选一）（剩余 0）/);
    expect(
      await page.$eval('input[value=gift-appliance]', (e) => (e as unknown as { disabled: boolean }).disabled),
    ).toBe(true);
    expect(await page.$eval('input[value=gift-oil]', (e) => (e as unknown as { checked: boolean }).checked)).toBe(true);
    await page.close();
  });

  it('refuses an appliance out of stock with what remains, records the holdout without a gift, tells an outsider, records a second visit never', async () => {
    const token = branchLink();
    const record = (external: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
      form(
        `/visit/${token}`,
        {
          action: 'record',
          customer: external,
          csrf: visitFormToken(SECRET, token, external),
          staff: '柜员小林',
          ...extra,
        },
        headers,
      );
    const lookup = (q: string) =>
      form(`/visit/${token}`, {
        action: 'lookup',
        q,
        staff: '柜员小林',
        csrf: visitFormToken(SECRET, token, 'lookup'),
      });

    let before = await written();
    const refused = await record(`${f.slug}-W3`, { gift: 'gift-appliance' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('礼品「电风扇或电饭煲（二选一）」已发完（剩余 0），未登记');
    expect(await written()).toBe(before);

    const holdout = await lookup(`${f.slug}-W7`);
    expect(await holdout.text()).toContain('对照组客户：登记到访，不发放礼品');
    const recorded = await (await record(`${f.slug}-W7`)).text();
    expect(recorded).toContain('已登记到访：赵磊（对照组，不发礼品）');
    const [row] =
      await db.sql`select details from responses where customer_id = ${f.ids.W7!} and kind = 'branch_visit'`;
    expect(row!.details).toMatchObject({ gift: null, holdout: true });

    // A band without a gift: no gift is offered, not even one still in stock.
    const [plan] = await db.sql<{ id: number }[]>`
      insert into customers (external_id, full_name, family_name, gender) values ('PLAN1', '周平', '周', 'male') returning id`;
    await db.sql`insert into campaign_members (campaign_id, customer_id, rank, band) values (${f.campaignId}, ${plan!.id}, 200, 'asset-plan')`;
    const noGift = await (await lookup('PLAN1')).text();
    expect(noGift).toContain('本档无礼品');
    expect(noGift).not.toContain('name="gift"');
    expect(noGift).toContain('>登记到访</button>');

    const outsider = await (await lookup('OUTSIDER')).text();
    expect(outsider).toContain('不在本次活动中，不登记到访，不发放礼品');
    // A customer of another campaign, through this campaign's link: not in it, nothing recorded.
    const elsewhere = `${other.slug}-W1`;
    expect(await (await lookup(elsewhere)).text()).toContain('不在本次活动中');

    before = await written();
    expect(await (await record(elsewhere)).text()).toContain('不在本次活动中');
    const second = await (await record(`${f.slug}-W1`)).text();
    expect(second).toContain('王建华 此前已登记到访，未重复登记');
    const shown = await (await lookup(code('W1'))).text();
    expect(shown).toContain('到访登记');
    expect(shown).not.toContain('name="action" value="record"');
    // The CLI says the same, with the booking.
    const cli = await runCli(['visit', f.slug, '--code', code('W1'), '--json'], {
      DATABASE_URL: db.url,
      MAILROOM_SECRET: SECRET,
    });
    expect(cli.code, cli.stderr).toBe(0);
    const [booked] = await db.sql<{ slot_at: Date }[]>`select slot_at from bookings where customer_id = ${f.ids.W1!}`;
    expect(JSON.parse(cli.stdout)).toMatchObject({ status: 'already', booking: booked!.slot_at.toISOString() });
    expect(await written()).toBe(before);
  });

  it('refuses expired, altered and cross-site posts, and a form token of another customer, writing nothing', async () => {
    const token = branchLink();
    const fields = (external: string, t = token) => ({
      action: 'record',
      customer: external,
      csrf: visitFormToken(SECRET, t, external),
      staff: '柜员小林',
    });
    const before = await written();
    const expired = branchLink(f.campaignId, new Date(Date.now() - 1000));
    expect((await fetch(`${base}/visit/${expired}`)).status).toBe(410);
    expect((await form(`/visit/${expired}`, fields(`${f.slug}-W4`, expired))).status).toBe(410);
    // The payload changed to name the other campaign, the signature kept: forged.
    const [, signature] = token.split('.');
    const altered = `${Buffer.from(JSON.stringify({ c: other.campaignId, b: '招商路支行', e: Math.floor(week().getTime() / 1000) })).toString('base64url')}.${signature}`;
    expect((await fetch(`${base}/visit/${altered}`)).status).toBe(403);
    expect((await form(`/visit/${altered}`, fields(`${other.slug}-W4`, altered))).status).toBe(403);
    // A manager's link is no branch link.
    const manager = signManagerLink(SECRET, { campaignId: f.campaignId, manager: '周敏', expiresAt: week() });
    expect((await fetch(`${base}/visit/${manager}`)).status).toBe(403);
    expect((await form(`/visit/${token}`, fields(`${f.slug}-W4`), { origin: 'https://evil.example' })).status).toBe(
      403,
    );
    expect((await form(`/visit/${token}`, { ...fields(`${f.slug}-W4`), csrf: '' })).status).toBe(403);
    expect((await form(`/visit/${token}`, { ...fields(`${f.slug}-W4`), customer: `${f.slug}-W5` })).status).toBe(403);
    expect(await written()).toBe(before);
  });

  it('mailroom visit link signs a link the staff page accepts, for the time asked', async () => {
    const env = { DATABASE_URL: db.url, MAILROOM_SECRET: SECRET, MAILROOM_TRACKING_URL: 'https://track.example.com/t' };
    const run = await runCli(['visit', 'link', f.slug, '--branch', '招商路支行', '--valid', '36h', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const link = JSON.parse(run.stdout) as { url: string; expiresAt: string };
    expect(link.url).toMatch(/^https:\/\/track\.example\.com\/t\/visit\/[\w-]+\.[\w-]+$/);
    const hours = (Date.parse(link.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(35.9);
    expect(hours).toBeLessThanOrEqual(36);
    const shown = await fetch(`${base}/visit/${link.url.split('/').at(-1)}`);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('财富管理月（测试） · 招商路支行');
    expect((await runCli(['visit', 'link', f.slug, '--branch', 'x', '--valid', 'soon'], env)).code).toBe(2);
  });
});
