// A goal below pace at the fallback's check extends the audience to ranks 501–800 as cohort 2,
// exactly once, although the worker is killed (SIGKILL, a separate process) while the extension
// waits for its lock; the cohort gets the campaign's waves in a child run, and status shows the
// goal against its pace and the cohort (real Temporal, PostgreSQL, worker processes, the CLI).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { campaignWorkflowInput, registerCampaign, workflowIdOf } from '../../client/api.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import { progressQuery, skipWaitSignal } from '../../workflows/contract.ts';
import { cohortLockKey, extendAudience } from '../../pipeline/audience/cohorts.ts';
import { audienceQuery } from '../../pipeline/audience/audience-query.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { testTarget, workflowBundle } from '../helpers/temporal.ts';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.ts';
import { runCli } from '../helpers/cli.ts';

// The runs of this campaign and of its cohort (each continued as new at the wave boundary),
// replayed against the current workflow code: a change that would break running campaigns with
// call waves or a fallback fails here. Re-record with MAILROOM_RECORD_HISTORY=1.
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'histories', 'goals-fallback.json');

const SLUG = `goals-${randomBytes(3).toString('hex')}`;
const CAMPAIGN = `
name: ${SLUG}
audience:
  rules: { field: external_id, op: starts_with, value: GF }
  top: { n: 500, by: financial_assets, bands: [{ name: gift-appliance, ranks: 1-60 }, { name: gift-oil, ranks: 61-160 }] }
  channel: mail
  holdout: 10
  one_per_household: true
response_window: 0s
waves:
  - { name: calls, channel: call, template: wealth-call-script, due_within: 1s }
  - { name: recall, channel: call, template: wealth-call-script, to: non-responders, due_within: 1s }
goals:
  contact: { within: 6d }
  responses: { kind: branch_visit, target: 160, by: 20d }
fallback: { extend_to: 800, check_at: 1d }
`;

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, limitMs = 90_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('goals and the fallback audience', () => {
  let db: TestDatabase;
  let connection: Connection;
  const workers: WorkerProcess[] = [];
  const target = testTarget();
  const dir = tempDir('mailroom-goals-');
  const worker = () => {
    const w = spawnWorker({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
      MAILROOM_SECRET: 'goals-test-secret',
      MAILROOM_HOME: join(dir, 'home'),
    });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // 820 customers, each at an address of their own; GF820 has the most assets (rank 1).
    await db.sql`insert into customers (external_id, full_name, family_name, gender, address_line1, city, postal_code, attributes)
      select 'GF' || i, '客户' || i, '李', 'female', '人民路' || i || '号', '上海市', '200001',
             jsonb_build_object('financial_assets', 100000 + i, 'account_manager', case when i % 2 = 0 then '周敏' end)
      from generate_series(1, 820) i`;
    connection = await Connection.connect({ address: target.address });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await connection?.close();
    await db?.drop();
  });

  it('extends to ranks 501–800 exactly once though the worker dies during it, and runs the waves for that cohort', async () => {
    const file = join(dir, `${SLUG}.yaml`);
    writeFileSync(file, CAMPAIGN);
    const campaign = loadCampaign(file);
    const campaignId = await registerCampaign(db.sql, campaign);
    // Holding the extension's lock stops it half-way, where the worker is then killed.
    const lock = await db.sql.reserve();
    await lock`select pg_advisory_lock(hashtext(${cohortLockKey(campaignId)}))`;
    const first = worker();
    await first.ready;
    const client = new Client({ connection, namespace: target.namespace });
    const handle = await client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: workflowIdOf(SLUG),
      args: [campaignWorkflowInput(campaign, campaignId, { callCheckMs: 500, heartbeatTimeoutMs: 2000 })],
    });

    // The check's deadline, taken at the start, is carried across the continue-as-new at the wave boundary.
    const started = await until(
      'the first wave',
      () => handle.query(progressQuery),
      (p) => p.waves[0]!.status !== 'waiting',
    );
    const checkAt = started.fallback!.checkAt;
    const waved = await until(
      "the campaign's own waves to end",
      () => handle.query(progressQuery),
      (p) => p.waves.every((w) => w.status === 'done'),
    );
    expect(waved.fallback).toEqual({ checkAt, cohorts: [] });
    expect(waved.waves[0]!.calls).toMatchObject({ overdue: waved.contactable });
    // The check is a day away; skip-wait brings it forward. Below pace, it extends.
    await handle.signal(skipWaitSignal);
    await until(
      'the extension to wait for its lock',
      () => db.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
      (rows) => rows[0]!.n > 0,
    ).catch(async (error: Error) => {
      const p = await handle.query(progressQuery).catch((e: Error) => e.message);
      throw new Error(`${error.message}\nprogress: ${JSON.stringify(p)}\nworker: ${first.output().slice(-3000)}`);
    });
    await first.kill('SIGKILL');
    const second = worker();
    await second.ready;
    await lock`select pg_advisory_unlock(hashtext(${cohortLockKey(campaignId)}))`;
    lock.release();

    const final = await until(
      'the campaign to end',
      () => handle.describe().then((d) => d.status.name),
      (s) => s !== 'RUNNING',
      120_000,
    ).then(() => handle.result());
    expect(final.status).toBe('completed');

    // Cohort 2: exactly the 300 next ranks, each customer once, none of them in cohort 1.
    const cohort2 = await db.sql<{ customer_id: number; rank: number; band: string | null; holdout: boolean }[]>`
      select customer_id, rank, band, holdout from campaign_members where campaign_id = ${campaignId} and cohort = 2 order by rank`;
    expect(cohort2).toHaveLength(300);
    expect(cohort2.map((m) => m.rank)).toEqual(Array.from({ length: 300 }, (_, i) => 501 + i));
    expect(new Set(cohort2.map((m) => m.customer_id)).size).toBe(300);
    const [counts] = await db.sql<{ cohort1: number; cohorts: number }[]>`
      select (select count(*)::int from campaign_members where campaign_id = ${campaignId} and cohort = 1) as cohort1,
             (select count(*)::int from campaign_cohorts where campaign_id = ${campaignId}) as cohorts`;
    expect(counts).toEqual({ cohort1: 500, cohorts: 1 });
    // The same audience ranked to 800: same holdout hashing, bands by rank (none beyond 160).
    const extended = {
      ...campaign.audience,
      segment: { ...campaign.audience.segment, top: { ...campaign.audience.segment.top!, n: 800 } },
    };
    const expected = await db.sql<{ customer_id: number; rank: number; band: string | null; holdout: boolean }[]>`
      select customer_id, rank, band, holdout
      from (${audienceQuery({ sql: db.sql, registry: campaign.registry, asOf: new Date() }, extended, SLUG)}) a
      where rank > 500 order by rank`;
    expect(cohort2).toEqual(expected);
    expect(cohort2.some((m) => m.holdout)).toBe(true);
    expect(cohort2.every((m) => m.band === null)).toBe(true);
    // Asked again (a retry after the commit), the extension adds nobody.
    const again = await extendAudience(
      { sql: db.sql, registry: campaign.registry, asOf: new Date() },
      campaignId,
      campaign.audience,
      { cohort: 2, extendTo: 800 },
    );
    expect(again).toMatchObject({ created: false, counts: { members: 300 } });

    // The cohort's run gave its contactable members their call tasks; cohort 1's stayed as they were.
    const tasks = await db.sql<{ cohort: number; wave: string; n: number; contactable: number }[]>`
      select m.cohort, t.wave, count(*)::int as n,
             (select count(*)::int from campaign_members x where x.campaign_id = m.campaign_id and x.cohort = m.cohort
                and not x.holdout and x.suppression_reason is null) as contactable
      from call_tasks t join campaign_members m on m.campaign_id = t.campaign_id and m.customer_id = t.customer_id
      where t.campaign_id = ${campaignId} group by m.campaign_id, m.cohort, t.wave order by 1, 2`;
    expect(tasks.map((t) => [t.cohort, t.wave])).toEqual([
      [1, 'calls'],
      [1, 'recall'],
      [2, 'calls'],
      [2, 'recall'],
    ]);
    for (const t of tasks) expect(t.n).toBe(t.contactable);

    // Status: the check, the cohort with its waves, each goal against its pace.
    const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace };
    const status = await runCli(['status', SLUG, '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const shown = JSON.parse(status.stdout) as {
      fallback: { checked: { extended: boolean; responses: number }; cohorts: unknown[] };
      goals: unknown[];
    };
    expect(shown.fallback.checked).toMatchObject({ extended: true, responses: 0 });
    expect(shown.fallback.cohorts).toEqual([
      expect.objectContaining({
        cohort: 2,
        members: 300,
        contactable: tasks[2]!.contactable,
        status: 'completed',
        waves: [
          expect.objectContaining({ name: 'calls', status: 'done' }),
          expect.objectContaining({ name: 'recall', status: 'done' }),
        ],
      }),
    ]);
    expect(shown.goals).toEqual([
      expect.objectContaining({ goal: 'contact', done: 0, onPace: false }),
      expect.objectContaining({ goal: 'responses', kind: 'branch_visit', done: 0, target: 160, onPace: false }),
    ]);
    const text = await runCli(['status', SLUG], env);
    expect(text.stdout).toMatch(/Goal responses: 0\/160 branch_visit responses by .*below pace/);
    expect(text.stdout).toMatch(/Cohort 2: completed\. 300 members/);

    // The histories hold ids, counts and specs: no customer's or manager's name, no address.
    const histories: { workflowId: string; startTime: number; history: string }[] = [];
    for (const workflowId of [
      workflowIdOf(SLUG),
      shown.fallback.cohorts.length ? `${workflowIdOf(SLUG)}-cohort-2` : '',
    ])
      for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
        const encoded = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
        expect(encoded.toString('utf8')).not.toMatch(/客户|人民路|周敏/);
        histories.push({ workflowId, startTime: run.startTime.getTime(), history: encoded.toString('base64') });
      }
    expect(histories).toHaveLength(4);
    if (process.env.MAILROOM_RECORD_HISTORY === '1') {
      mkdirSync(join(FIXTURE, '..'), { recursive: true });
      const ordered = histories
        .sort((a, b) => a.startTime - b.startTime)
        .map((h) => ({ workflowId: h.workflowId, history: h.history }));
      writeFileSync(FIXTURE, `${JSON.stringify(ordered, null, 1)}\n`);
    }
    expect(existsSync(FIXTURE), `${FIXTURE} is missing: record it with MAILROOM_RECORD_HISTORY=1`).toBe(true);
    const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { workflowId: string; history: string }[];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      recorded.map((r) => ({
        workflowId: r.workflowId,
        history: temporal.api.history.v1.History.decode(Buffer.from(r.history, 'base64')),
      })),
    )) {
      expect(result.error).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(4);
  }, 240_000);
});
