// A wave slower than its heartbeat: a batch at 2 messages a second takes longer than the
// heartbeat timeout to reach its 100th message. Nothing crashes, and still every member must get
// exactly one message. Real Temporal, PostgreSQL and SMTP server.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflowInput } from '../../client/api.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { emailCampaign, emailDeps, messagesAt, seedEmailCustomers } from '../helpers/email-campaign.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

const CUSTOMERS = 30;

describe('a rate limit slower than the heartbeat (real Temporal, PostgreSQL and SMTP server)', () => {
  let db: TestDatabase;
  let sink: SmtpSink | undefined;
  let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
  const target = testTarget();
  const dir = tempDir('mailroom-slow-rate-');
  const outbox = join(dir, 'outbox');

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(outbox, { port: await anyFreePort() });
    await seedEmailCustomers(db.sql, 'S', CUSTOMERS);
    worker = await startTestWorker(db.url, target, emailDeps(sink));
  });

  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await db?.drop();
  });

  // A batch that beat only every 100th message was timed out while still sending, and its retry
  // sent again what the first attempt was still sending. Batches now beat on a timer and per message.
  it('sends each member exactly one message although one batch takes longer than the heartbeat timeout', async () => {
    const { campaign, campaignId } = await emailCampaign(db.sql, dir, 'slow-rate-test', 'S', {
      waveOptions: 'rate_limit: 2',
    });
    const handle = await worker!.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-slow-rate-test-${Date.now()}`,
      // One batch of 30 at 2 a second: 15 s, with a heartbeat timeout of 4 s.
      args: [campaignWorkflowInput(campaign, campaignId, { batchSize: 100, concurrency: 1, heartbeatTimeoutMs: 4000 })],
    });
    const result = await handle.result();
    const { files, copies, recipients } = messagesAt(outbox);
    const ledger =
      await db.sql`select status, recovery, count(*)::int as n from deliveries group by 1, 2 order by 1, 2`;
    console.info(
      `slow-rate: ${files.length} messages for ${CUSTOMERS} members; ledger ${JSON.stringify(ledger)}; wave ${JSON.stringify(result.waves[0])}`,
    );
    expect(result.status).toBe('completed');
    expect(copies).toEqual([]);
    expect(files).toHaveLength(CUSTOMERS);
    expect(new Set(recipients).size).toBe(CUSTOMERS);
    expect(result.waves[0]).toMatchObject({ planned: CUSTOMERS, sent: CUSTOMERS, uncertain: 0 });
  }, 110_000);
});
