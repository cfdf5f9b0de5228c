// A step that fails for a reason the user must fix stops the campaign in a visible state instead of
// retrying for ever; resuming after the fix completes it, each member sent once.
import { cpSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { progressQuery, resumeSignal, type CampaignProgress } from '../../workflows/contract.ts';
import { campaignWorkflowInput } from '../../activities/campaign-start.ts';
import { SHIPPED_TEMPLATES } from '../../pipeline/render/templates.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { emailCampaign, emailDeps, messagesAt, seedEmailCustomers } from '../helpers/email-campaign.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

async function until(
  read: () => Promise<CampaignProgress>,
  ok: (p: CampaignProgress) => boolean,
  ms = 30_000,
): Promise<CampaignProgress> {
  const end = Date.now() + ms;
  let p = await read();
  while (!ok(p) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    p = await read();
  }
  return p;
}

describe('a campaign whose step needs the user (real Temporal, PostgreSQL and SMTP server)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-attention-');

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort() });
    worker = await startTestWorker(db.url, target, emailDeps(sink));
  });
  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('stops in needs_attention with the message when the template is missing on the worker, and completes once it is back and resumed', async () => {
    await seedEmailCustomers(db.sql, 'NA', 12);
    // The campaign's own copy of the template, beside its file: it goes missing after the launch.
    const template = join(dir, 'templates', 'attention-email');
    mkdirSync(join(dir, 'templates'), { recursive: true });
    cpSync(join(SHIPPED_TEMPLATES, 'wealth-reminder-email'), template, { recursive: true });
    const { campaign, campaignId } = await emailCampaign(db.sql, dir, 'attention', 'NA', {
      template: 'attention-email',
    });
    renameSync(template, `${template}.away`);

    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: `campaign-attention-${Date.now()}`,
      args: [{ ...campaignWorkflowInput(campaign, campaignId), batchSize: 5 }],
    });
    const stuck = await until(
      () => handle.query(progressQuery),
      (p) => p.status === 'needs_attention',
    );
    expect(stuck.status).toBe('needs_attention');
    expect(stuck.attention?.step).toBe('sendWaveBatch');
    expect(stuck.attention?.message).toContain('attention-email');
    expect(stuck.attention?.message).toContain('no template.yaml there');
    // Not retried behind the user's back: the state holds, and nothing went out.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await handle.query(progressQuery)).status).toBe('needs_attention');
    expect(messagesAt(sink.outbox).files).toHaveLength(0);
    const visible = await handle.describe();
    expect(visible.searchAttributes.MailroomStatus).toEqual(['needs_attention']);

    renameSync(`${template}.away`, template);
    await handle.signal(resumeSignal);
    const final = (await handle.result()) as CampaignProgress;
    expect(final.status).toBe('completed');
    expect(final.attention).toBeUndefined();
    expect(final.waves[0]).toMatchObject({ status: 'done', sent: 12, failed: 0 });
    const { recipients } = messagesAt(sink.outbox);
    expect(recipients).toHaveLength(12);
    expect(new Set(recipients).size).toBe(12);
  });
});
