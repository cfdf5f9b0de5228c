// `mailroom status` on a campaign whose workflow did not end normally: failed, terminated or timed
// out is shown as such, with its error, and exits 1; one that needs attention exits 5 (real
// Temporal and PostgreSQL, the CLI as a user runs it).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { campaignWorkflowInput, registerCampaign, workflowIdOf } from '../../client/api.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { stackCheckWorkflow } from '../../workflows/index.ts';
import { progressQuery } from '../../workflows/contract.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

describe('mailroom status of a campaign that did not end normally', () => {
  const tag = randomBytes(3).toString('hex');
  let db: TestDatabase;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-status-');
  let env: NodeJS.ProcessEnv;
  let campaignId: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.sql`insert into customers (external_id, full_name, family_name, gender, email)
      select 'SE' || i, '客户' || i, '张', 'female', 'se' || i || '@example.com' from generate_series(1, 3) i`;
    await db.sql`insert into consents (customer_id, channel, status, source) select id, 'email', 'granted', 't' from customers`;
    const file = join(dir, 'status-ended.yaml');
    writeFileSync(
      file,
      [
        'name: status-ended',
        'audience: { rules: { field: external_id, op: starts_with, value: SE }, channel: email }',
        'waves:',
        '  - { name: hello, channel: email, template: wealth-reminder-email, after: 7d }',
      ].join('\n'),
    );
    campaignId = await registerCampaign(db.sql, loadCampaign(file));
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
    });
    env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
    };
  });
  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  const start = async (slug: string, more: { workflowExecutionTimeout?: string; campaignId?: number } = {}) => {
    const campaign = loadCampaign(join(dir, 'status-ended.yaml'));
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: workflowIdOf(slug),
      args: [{ ...campaignWorkflowInput(campaign, more.campaignId ?? campaignId), slug }],
      ...(more.workflowExecutionTimeout ? { workflowExecutionTimeout: more.workflowExecutionTimeout } : {}),
    });
    return handle;
  };

  it('a terminated campaign reads terminated with its reason, exit 1; a running one waiting says until when, exit 0', async () => {
    const slug = `status-term-${tag}`;
    const handle = await start(slug);
    for (let i = 0; i < 100 && (await handle.query(progressQuery)).status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const running = await runCli(['status', slug], env);
    expect(running.code, running.stderr).toBe(0);
    expect(running.stdout).toMatch(/hello: waits until \d{4}-\d\d-\d\d \d\d:\d\d UTC\./);
    expect(running.stdout).toMatch(/hello\s+email\s+waiting\s+not started/);
    await handle.terminate('operator stopped it by hand');
    const shown = await runCli(['status', slug], env);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(`${slug}: terminated.`);
    expect(shown.stdout).toContain('The workflow TERMINATED: operator stopped it by hand');
    const json = await runCli(['status', slug, '--json'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      campaign: slug,
      status: 'terminated',
      workflowStatus: 'TERMINATED',
      error: 'operator stopped it by hand',
    });
  }, 60_000);

  it('a timed-out campaign reads timed_out, exit 1', async () => {
    const slug = `status-timeout-${tag}`;
    const handle = await start(slug, { workflowExecutionTimeout: '2s' });
    await handle.result().catch(() => {});
    const shown = await runCli(['status', slug, '--json'], env);
    expect(shown.code).toBe(1);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'timed_out', workflowStatus: 'TIMED_OUT' });
  }, 60_000);

  it('a failed workflow under a campaign name reads failed with its error, exit 1', async () => {
    // The check workflow's activity fails three times on a database without the orders table.
    await db.sql`alter table orders rename to orders_gone`;
    const slug = `status-failed-${tag}`;
    const handle = await worker.client.workflow.start(stackCheckWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: workflowIdOf(slug),
    });
    await handle.result().catch(() => {});
    await db.sql`alter table orders_gone rename to orders`;
    const shown = await runCli(['status', slug], env);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(/campaign status-failed-\w+ ended failed: .*relation "orders" does not exist/);
    expect(shown.stdout).not.toMatch(/running/);
  }, 60_000);

  it('a campaign that needs attention exits 5, and says why', async () => {
    const slug = `status-attention-${tag}`;
    const handle = await start(slug, { campaignId: 999_999_999 });
    for (let i = 0; i < 100 && (await handle.query(progressQuery)).status !== 'needs_attention'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const shown = await runCli(['status', slug], env);
    expect(shown.code).toBe(5);
    expect(shown.stdout).toContain(`${slug}: needs_attention.`);
    expect(shown.stdout).toMatch(/snapshotCampaign failed: campaign 999999999 does not exist/);
    await handle.terminate('test over');
  }, 60_000);
});
