// The SMTP server goes away in the middle of a wave and comes back a few seconds later on the
// same port: the batches fail while it is down (a refused connection leaves nothing pending),
// Temporal retries them, and once the server is back the campaign completes with exactly one
// message per member. Real Temporal, PostgreSQL and SMTP server.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflowInput } from '../../client/api.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { progressQuery } from '../../workflows/contract.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import {
  emailCampaign,
  emailDeps,
  memberAddresses,
  messagesAt,
  seedEmailCustomers,
} from '../helpers/email-campaign.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

const CUSTOMERS = 1500;
const OUTAGE_MS = 6000;

describe('the SMTP server down for a while (real Temporal, PostgreSQL and SMTP server)', () => {
  let db: TestDatabase;
  let sink: SmtpSink | undefined;
  let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
  const target = testTarget();
  const dir = tempDir('mailroom-smtp-down-');
  const outbox = join(dir, 'outbox');
  let ports: { port: number; lookupPort: number };
  const atServer = () => messagesAt(outbox).files.length;

  beforeAll(async () => {
    db = await createTestDatabase();
    ports = { port: await anyFreePort(), lookupPort: await anyFreePort() };
    sink = await startSmtpSink(outbox, ports);
    await seedEmailCustomers(db.sql, 'D', CUSTOMERS);
    worker = await startTestWorker(db.url, target, emailDeps(sink));
  });

  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('retries the batches while the server is down and completes with exactly one message per member once it is back', async () => {
    const { campaign, campaignId } = await emailCampaign(db.sql, dir, 'smtp-down-test', 'D', {
      holdout: 10,
      waveOptions: 'rate_limit: 100',
    });
    const handle = await worker!.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-smtp-down-test-${Date.now()}`,
      args: [
        campaignWorkflowInput(campaign, campaignId, { batchSize: 300, concurrency: 3, heartbeatTimeoutMs: 10_000 }),
      ],
    });

    const deadline = Date.now() + 60_000;
    while (atServer() < 250) {
      if (Date.now() > deadline) throw new Error(`only ${atServer()} messages after a minute`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await sink!.close();
    sink = undefined;
    const atClose = atServer();
    const downSince = Date.now();

    // While it is down: the campaign keeps running, its batches fail and are tried again.
    let attempts = 0;
    const failures = new Set<string>();
    while (Date.now() - downSince < OUTAGE_MS) {
      const { raw, status } = await handle.describe();
      expect(status.name).toBe('RUNNING');
      for (const a of raw.pendingActivities ?? []) {
        attempts = Math.max(attempts, a.attempt ?? 0);
        if (a.lastFailure?.message) failures.add(a.lastFailure.message);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const pendingDuringOutage = (
      await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'pending'`
    )[0]!.n;
    const members = await memberAddresses(db.sql, campaignId);
    const contactable = members.contactable.size;
    expect(atClose).toBeLessThan(contactable / 2);
    expect(atServer()).toBe(atClose);
    expect((await handle.query(progressQuery)).waves[0]!.status).toBe('sending');
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect([...failures].join('\n')).toMatch(/ECONNREFUSED|connect/);

    sink = await startSmtpSink(outbox, ports);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.contactable).toBe(contactable);
    expect(members.holdout.size).toBeGreaterThan(0);

    // Exactly one message per contactable member at the server, none to the holdout.
    const { files, copies, recipients } = messagesAt(outbox);
    expect(copies).toEqual([]);
    expect(files).toHaveLength(contactable);
    expect(new Set(recipients)).toEqual(members.contactable);

    const ledger = await db.sql<{ status: string; recovery: string | null; n: number }[]>`
      select status, recovery, count(*)::int as n from deliveries where campaign_id = ${campaignId} group by 1, 2 order by 1, 2`;
    expect(ledger.filter((r) => r.status !== 'sent')).toEqual([]);
    expect(ledger.reduce((a, r) => a + r.n, 0)).toBe(contactable);
    const wave = result.waves[0]!;
    expect(wave).toMatchObject({ status: 'done', planned: contactable, failed: 0 });
    console.info(
      `smtp-down: ${atClose}/${contactable} messages before the server went down for ${OUTAGE_MS} ms; up to attempt ${attempts} of a batch meanwhile; ` +
        `${pendingDuringOutage} rows pending during the outage; ledger ${JSON.stringify(ledger)}; wave progress ${JSON.stringify(wave)}`,
    );
  }, 110_000);
});
