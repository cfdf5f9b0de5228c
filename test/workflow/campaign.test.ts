import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal, skipWaitSignal } from '../../workflows/contract.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

describe('the campaign workflow (real Temporal, PostgreSQL and SMTP server)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-campaign-');
  let campaignId: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort() });
    const sql = db.sql;
    for (let i = 1; i <= 30; i++) {
      await sql`insert into customers (external_id, full_name, family_name, gender, email, address_line1, city, postal_code)
                values (${`W${i}`}, ${`王${i}`}, '王', 'male', ${`w${i}@example.com`}, '路1号', '北京市', ${String(100000 + i)})`;
    }
    await sql`insert into consents (customer_id, channel, status, source) select id, 'email', 'granted', 't' from customers`;
    const file = join(dir, 'campaign.yaml');
    const text = [
      'name: workflow-test',
      'audience: { rules: { field: external_id, op: starts_with, value: W }, channel: email, holdout: 10 }',
      'waves:',
      '  - { name: hello, channel: email, template: wealth-reminder-email }',
      '  - { name: again, channel: email, template: wealth-reminder-email, after: 1d }',
      '  - { name: rolled, channel: email, template: wealth-reminder-email }',
      '  - { name: slow, channel: email, template: wealth-reminder-email, rate_limit: 4 }',
    ].join('\n');
    writeFileSync(file, text);
    const [c] = await sql<
      { id: number }[]
    >`insert into campaigns (slug, name, spec, workflow_id) values ('workflow-test', 'W', ${sql.json({ file, text })}, 'campaign-workflow-test') returning id`;
    campaignId = c!.id;
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
      smtpUrl: sink.url,
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('snapshots, sends each wave once per member in batches, waits durably, and obeys pause, resume and skip-wait', async () => {
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-workflow-test-${Date.now()}`,
      args: [
        {
          campaignId,
          slug: 'workflow-test',
          batchSize: 7,
          concurrency: 2,
          waves: [
            { name: 'hello', channel: 'email', afterMs: 0 },
            { name: 'again', channel: 'email', afterMs: 86_400_000 },
          ],
        },
      ],
    });
    // The second wave waits a day; the wait is a durable timer, cut short by a signal.
    let progress = await handle.query(progressQuery);
    for (let i = 0; i < 200 && progress.waves[0]!.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      progress = await handle.query(progressQuery);
    }
    expect(progress.waves.map((w) => w.status)).toEqual(['done', 'waiting']);
    await handle.signal(pauseSignal);
    expect((await handle.query(progressQuery)).status).toBe('paused');
    await handle.signal(skipWaitSignal);
    await new Promise((r) => setTimeout(r, 500));
    // Paused: the second wave's batches do not start.
    expect((await handle.query(progressQuery)).waves[1]!.sent).toBe(0);
    await handle.signal(resumeSignal);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.members).toBe(30);
    expect(result.contactable + result.holdout).toBe(30);
    for (const w of result.waves)
      expect(w).toMatchObject({
        status: 'done',
        planned: result.contactable,
        sent: result.contactable,
        failed: 0,
        uncertain: 0,
      });
    // Exactly one message per contactable member per wave at the SMTP server.
    const files = readdirSync(join(dir, 'outbox'));
    expect(files).toHaveLength(2 * result.contactable);
    const recipients = files.map(
      (f) => /^To: .*<(w\d+@example\.com)>/m.exec(readFileSync(join(dir, 'outbox', f), 'utf8'))![1],
    );
    expect(new Set(recipients).size).toBe(result.contactable);
    const held = await db.sql<
      { email: string }[]
    >`select c.email from campaign_members m join customers c on c.id = m.customer_id where m.campaign_id = ${campaignId} and m.holdout`;
    for (const h of held) expect(recipients).not.toContain(h.email);
    // No personal data in the workflow's history.
    const history = JSON.stringify(await handle.fetchHistory());
    const decoded = [...history.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)]
      .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
      .join('\n');
    expect(decoded).toContain('"contactable"');
    expect(decoded).not.toMatch(/@example\.com|王\d/);
  }, 120_000);

  it('continues as new in the middle of a long wave and still sends each member exactly once', async () => {
    const before = readdirSync(join(dir, 'outbox')).length;
    const workflowId = `campaign-workflow-roll-${Date.now()}`;
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId,
      args: [
        {
          campaignId,
          slug: 'workflow-test',
          batchSize: 4,
          concurrency: 2,
          batchesPerRun: 3,
          waves: [{ name: 'rolled', channel: 'email', afterMs: 0 }],
        },
      ],
    });
    const result = await handle.result();
    expect(result.waves[0]).toMatchObject({
      status: 'done',
      planned: result.contactable,
      sent: result.contactable,
      failed: 0,
    });
    const runs = [];
    for await (const run of worker.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    // About eight ranges of four, three batches per run: the wave spans three runs.
    expect(runs.length).toBe(Math.ceil(Math.ceil(result.contactable / 4) / 3));
    const sent = await db.sql<
      { n: number; people: number }[]
    >`select count(*)::int as n, count(distinct customer_id)::int as people from deliveries where wave = 'rolled' and status = 'sent'`;
    expect(sent[0]).toEqual({ n: result.contactable, people: result.contactable });
    expect(readdirSync(join(dir, 'outbox')).length - before).toBe(result.contactable);
  }, 120_000);

  it('cancels a wave under way: batches stop, later waves never start, and the summary covers what was sent', async () => {
    const rolledCount = async () =>
      (await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where wave = 'rolled'`)[0]!.n;
    const rolledBefore = await rolledCount();
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-workflow-cancel-${Date.now()}`,
      args: [
        {
          campaignId,
          slug: 'workflow-test',
          batchSize: 30,
          concurrency: 1,
          heartbeatTimeoutMs: 3000,
          waves: [
            { name: 'slow', channel: 'email', afterMs: 0 },
            { name: 'rolled', channel: 'email', afterMs: 0 },
          ],
        },
      ],
    });
    // Four a second: the 27 or so members of the one batch take several seconds.
    for (let i = 0; i < 100 && (await handle.query(progressQuery)).status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const sentBefore = async () =>
      (
        await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where wave = 'slow' and status = 'sent'`
      )[0]!.n;
    for (let i = 0; i < 100 && (await sentBefore()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.signal(cancelSignal);
    const result = await handle.result();
    expect(result.status).toBe('cancelled');
    expect(result.waves.map((w) => w.status)).toEqual(['cancelled', 'cancelled']);
    const sent = await sentBefore();
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(sent).toBeLessThan(result.contactable);
    // The batch stopped at its next heartbeat instead of sending its whole range, and the
    // workflow waited for it: nothing more goes out after the campaign says cancelled.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await sentBefore()).toBe(sent);
    expect(result.summary).toMatchObject({ contacted: expect.any(Number) });
    expect(await rolledCount()).toBe(rolledBefore);
  }, 60_000);
});
