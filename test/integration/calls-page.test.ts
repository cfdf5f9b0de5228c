// The manager's page in Debian's headless Chromium: a signed link shows one manager's open tasks
// on a 390 px screen, an outcome is recorded by keyboard alone and another with the form, a post
// sent twice counts once; cross-site posts, another manager's task, expired and altered links are
// refused with nothing written. The page is served by the real tracking server.
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/csv.ts';
import { runCli } from '../helpers/cli.ts';
import { focused as focusedOn, pageWidth, pagesFixture, phonePage, type PagesFixture } from '../helpers/browser.ts';
import { SECRET, type Fixture } from '../helpers/calls-fixture.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { formToken, signManagerLink } from '../../pipeline/calls/manager-link.ts';

describe('the manager page', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let f: Fixture;
  let base: string;
  let browser: Browser;
  const dir = tempDir('mailroom-calls-page-');
  const week = () => new Date(Date.now() + 7 * 86_400_000);
  const linkFor = (manager: string, expiresAt = week()) =>
    signManagerLink(SECRET, { campaignId: f.campaignId, manager, expiresAt });
  const written = async () =>
    (
      await db.sql<{ n: number }[]>`
      select (select count(*) from call_outcomes)::int + (select count(*) from contact_log)::int + (select count(*) from responses)::int as n`
    )[0]!.n;
  const taskOf = async (key: string) =>
    (
      await db.sql<{ id: number; status: string; outcome: string | null; attempts: number }[]>`
      select id, status, outcome, attempts from call_tasks where customer_id = ${f.ids[key]!}`
    )[0]!;
  const post = (token: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}/calls/${token}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  let fixture: PagesFixture;
  beforeAll(async () => {
    // The real tracking server, which routes /calls/<token> to the page.
    fixture = await pagesFixture('calls-page', { dir });
    ({ db, f, base, browser } = fixture);
  });
  afterAll(() => fixture?.close());

  it("shows one manager's open tasks on a phone and records an outcome by keyboard alone", async () => {
    const page = await phonePage(browser);
    const token = linkFor('周敏');
    const response = await page.goto(`${base}/calls/${token}`);
    expect(response!.status()).toBe(200);
    const names = await page.$$eval('section h2', (hs) => hs.map((h) => h.textContent));
    expect(names).toEqual(['王建华（王先生）', '李秀英（李女士）']);
    const body = await page.$eval('body', (b) => b.innerText);
    expect(body).not.toContain('张伟');
    expect(body).not.toContain('陈静');
    // Nothing wider than the phone's screen.
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);

    // Keyboard only: Tab to the first form's outcomes, arrow to 婉拒, Tab on (past the date fields' parts) to its button, Enter.
    const focused = () => focusedOn(page);
    for (let i = 0; i < 30 && !(await focused()).startsWith('INPUT:outcome'); i++) await page.keyboard.press('Tab');
    expect(await focused()).toMatch(/^INPUT:outcome/);
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate('document.activeElement.value')).toBe('declined');
    for (let i = 0; i < 40 && !(await focused()).startsWith('BUTTON'); i++) await page.keyboard.press('Tab');
    expect(await focused()).toContain('记录 王建华 的结果');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await page.$eval('[role=status]', (e) => e.textContent)).toContain('已记录：王建华 — 婉拒');
    expect(await page.$$eval('section h2', (hs) => hs.map((h) => h.textContent))).toEqual(['李秀英（李女士）']);
    expect(await taskOf('W1')).toMatchObject({ status: 'settled', outcome: 'declined', attempts: 1 });
    const [log] = await db.sql`select channel, actor, outcome from contact_log where customer_id = ${f.ids.W1!}`;
    expect(log).toEqual({ channel: 'call', actor: '周敏', outcome: 'declined' });

    // An appointment needs its time: refused with the reason first, then recorded with it.
    await page.click('input[value=appointment]');
    await Promise.all([page.waitForNavigation(), page.click('form button')]);
    expect(await page.$eval('[role=alert]', (e) => e.textContent)).toContain('请填写预约到访时间');
    expect((await taskOf('W2')).status).toBe('open');
    await page.click('input[value=appointment]');
    await page.evaluate("document.querySelector('input[type=datetime-local]').value = '2026-12-04T10:00'");
    await page.type('textarea', '带身份证');
    await Promise.all([page.waitForNavigation(), page.click('form button')]);
    expect(await page.$eval('[role=status]', (e) => e.textContent)).toContain('已记录：李秀英 — 已预约到访');
    const [appointment] = await db.sql`select kind, source from responses where customer_id = ${f.ids.W2!}`;
    expect(appointment).toEqual({ kind: 'appointment', source: 'calls' });
    await page.close();
  });

  it('mailroom calls link signs a link the page accepts, for the time asked', async () => {
    const env = { DATABASE_URL: db.url, MAILROOM_SECRET: SECRET, MAILROOM_TRACKING_URL: 'https://track.example.com/t' };
    const run = await runCli(['calls', 'link', f.slug, '--manager', '陈志强', '--valid', '2d', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const link = JSON.parse(run.stdout) as { url: string; expiresAt: string; openTasks: number };
    expect(link.url).toMatch(/^https:\/\/track\.example\.com\/t\/calls\/[\w-]+\.[\w-]+$/);
    expect(link.openTasks).toBe(2);
    const days = (Date.parse(link.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1.9);
    expect(days).toBeLessThanOrEqual(2);
    const shown = await fetch(`${base}/calls/${link.url.split('/').at(-1)}`);
    expect(shown.status).toBe(200);
    const text = await shown.text();
    expect(text).toContain('张伟');
    expect(text).not.toContain('王建华');
    const bad = await runCli(['calls', 'link', f.slug, '--manager', '陈志强', '--valid', 'soon'], env);
    expect(bad.code).toBe(2);
  });

  it('counts a form sent twice once', async () => {
    const token = linkFor('陈志强');
    const t = await taskOf('W3');
    const fields = { task: String(t.id), attempt: '0', csrf: formToken(SECRET, token, t.id), outcome: 'no_answer' };
    const first = await post(token, fields);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toContain('applied=1');
    const before = await written();
    const again = await post(token, fields);
    expect(again.headers.get('location')).toContain('applied=0');
    expect(await written()).toBe(before);
    expect(await taskOf('W3')).toMatchObject({ status: 'open', attempts: 1 });
  });

  it("refuses cross-site posts, another manager's task, expired and altered links, writing nothing", async () => {
    const token = linkFor('陈志强');
    const t4 = await taskOf('W4');
    const good = { task: String(t4.id), attempt: '0', csrf: formToken(SECRET, token, t4.id), outcome: 'declined' };
    const before = await written();

    const crossSite = await post(token, good, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    const fromAnotherSite = await post(token, good, { 'sec-fetch-site': 'cross-site' });
    expect(fromAnotherSite.status).toBe(403);
    const noToken = await post(token, { ...good, csrf: '' });
    expect(noToken.status).toBe(403);
    // 周敏's customer through 陈志强's link, even with a form token made for it.
    const w1 = await taskOf('W1');
    const other = await post(token, { ...good, task: String(w1.id), csrf: formToken(SECRET, token, w1.id) });
    expect(other.status).toBe(403);
    expect(await other.text()).toContain('not on your list');

    const expired = linkFor('陈志强', new Date(Date.now() - 1000));
    expect((await post(expired, { ...good, csrf: formToken(SECRET, expired, t4.id) })).status).toBe(410);
    expect((await fetch(`${base}/calls/${expired}`)).status).toBe(410);

    // The payload changed to name 周敏, the signature kept: forged.
    const [, signature] = token.split('.');
    const altered = `${Buffer.from(JSON.stringify({ c: f.campaignId, m: '周敏', e: Math.floor(week().getTime() / 1000) })).toString('base64url')}.${signature}`;
    const forgedPage = await fetch(`${base}/calls/${altered}`);
    expect(forgedPage.status).toBe(403);
    expect(await forgedPage.text()).not.toContain('李秀英');
    expect((await post(altered, { ...good, csrf: formToken(SECRET, altered, t4.id) })).status).toBe(403);

    expect(await written()).toBe(before);
    expect(await taskOf('W4')).toMatchObject({ status: 'open', attempts: 0 });
  });
});
