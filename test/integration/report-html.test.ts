// `mailroom report NAME --json --html FILE --csv DIR` through the real CLI against a campaign in a
// fresh database, with only PostgreSQL (no Temporal); the HTML page opened in headless Chromium:
// the numbers on the page are those of the JSON, Chinese text is there, and no request leaves the
// page.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { launchBrowser } from '../helpers/browser.ts';
import type { CampaignReport } from '../../pipeline/report/index.ts';

let db: TestDatabase;
let dir: string;

const SPEC = `name: html-report
waves:
  - { name: letter, channel: mail, template: x, cost_per_piece: 2.80 }
  - { name: reminder, channel: email, template: y, cost_per_piece: 0.01 }
audience: { holdout: 10, variants: { plan-first: 50, gift-first: 50 } }
response_kinds: [purl_visit, branch_visit, order]
budget: 5000
goals: { responses: { kind: branch_visit, target: 60, by: 20d } }
offers:
  礼品A: { text: 电风扇或电饭煲（二选一）, stock: 60, unit_cost: 325.09 }
  礼品B: 5 升装花生油一桶
`;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'mailroom-report-'));
  const { sql } = db;
  const [c] = await sql<{ id: number }[]>`
    insert into campaigns (slug, name, spec, status, workflow_id)
    values ('html-report', '财富管理月 2026', ${sql.json({ file: '/x/html-report.yaml', text: SPEC })}, 'completed', 'campaign-html-report') returning id`;
  const campaignId = c!.id;
  // 400 members: every tenth held out; bands 礼品A/礼品B; two variants among the treated.
  await sql`
    insert into customers (external_id, full_name, province, attributes)
    select 'H' || i, '客户' || i, case when i % 3 = 0 then '广东省' else '北京市' end,
           jsonb_build_object('tier', case when i % 4 = 0 then 'Gold' else 'VIP' end, 'segment', case when i % 5 = 0 then '对公' else '零售' end)
    from generate_series(1, 400) i`;
  await sql`
    insert into campaign_members (campaign_id, customer_id, rank, band, variant, holdout)
    select ${campaignId}, c.id, n, case when n <= 120 then '礼品A' else '礼品B' end,
           case when n % 10 = 0 then null when n % 2 = 0 then 'plan-first' else 'gift-first' end, n % 10 = 0
    from (select id, row_number() over (order by id)::int as n from customers) c`;
  await sql`
    insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
    select ${campaignId}, 'letter', customer_id, 'mail', 'sent', '2026-06-01' from campaign_members where campaign_id = ${campaignId} and not holdout`;
  await sql`
    insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
    select ${campaignId}, 'reminder', customer_id, 'email', 'sent', '2026-06-08T02:00:00Z' from campaign_members where campaign_id = ${campaignId} and not holdout and rank % 3 = 0`;
  // Treated: ranks 1, 7, 13, … visit a branch (67 of 360); holdout: 2 of 40 place an order.
  await sql`
    insert into responses (customer_id, kind, source, dedupe_key, occurred_at)
    select customer_id, 'branch_visit', 'import', 'v' || customer_id, timestamptz '2026-06-03' + (rank % 20) * interval '1 day'
    from campaign_members where campaign_id = ${campaignId} and not holdout and rank % 6 = 1`;
  // Band 礼品A's visitors took its gift.
  await sql`
    update responses r set campaign_id = ${campaignId}, details = jsonb_build_object('gift', jsonb_build_object('offer', '礼品A'))
    from campaign_members m where m.campaign_id = ${campaignId} and m.customer_id = r.customer_id and m.band = '礼品A'`;
  await sql`
    insert into orders (customer_id, order_ref, amount, occurred_at)
    select customer_id, 'o' || customer_id, 120.50, '2026-06-20' from campaign_members
    where campaign_id = ${campaignId} and holdout and rank in (10, 20)`;
});

afterAll(async () => {
  await db?.drop();
});

const at = (obj: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | null)?.[k], obj);

describe('mailroom report', () => {
  it('--json, --csv and --html from the database alone; the page shows the JSON’s numbers and requests nothing', async () => {
    const html = join(dir, 'report.html');
    const csv = join(dir, 'csv');
    const run = await runCli(['report', 'html-report', '--json', '--html', html, '--csv', csv], {
      DATABASE_URL: db.url,
      // No Temporal: a finished campaign's report needs only PostgreSQL.
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as CampaignReport;
    expect(report.treatment).toMatchObject({ n: 360, responders: 67 }); // ranks 1, 7, …, 397
    expect(report.holdout).toMatchObject({ n: 40, responders: 2 });
    expect(report.lift.test).toBe('z');
    expect(report.treatment.rate).toBeCloseTo(67 / 360, 12);
    expect(report.breakdowns.variant.map((v) => v.value)).toEqual(['gift-first', 'plan-first']);
    expect(report.provisional).toBe(false); // posted in June: every window has closed
    expect(readdirSync(csv).sort()).toContain('by_band.csv');
    expect(readFileSync(join(csv, 'by_band.csv'), 'utf8')).toContain('礼品A');
    expect(readFileSync(join(csv, 'by_segment.csv'), 'utf8')).toContain('零售');
    // Everyone joined with the launch snapshot: one cohort row holding the whole treated group.
    expect(readFileSync(join(csv, 'by_cohort.csv'), 'utf8')).toMatch(/^\ufeffcohort,treated_n,/);
    expect(report.breakdowns.cohort.map((c) => [c.value, c.treatment.n])).toEqual([['1', report.treatment.n]]);
    // Ranks 1, 7, …, 115 of band 礼品A visited and took its gift: 20 × 325.09.
    expect(report.cost.gifts).toBe(6501.8);
    expect(report.cost.total).toBeCloseTo(report.cost.pieces + 6501.8, 9);
    expect(report.breakdowns.segment.map((s) => s.value)).toEqual(['对公', '零售']);
    expect(report.curve_by_wave.map((w) => w.wave)).toEqual(['letter', 'reminder']);
    // The goal counts the visits registered for the campaign (band 礼品A's 20), 18 of them by 21 June.
    expect(report.goal).toEqual({
      kind: 'branch_visit',
      target: 60,
      by: '2026-06-21T00:00:00.000Z',
      actual_by_deadline: 18,
      actual: 20,
      met: false,
    });

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const url = pathToFileURL(html).href;
      const others: string[] = [];
      await page.setRequestInterception(true);
      page.on('request', (r) => {
        // The page itself, and its inline font (a data: URL, which never leaves the page).
        if (r.url() === url || r.url().startsWith('data:font/ttf;base64,')) return void r.continue();
        others.push(r.url());
        void r.abort();
      });
      await page.goto(url, { waitUntil: 'load' });
      expect(others).toEqual([]);
      const shown = await page.$$eval('[data-key]', (els) =>
        els.map((e) => ({
          key: e.getAttribute('data-key')!,
          value: e.getAttribute('data-value'),
          text: e.textContent!,
        })),
      );
      const keys = new Set(shown.map((s) => s.key));
      for (const k of [
        'treatment.rate',
        'holdout.rate',
        'lift.absolute',
        'lift.p_value',
        'incremental_responders.estimate',
        'cost.per_incremental_response',
        'cost.roi',
        'cost.total',
        'cost.gifts',
        'cost.by_band.0.cost',
        'goal.actual_by_deadline',
      ])
        expect(keys).toContain(k);
      for (const s of shown.filter((x) => x.key !== 'verdict')) {
        const expected = at(report, s.key);
        expect(s.value === '' ? null : Number(s.value), s.key).toBe(expected ?? null);
      }
      // The formatted text says the same: rates as percentages with two decimals.
      const text = (k: string) => shown.find((s) => s.key === k)!.text;
      expect(text('treatment.rate')).toBe(`${(report.treatment.rate! * 100).toFixed(2)}%`);
      expect(text('holdout.responders')).toBe(String(report.holdout.responders));
      expect(text('lift.absolute')).toBe(`+${(report.lift.absolute! * 100).toFixed(2)} pts`);
      expect(await page.$eval('[data-key="verdict"]', (e) => e.textContent)).toBe(report.verdict);
      const body = await page.$eval('body', (e) => e.innerText);
      expect(body).toContain('财富管理月 2026');
      expect(body).toContain('礼品A');
      expect(body).toContain('零售');
      // The overall curve, each wave's curve, the rates.
      expect(await page.$$eval('svg', (s) => s.length)).toBeGreaterThanOrEqual(3);
      // The Chinese text is drawn with the page's own font (the machine has no CJK font of its own).
      expect(await page.evaluate(`document.fonts.check('16px "Noto Sans SC"', '礼品')`)).toBe(true);
      expect(await page.evaluate('[...document.fonts].map((f) => f.status)')).toEqual(['loaded']);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('says which campaign is unknown, with exit code 3', async () => {
    const run = await runCli(['report', 'no-such-campaign'], { DATABASE_URL: db.url });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('no campaign called no-such-campaign');
  });
});
