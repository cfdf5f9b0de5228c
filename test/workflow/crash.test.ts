// A worker process killed outright in the middle of a wave, and another one started: the batches it
// was running go to the new worker after the heartbeat timeout, the rows it left 'pending' are
// settled by asking the SMTP server's message lookup, and every member ends up with exactly one
// message at the server. Everything is real: Temporal, PostgreSQL, the SMTP server, the worker.
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { campaignWorkflowInput } from '../../client/api.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { progressQuery, type WaveProgress } from '../../workflows/contract.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { emailCampaign, memberAddresses, messagesAt, seedEmailCustomers } from '../helpers/email-campaign.ts';
import { testTarget } from '../helpers/temporal.ts';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const CUSTOMERS = 3000;

describe('a worker process killed mid-wave (real Temporal, PostgreSQL, SMTP server and worker processes)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let connection: Connection;
  const workers: WorkerProcess[] = [];
  const target = testTarget();
  const dir = tempDir('mailroom-crash-');
  const outbox = join(dir, 'outbox');
  let outcome: { contactable: number; wave: WaveProgress } | undefined;

  const worker = () => {
    const w = spawnWorker({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
      SMTP_URL: sink.url,
      SMTP_LOOKUP_URL: sink.lookupUrl,
      MAILROOM_SECRET: 'crash-test-secret',
      MAILROOM_HOME: join(dir, 'home'),
    });
    workers.push(w);
    return w;
  };
  const atServer = () => messagesAt(outbox).files.length;

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(outbox, { port: await anyFreePort() });
    await seedEmailCustomers(db.sql, 'K', CUSTOMERS);
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });

  afterAll(async () => {
    // Also when the test failed half-way: no worker process outlives the file.
    for (const w of workers) await w.kill('SIGKILL');
    await connection?.close();
    await sink?.close();
    await db?.drop();
  });

  it('every contactable member receives exactly one message, none the holdout; interrupted sends are settled, not repeated', async () => {
    // 100 messages a second per batch, three lanes: the wave takes ten seconds or so.
    const { campaign, campaignId } = await emailCampaign(db.sql, dir, 'crash-test', 'K', {
      holdout: 10,
      waveOptions: 'rate_limit: 100',
    });
    const client = new Client({ connection, namespace: target.namespace });
    const first = worker();
    await first.ready;
    const handle = await client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-crash-test-${Date.now()}`,
      args: [campaignWorkflowInput(campaign, campaignId, { batchSize: 500, concurrency: 3, heartbeatTimeoutMs: 5000 })],
    });

    // Some but far from all messages are at the server: kill the worker without warning.
    expect((await handle.query(progressQuery)).status).toMatch(/snapshot|running/);
    const deadline = Date.now() + 60_000;
    while (atServer() < 600) {
      if (Date.now() > deadline) throw new Error(`only ${atServer()} messages after a minute:\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.kill('SIGKILL');
    const atKill = atServer();
    // (No query now: a workflow without a worker answers none.)
    const members = await memberAddresses(db.sql, campaignId);
    const contactable = members.contactable.size;
    expect(contactable).toBeGreaterThan(2 * atKill);
    const pendingAtKill = (
      await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'pending'`
    )[0]!.n;
    // Dead is dead: nothing more reaches the server until another worker runs.
    await new Promise((r) => setTimeout(r, 1000));
    expect(atServer()).toBe(atKill);

    const second = worker();
    await second.ready;
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result).toMatchObject({ members: CUSTOMERS, contactable });
    expect(members.holdout.size).toBeGreaterThan(0);

    // Exactly one message per contactable member at the SMTP server: no Message-ID twice (a second
    // copy would be <id>.2.eml), no recipient twice, no one held out.
    const { files, copies, recipients } = messagesAt(outbox);
    expect(copies).toEqual([]);
    expect(files).toHaveLength(contactable);
    expect(new Set(recipients)).toEqual(members.contactable);

    // The ledger: one 'sent' row per contactable member, each naming the file the server kept.
    const ledger = await db.sql<{ id: number; status: string; recovery: string | null }[]>`
      select id, status, recovery from deliveries where campaign_id = ${campaignId}`;
    expect(ledger).toHaveLength(contactable);
    expect(ledger.filter((d) => d.status !== 'sent')).toEqual([]);
    expect(new Set(files)).toEqual(new Set(ledger.map((d) => `d${d.id}.crash-test@mailroom.eml`)));

    // The crash left rows pending; the retried batches settled each of them and counted it.
    const found = ledger.filter((d) => d.recovery === 'found').length;
    const resent = ledger.filter((d) => d.recovery === 'resent').length;
    const wave = result.waves[0]!;
    console.info(
      `crash: ${atKill}/${contactable} messages at the server when the worker was killed, ${pendingAtKill} rows pending; settled after the crash: ${found} found, ${resent} resent; wave progress ${JSON.stringify(wave)}`,
    );
    expect(found + resent).toBe(pendingAtKill);
    // What a kill can leave pending: the messages in flight, at most 32 per batch running (three lanes).
    expect(pendingAtKill).toBeLessThanOrEqual(3 * 32);
    expect(wave.uncertain).toBe(pendingAtKill);
    expect(wave).toMatchObject({ status: 'done', planned: contactable, failed: 0, deferred: 0 });
    outcome = { contactable, wave };
  }, 110_000);

  // A retried batch reports its range's standing in the ledger, so the messages the killed attempt
  // sent are counted too, once.
  it("counts the messages sent before the crash in the wave's progress", () => {
    expect(outcome, 'the crash run above failed').toBeDefined();
    expect(outcome!.wave.sent).toBe(outcome!.contactable);
  });

  // The drill that once left 43 rows pending: the worker killed, another one started, and that one
  // killed as soon as the retried batches have begun settling what the first left. Each kill leaves
  // at most the messages in flight pending (32 per batch, three batches at once), and in the end
  // every member has exactly one message.
  it('killed again just after the retried batches restarted: each kill leaves at most the messages in flight pending', async () => {
    for (const w of workers) await w.kill('SIGKILL'); // the run above is over
    const slug = 'crash-twice';
    const { campaign, campaignId } = await emailCampaign(db.sql, dir, slug, 'K', {
      holdout: 10,
      waveOptions: 'rate_limit: 100',
    });
    const client = new Client({ connection, namespace: target.namespace });
    const mine = () => messagesAt(outbox).files.filter((f) => f.includes(`.${slug}@mailroom`));
    const pending = async () =>
      (
        await db.sql<{ n: number }[]>`
          select count(*)::int as n from deliveries where campaign_id = ${campaignId} and status = 'pending'`
      )[0]!.n;
    const until = async (what: string, done: () => Promise<boolean> | boolean, w: WorkerProcess) => {
      const deadline = Date.now() + 60_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`${what}: not within a minute:\n${w.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const first = worker();
    await first.ready;
    const handle = await client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-crash-twice-${Date.now()}`,
      args: [campaignWorkflowInput(campaign, campaignId, { batchSize: 500, concurrency: 3, heartbeatTimeoutMs: 5000 })],
    });
    await until('600 messages at the server', () => mine().length >= 600, first);
    await first.kill('SIGKILL');
    const pendingAtFirstKill = await pending();
    const second = worker();
    await second.ready;
    // The retried batches have begun: the first rows the dead worker left pending are settled.
    await until(
      'the retried batches settling the rows left pending',
      async () =>
        (
          await db.sql<{ n: number }[]>`
            select count(*)::int as n from deliveries where campaign_id = ${campaignId} and recovery is not null`
        )[0]!.n > 0,
      second,
    );
    await second.kill('SIGKILL');
    const pendingAtSecondKill = await pending();
    const third = worker();
    await third.ready;
    const result = await handle.result();
    expect(result.status).toBe('completed');

    const members = await memberAddresses(db.sql, campaignId);
    const files = mine();
    const ledger = await db.sql<{ id: number; status: string }[]>`
      select id, status from deliveries where campaign_id = ${campaignId}`;
    console.info(
      `crash twice: ${pendingAtFirstKill} rows pending at the first kill, ${pendingAtSecondKill} at the second; ${files.length} messages for ${members.contactable.size} members`,
    );
    expect(pendingAtFirstKill).toBeLessThanOrEqual(3 * 32);
    expect(pendingAtSecondKill).toBeLessThanOrEqual(3 * 32);
    expect(files.filter((f) => /\.\d+\.eml$/.test(f))).toEqual([]);
    expect(ledger).toHaveLength(members.contactable.size);
    expect(ledger.filter((d) => d.status !== 'sent')).toEqual([]);
    expect(new Set(files)).toEqual(new Set(ledger.map((d) => `d${d.id}.${slug}@mailroom.eml`)));
  }, 150_000);
});
