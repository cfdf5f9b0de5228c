import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { campaignSearchAttributes, campaignWorkflowInput, registerCampaign } from '../../client/api.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import {
  confirmMailingUpdate,
  progressQuery,
  skipWaitSignal,
  type CampaignProgress,
} from '../../workflows/contract.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget, workflowBundle } from '../helpers/temporal.ts';

// The recorded history of this campaign, replayed against the current workflow code: a change that
// would break campaigns already running fails here. Re-record (MAILROOM_RECORD_HISTORY=1) only
// for a change that is safe for running campaigns (README: "Changing the workflow safely").
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'histories', 'whole-campaign.json');

const CAMPAIGN = `
name: whole-campaign
description: Letter, email reminder to non-responders, SMS last call
audience:
  rules: { field: external_id, op: starts_with, value: WC }
  channel: mail
  holdout: 20
response_window: 30d
response_kinds: [purl_visit, qr_scan, order]
budget: 1000
currency: CNY
waves:
  - { name: letter, channel: mail, template: member-postcard, cost_per_piece: 1.50, confirm_within: 7d }
  - { name: reminder, channel: email, template: wealth-reminder-email, after: 7d, to: non-responders, cost_per_piece: 0.01 }
  - { name: last-call, channel: sms, template: wealth-last-call-sms, after: 14d, to: non-responders, cost_per_piece: 0.05 }
`;

async function until(what: string, check: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a whole campaign: letter, email to non-responders, SMS last call (real Temporal, PostgreSQL, SMTP, twilio SDK)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let sandbox: TwilioSandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-whole-');

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort(), lookupPort: await anyFreePort() });
    sandbox = await startTwilioSandbox(join(dir, 'sms'), { port: await anyFreePort(), callbackDelayMs: 10 });
    const sql = db.sql;
    await sql`insert into customers (external_id, full_name, family_name, gender, email, phone, address_line1, city, postal_code, timezone)
      select 'WC' || i, '客户' || i, '张', case when i % 2 = 0 then 'female' else 'male' end, 'wc' || i || '@example.com',
             '+86138' || lpad(i::text, 8, '0'), '人民路' || i || '号', '上海市', (200000 + i)::text, 'UTC'
      from generate_series(1, 40) i`;
    await sql`insert into consents (customer_id, channel, status, source) select id, ch, 'granted', 't' from customers, unnest(array['email', 'sms']) ch`;
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
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
  });
  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await sandbox?.close();
    await db?.drop();
  });

  it('prints the letters, waits for the posting, reminds only non-responders, and feeds the results back', async () => {
    const file = join(dir, 'whole-campaign.yaml');
    writeFileSync(file, CAMPAIGN);
    const campaign = loadCampaign(file);
    const campaignId = await registerCampaign(db.sql, campaign);
    const workflowId = `campaign-whole-campaign-${Date.now()}`;
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId,
      searchAttributes: campaignSearchAttributes('whole-campaign'),
      args: [campaignWorkflowInput(campaign, campaignId, { batchSize: 10, concurrency: 2 })],
    });
    const progress = () => handle.query(progressQuery);

    // The letter wave becomes a print job and waits for the operator.
    await until(
      'the letters to be printed',
      async () => (await progress()).waves[0]!.status === 'awaiting_confirmation',
    );
    const printed = (await progress()).waves[0]!;
    const contactable = (await progress()).contactable;
    expect(printed).toMatchObject({ planned: contactable, sent: 0 });
    const jobDir = join(dir, 'print', 'whole-campaign', 'letter');
    const job = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { pieces: number };
    expect(job.pieces).toBe(contactable);
    expect(readFileSync(join(jobDir, 'manifest.csv'), 'utf8').trim().split('\n')).toHaveLength(contactable + 1);
    expect(
      (await db.sql`select count(*)::int as n from deliveries where wave = 'letter' and status = 'printed'`)[0]!.n,
    ).toBe(contactable);

    // A wrong wave or date is refused without touching the campaign; the right one is recorded.
    const refused = (wave: string, date?: string) =>
      handle.executeUpdate(confirmMailingUpdate, { args: [{ wave, ...(date ? { date } : {}) }] }).then(
        () => 'accepted',
        (e: Error & { cause?: Error }) => e.cause?.message,
      );
    expect(await refused('reminder')).toMatch(/reminder is a email wave; only mail waves are confirmed/);
    expect(await refused('letter', '1 Dec')).toMatch(/posting date must be YYYY-MM-DD/);
    expect(await refused('parcel')).toMatch(/no wave parcel/);
    // The posting date cannot precede the printing: the day the letters were printed.
    const today = new Date().toISOString().slice(0, 10);
    const mailed = await handle.executeUpdate(confirmMailingUpdate, { args: [{ wave: 'letter', date: today }] });
    expect(mailed).toMatchObject({ status: 'mailed', sent: contactable, mailedOn: today });
    expect(
      await db.sql`select distinct status, to_char(sent_at, 'YYYY-MM-DD') as day from deliveries where wave = 'letter'`,
    ).toEqual([{ status: 'sent', day: today }]);

    // Five letter recipients respond (PURL visit); one held-out member orders anyway.
    const responders = await db.sql<
      { customer_id: number; id: number }[]
    >`select customer_id, id from deliveries where wave = 'letter' order by customer_id limit 5`;
    for (const r of responders) {
      await db.sql`insert into responses (campaign_id, customer_id, delivery_id, kind, source, dedupe_key, occurred_at)
                   values (${campaignId}, ${r.customer_id}, ${r.id}, 'purl_visit', 'test', ${`t:${r.id}`}, now())`;
    }
    const [held] = await db.sql<
      { customer_id: number }[]
    >`select customer_id from campaign_members where campaign_id = ${campaignId} and holdout order by customer_id limit 1`;
    await db.sql`insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at) values (${campaignId}, ${held!.customer_id}, 'order', 'test', 'holdout-order', now())`;

    // The 7-day and 14-day waits and the 30-day response window, cut short.
    for (const status of ['reminder', 'last-call', 'window']) {
      await until(`the ${status} wait`, async () => {
        const p = await progress().catch(() => undefined);
        return status === 'window'
          ? p?.status === 'response_window'
          : p?.waves.find((w) => w.name === status)?.status === 'waiting';
      });
      await handle.signal(skipWaitSignal);
    }
    const result: CampaignProgress = await handle.result();
    const nonResponders = contactable - responders.length;
    expect(result.status).toBe('completed');
    expect(result.waves.map((w) => [w.name, w.status, w.planned, w.sent])).toEqual([
      ['letter', 'mailed', contactable, contactable],
      ['reminder', 'done', nonResponders, nonResponders],
      ['last-call', 'done', nonResponders, nonResponders],
    ]);
    // Responders got neither the email nor the SMS.
    const responderEmails = (
      await db.sql<
        { email: string }[]
      >`select email from customers where id = any(${responders.map((r) => r.customer_id)}::bigint[])`
    ).map((r) => r.email);
    const eml = readdirSync(join(dir, 'outbox')).map((f) => readFileSync(join(dir, 'outbox', f), 'utf8'));
    expect(eml).toHaveLength(nonResponders);
    for (const e of responderEmails) expect(eml.some((m) => m.includes(e))).toBe(false);
    expect(sandbox.messages.size).toBe(nonResponders);

    // The summary and the feedback on each customer's record.
    expect(result.summary).toMatchObject({
      currency: 'CNY',
      budget: 1000,
      contacted: contactable,
      responders: 5,
      holdout: 40 - contactable,
      holdout_responders: 1,
      cost: (contactable * 150 + nonResponders * 1 + nonResponders * 5) / 100,
    });
    const [contacted] =
      await db.sql`select contact_count, response_count from customers where id = ${responders[0]!.customer_id}`;
    expect(contacted).toEqual({ contact_count: 1, response_count: 1 });
    const [reminded] =
      await db.sql`select c.contact_count, c.response_count, c.last_contacted_at is not null as stamped from customers c
      where c.id = (select customer_id from deliveries where wave = 'last-call' order by customer_id limit 1)`;
    expect(reminded).toEqual({ contact_count: 3, response_count: 0, stamped: true });
    expect(
      (await db.sql`select status, summary is not null as summarised from campaigns where id = ${campaignId}`)[0],
    ).toEqual({ status: 'completed', summarised: true });

    // Each wave started a fresh run: the chain carries counts and ranges only.
    const runs = [];
    for await (const run of worker.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    expect(runs.length).toBe(3);
    const histories = await Promise.all(
      runs.map(async (r) => ({
        workflowId,
        runId: r.runId,
        startTime: r.startTime.getTime(),
        history: await worker.client.workflow.getHandle(workflowId, r.runId).fetchHistory(),
      })),
    );
    const encoded = histories.map((h) => Buffer.from(temporal.api.history.v1.History.encode(h.history).finish()));
    // Payloads are JSON inside the binary history: personal data would show as plain text.
    const plain = encoded.map((b) => b.toString('utf8')).join('\n');
    expect(plain).toContain('"contactable"');
    expect(plain).not.toMatch(/@example\.com|\+86138|客户|人民路/);

    if (process.env.MAILROOM_RECORD_HISTORY === '1') {
      mkdirSync(join(FIXTURE, '..'), { recursive: true });
      const order = histories
        .map((h, i) => ({ startTime: h.startTime, history: encoded[i]!.toString('base64') }))
        .sort((a, b) => a.startTime - b.startTime);
      writeFileSync(
        FIXTURE,
        `${JSON.stringify(
          order.map((h) => ({ workflowId: 'campaign-whole-campaign', history: h.history })),
          null,
          1,
        )}\n`,
      );
    }
  }, 150_000);

  it('replays the recorded history of this campaign on the current workflow code', async () => {
    expect(existsSync(FIXTURE), `${FIXTURE} is missing: record it with MAILROOM_RECORD_HISTORY=1`).toBe(true);
    const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { workflowId: string; history: string }[];
    expect(recorded.length).toBe(3);
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      recorded.map((r) => ({
        workflowId: r.workflowId,
        history: temporal.api.history.v1.History.decode(Buffer.from(r.history, 'base64')),
      })),
    );
    let replayed = 0;
    for await (const result of results) {
      expect(result.error).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(3);
  }, 60_000);
});
