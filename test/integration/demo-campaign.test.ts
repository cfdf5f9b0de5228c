// The demo's campaign (what `npm run demo` runs after seeding): the sample campaign end to end on
// seeded customers — real Temporal, PostgreSQL, SMTP sink and twilio sandbox — with the call
// outcomes, branch visits and offline imports simulated through the functions people's pages,
// sheets and imports use, and the report at the end.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign, loadCampaignText } from '../../pipeline/campaign/campaign-file.ts';
import { runDemoCampaign } from '../../client/demo-campaign.ts';
import { writeProofs } from '../../pipeline/render/proof.ts';
import { runSeed } from '../../dev/seed/run-seed.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/wealth-month.yaml', import.meta.url));

describe('the demo campaign', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let sandbox: TwilioSandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-demo-');

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort(), lookupPort: await anyFreePort() });
    sandbox = await startTwilioSandbox(join(dir, 'sms'), { port: await anyFreePort(), callbackDelayMs: 10 });
    await runSeed(db.sql, { customers: 2500, seed: 42 });
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'http://127.0.0.1:9',
      from: 'Mailroom <m@example.com>',
      printDir: join(dir, 'print'),
      smtpUrl: sink.url,
      smtpLookupUrl: sink.lookupUrl,
      twilio: {
        accountSid: sandbox.accountSid,
        authToken: sandbox.authToken,
        sandboxUrl: sandbox.url,
        from: '+15005550006',
      },
    });
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await sandbox?.close();
    await db?.drop();
  });

  it('runs the bank month: letter, calls, visits with gifts, email and SMS, goals, offline imports, the report', async () => {
    const sample = loadCampaign(EXAMPLE);
    // Quiet hours would hold the SMS whenever the test runs at night in China (13:00–24:00 UTC): not
    // this test's subject. The worker reads the stored file, so the line goes from the file's text.
    const withoutQuietHours = sample.source.text.replace(/^[ \t]*quiet_hours:.*\n/m, '');
    expect(withoutQuietHours).not.toBe(sample.source.text);
    const campaign = loadCampaignText(sample.file, withoutQuietHours);
    expect(campaign.waves.some((w) => w.quiet_hours)).toBe(false);
    const lines: string[] = [];
    const now = new Date();
    // The proofs the demo writes first: every wave, the call script with the customer's own manager.
    const [top] = await db.sql<{ id: number; manager: string }[]>`
      select id, attributes ->> 'account_manager' as manager from customers
      where country = 'CN' and attributes ? 'account_manager' order by (attributes ->> 'financial_assets')::numeric desc limit 1`;
    const [proof] = await writeProofs(db.sql, sample, {
      out: join(dir, 'proofs'),
      customerIds: [top!.id],
      asOf: now,
      secret: 's',
      trackingUrl: 'http://127.0.0.1:9',
      from: 'm@example.com',
    });
    expect(
      proof!.files.map((f) =>
        f
          .split('/')
          .at(-1)!
          .replace(/\.png$/, '.pdf'),
      ),
    ).toEqual(expect.arrayContaining(['letter.pdf', 'email.eml', 'sms.txt', 'call-script.txt']));
    const script = readFileSync(
      proof!.files.find((f) => f.endsWith('call-script.txt'))!,
      'utf8',
    );
    expect(script).toContain(`专属客户经理${top!.manager}`);
    expect(script).toMatch(/outcomes: 已预约到访/);
    const run = await runDemoCampaign(db.sql, worker.client, campaign, {
      asOf: now,
      now,
      secret: 's',
      trackingUrl: 'http://127.0.0.1:9',
      taskQueue: target.taskQueue,
      dir,
      say: (line) => lines.push(line),
    });
    const said = lines.join('\n');
    const sql = db.sql;
    const [c] = await sql<{ id: number }[]>`select id from campaigns where slug = ${run.slug}`;
    const id = c!.id;

    expect(run.heldForQuietHours).toBe(false);
    expect(run.final.status).toBe('completed');
    expect(run.final.waves.map((w) => [w.name, w.status])).toEqual([
      ['letter', 'mailed'],
      ['calls', 'done'],
      ['reminder', 'done'],
      ['last-call', 'done'],
    ]);

    // Calls: every task ended through recordCallOutcome (reached, or failed after its attempts).
    const tasks = await sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from call_tasks where campaign_id = ${id} group by 1`;
    expect(tasks.filter((t) => t.status === 'open' || t.status === 'overdue')).toEqual([]);
    const calls = run.final.waves.find((w) => w.name === 'calls')!;
    expect(calls.calls).toMatchObject({ settled: calls.planned, open: 0, overdue: 0 });
    expect(calls.calls!.reached + calls.calls!.failed).toBe(calls.planned);
    const [outcomes] = await sql<{ n: number; retried: number; appointments: number }[]>`
      select count(*)::int as n, count(*) filter (where o.attempt > 1)::int as retried,
             count(*) filter (where o.outcome = 'appointment')::int as appointments
      from call_outcomes o join call_tasks t on t.id = o.task_id where t.campaign_id = ${id} and o.source = 'demo'`;
    expect(outcomes!.n).toBeGreaterThan(calls.planned);
    expect(outcomes!.retried).toBeGreaterThan(0);
    expect(calls.calls!.appointments).toBe(outcomes!.appointments);

    // Visits: one per customer, gifts within stock, none for the holdout, and what the demo said.
    const visits = await sql<{ holdout: boolean; offer: string | null }[]>`
      select m.holdout, r.details -> 'gift' ->> 'offer' as offer
      from responses r join campaign_members m on m.campaign_id = r.campaign_id and m.customer_id = r.customer_id
      where r.campaign_id = ${id} and r.kind = 'branch_visit' and r.source = 'visit'`;
    expect(said).toContain(
      `registered ${visits.length} visits (${visits.filter((v) => v.holdout).length} of them held-out`,
    );
    expect(visits.some((v) => v.holdout)).toBe(true);
    expect(visits.filter((v) => v.holdout).every((v) => v.offer === null)).toBe(true);
    const stock = await sql<{ offer: string; stock: number; used: number }[]>`
      select offer, stock, used from offer_stock where campaign_id = ${id} order by offer`;
    expect(stock.map((s) => s.offer)).toEqual(['gift-appliance', 'gift-oil']);
    for (const s of stock) {
      expect(s.used).toBeLessThanOrEqual(s.stock);
      expect(s.used).toBe(visits.filter((v) => v.offer === s.offer).length);
    }
    // Goal progress and gift stock as the demo printed them.
    expect(said).toMatch(/Goal contact every member: \d+ of \d+ by \d{4}-\d{2}-\d{2}/);
    expect(said).toContain(`Goal 160 branch_visit: ${visits.filter((v) => !v.holdout).length} of 160`);
    expect(said).toMatch(/gift-appliance\s+\S+\s+60\s+\d+\s+\d+\s+[\d.]+/);
    expect(run.final.fallback?.checked).toBeDefined();

    // Offline responses and orders came in through the imports, orders of held-out customers among them.
    const imports = await sql<{ kind: string }[]>`select kind from imports where kind in ('orders', 'responses')`;
    expect(imports.map((i) => i.kind).sort()).toEqual(['orders', 'responses']);
    const [holdoutOrders] = await sql<{ n: number }[]>`
      select count(*)::int as n from orders o
      join campaign_members m on m.customer_id = o.customer_id and m.campaign_id = ${id} and m.holdout`;
    expect(holdoutOrders!.n).toBeGreaterThan(0);
    expect(said).toMatch(/imported the counter's coupon redemptions: \d+ matched .*, 1 unmatched/);

    // The marketing email went out through SMTP as MJML made it, with its plain-text part.
    const emails = readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.eml'));
    expect(emails.length).toBe(run.final.waves.find((w) => w.name === 'reminder')!.sent);
    const eml = readFileSync(join(dir, 'outbox', emails[0]!), 'utf8');
    expect(eml).toMatch(/multipart\/alternative/);
    expect(eml).toMatch(/Content-Type: text\/plain/);
    expect(eml).toMatch(/mj-column-per-100/);

    // The report: rates with intervals for both groups, and the page.
    expect(run.report.treatment.n).toBeGreaterThan(0);
    expect(run.report.holdout.n).toBeGreaterThan(0);
    expect(run.report.treatment.ci95![0]).toBeLessThan(run.report.treatment.rate!);
    expect(existsSync(run.page)).toBe(true);
    expect(readFileSync(run.page, 'utf8')).toContain('<svg');
  }, 600_000);
});
