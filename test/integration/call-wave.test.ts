// A call wave end to end (real Temporal, PostgreSQL, the twilio SDK against the Twilio sandbox,
// the CLI): tasks by account manager and to the unassigned pool, outcomes through the API and the
// sheet import, a no-answer coming back until its attempts are used, the wave ending by itself
// once every task is settled, a second call wave ending at its due time with the open tasks
// overdue, then the SMS to the non-responders only; `mailroom status` per manager.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { campaignWorkflowInput, notifyCallsChanged, registerCampaign, workflowIdOf } from '../../client/api.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  type CampaignProgress,
} from '../../workflows/contract.ts';
import { recordCallOutcome } from '../../pipeline/calls/call-tasks.ts';
import { anyFreePort } from '../../config/ports.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../dev/twilio-sandbox.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';
import { runCli } from '../helpers/cli.ts';

const SLUG = `call-wave-${randomBytes(3).toString('hex')}`;
const CAMPAIGN = `
name: ${SLUG}
audience: { rules: { field: external_id, op: starts_with, value: CW }, channel: sms }
response_window: 0s
waves:
  - { name: calls, channel: call, template: wealth-call-script, unassigned: 网点主任, due_within: 6d, attempts: 2 }
  - { name: recall, channel: call, template: wealth-call-script, to: non-responders, due_within: 1s }
  - { name: reminder, channel: sms, template: wealth-last-call-sms, to: non-responders }
`;
// Customer n's account manager (none for 5 and 6: the unassigned pool).
const MANAGERS: Record<number, string | null> = { 1: '周敏', 2: '周敏', 3: '陈志强', 4: '陈志强', 5: null, 6: null };

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, limitMs = 60_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a call wave in the campaign workflow', () => {
  let db: TestDatabase;
  let sandbox: TwilioSandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-call-wave-');

  beforeAll(async () => {
    db = await createTestDatabase();
    sandbox = await startTwilioSandbox(join(dir, 'sms'), { port: await anyFreePort(), callbackDelayMs: 10 });
    for (const [n, manager] of Object.entries(MANAGERS)) {
      await db.sql`insert into customers (external_id, full_name, family_name, gender, phone, attributes)
        values (${`CW${n}`}, ${`王${n}`}, '王', 'male', ${`+861380000000${n}`},
                ${db.sql.json(manager ? { account_manager: manager } : {})})`;
    }
    await db.sql`insert into consents (customer_id, channel, status, source) select id, 'sms', 'granted', 't' from customers`;
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
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
    await sandbox?.close();
    await db?.drop();
  });

  it('assigns, takes outcomes from the API and the sheet, ends when settled or due, then texts the non-responders', async () => {
    const file = join(dir, `${SLUG}.yaml`);
    writeFileSync(file, CAMPAIGN);
    const campaign = loadCampaign(file);
    const campaignId = await registerCampaign(db.sql, campaign);
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: workflowIdOf(SLUG),
      args: [campaignWorkflowInput(campaign, campaignId, { batchSize: 4, callCheckMs: 300 })],
    });
    const progress = () => handle.query(progressQuery);
    const wave = (p: CampaignProgress, name: string) => p.waves.find((w) => w.name === name)!;
    const id = async (n: number) =>
      (await db.sql<{ id: number }[]>`select id from customers where external_id = ${`CW${n}`}`)[0]!.id;

    // Every member gets a task: their own manager's, or the unassigned pool's.
    await until('the calls to be assigned', progress, (p) => wave(p, 'calls').calls !== undefined);
    const tasks = await db.sql<{ external_id: string; manager: string; due_at: Date; attempts_allowed: number }[]>`
      select c.external_id, t.manager, t.due_at, t.attempts_allowed from call_tasks t join customers c on c.id = t.customer_id
      where t.wave = 'calls' order by c.external_id`;
    expect(tasks.map((t) => [t.external_id, t.manager])).toEqual(
      Object.entries(MANAGERS).map(([n, m]) => [`CW${n}`, m ?? '网点主任']),
    );
    expect(tasks.every((t) => t.attempts_allowed === 2)).toBe(true);
    expect(wave(await progress(), 'calls')).toMatchObject({ planned: 6, calls: { open: 6, settled: 0 } });

    // Outcomes through the API: a booking, a call back, and a no-answer that comes back.
    const api = (n: number, outcome: 'appointment' | 'call_back' | 'no_answer', key: string) =>
      id(n).then((customerId) =>
        recordCallOutcome(db.sql, {
          campaignId,
          customerId,
          outcome,
          source: 'api',
          key,
          ...(outcome === 'appointment' ? { appointmentAt: new Date('2026-12-05T02:00:00Z') } : {}),
          ...(outcome === 'call_back' ? { callBackOn: '2026-12-04' } : {}),
        }),
      );
    expect(await api(1, 'appointment', 'k1')).toMatchObject({ applied: true, status: 'settled' });
    expect(await api(5, 'call_back', 'k5')).toMatchObject({ applied: true, status: 'settled' });
    expect(await api(2, 'no_answer', 'k2a')).toMatchObject({ applied: true, status: 'open', attempts: 1 });
    expect(await notifyCallsChanged(worker.client, SLUG)).toBe(true);
    const waiting = await until('the outcomes to be seen', progress, (p) => wave(p, 'calls').calls?.settled === 2);
    // The no-answer is still to call: the wave waits for it.
    expect(wave(waiting, 'calls')).toMatchObject({
      status: 'calling',
      calls: { reached: 2, appointments: 1, open: 4, failed: 0 },
    });

    // Pause does not end a call wave's wait: the managers call whatever the campaign does.
    await handle.signal(pauseSignal);
    // Outcomes kept in a sheet, through the CLI (the wave sees them at its periodic check).
    const sheet = join(dir, 'outcomes.csv');
    writeFileSync(
      sheet,
      [
        '活动,客户编号,结果,预约时间,备注',
        `${SLUG},CW3,婉拒,,`,
        `${SLUG},CW4,号码有误,,`,
        `${SLUG},CW6,已预约,2026-12-05 10:00,周六上午`,
      ].join('\n'),
    );
    const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace };
    const imported = await runCli(['calls', 'import', sheet, '--json'], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ applied: 3, rejected: 0, campaigns: [SLUG] });
    // Settled: reached (1, 3, 5, 6) or failed (4, the wrong number); 2 is still to call.
    await until('the sheet to be seen', progress, (p) => wave(p, 'calls').calls?.settled === 5);
    expect(wave(await progress(), 'calls').status).toBe('calling');
    await handle.signal(resumeSignal);

    // The second no-answer uses the last attempt: the task fails, every task is settled, the wave ends.
    expect(await api(2, 'no_answer', 'k2b')).toMatchObject({ applied: true, status: 'failed', attempts: 2 });
    const after = await until('the call wave to end', progress, (p) => wave(p, 'calls').status === 'done');
    expect(wave(after, 'calls')).toMatchObject({
      planned: 6,
      sent: 4,
      failed: 2,
      calls: { settled: 6, reached: 4, appointments: 2, failed: 2, overdue: 0, open: 0 },
    });

    // The recall goes to those who did not book; nobody calls, and at its due time they are overdue.
    const final = await handle.result();
    expect(final.status).toBe('completed');
    expect(wave(final, 'recall')).toMatchObject({
      status: 'done',
      planned: 4,
      calls: { overdue: 4, settled: 0, open: 0 },
    });
    const recall = await db.sql<{ external_id: string; status: string }[]>`
      select c.external_id, t.status from call_tasks t join customers c on c.id = t.customer_id
      where t.wave = 'recall' order by 1`;
    expect(recall).toEqual(['CW2', 'CW3', 'CW4', 'CW5'].map((external_id) => ({ external_id, status: 'overdue' })));

    // The SMS goes to the non-responders, not to the wrong number (flagged by the call).
    expect(wave(final, 'reminder')).toMatchObject({ status: 'done', planned: 4, sent: 3, suppressed: 1 });
    const texted = [...sandbox.messages.values()].map((m) => m.to).sort();
    expect(texted).toEqual(['+8613800000002', '+8613800000003', '+8613800000005']);

    // Status: the waves, and the calls of each wave per manager.
    const status = await runCli(['status', SLUG, '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const shown = JSON.parse(status.stdout) as { managers: Record<string, unknown[]> };
    expect(shown.managers.calls).toHaveLength(3);
    expect(shown.managers.calls).toEqual(
      expect.arrayContaining([
        { manager: '周敏', assigned: 2, settled: 2, reached: 1, appointments: 1, failed: 1, overdue: 0, open: 0 },
        { manager: '陈志强', assigned: 2, settled: 2, reached: 1, appointments: 0, failed: 1, overdue: 0, open: 0 },
        { manager: '网点主任', assigned: 2, settled: 2, reached: 2, appointments: 1, failed: 0, overdue: 0, open: 0 },
      ]),
    );
    // The recall names no pool of its own: its customers without a manager go to "unassigned".
    expect(shown.managers.recall).toEqual(
      expect.arrayContaining([expect.objectContaining({ manager: 'unassigned', assigned: 1, overdue: 1 })]),
    );
    const text = await runCli(['status', SLUG], env);
    expect(text.stdout).toMatch(/calls\s+call\s+done\s+6\/6/);
    expect(text.stdout).toMatch(/recall: 0 reached \(0 appointments\), 0 failed, 0 open, 4 overdue/);
    expect(text.stdout).toMatch(/Calls of wave calls by manager:/);
  }, 180_000);

  it('ends a call wave that waits on its tasks when the campaign is cancelled, and starts no later wave', async () => {
    const campaign = loadCampaign(join(dir, `${SLUG}.yaml`));
    const slug = `${SLUG}-cancel`;
    const campaignId = await registerCampaign(db.sql, campaign, slug);
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: workflowIdOf(slug),
      args: [{ ...campaignWorkflowInput(campaign, campaignId, { callCheckMs: 60_000 }), slug }],
    });
    await until(
      'the calls to be assigned',
      () => handle.query(progressQuery),
      (p) => p.waves[0]!.calls !== undefined,
    );
    // An online booking settles the task too, its appointment recorded as the landing page's.
    const [first] = await db.sql<{ customer_id: number }[]>`
      select customer_id from call_tasks where campaign_id = ${campaignId} order by customer_id limit 1`;
    expect(
      await recordCallOutcome(db.sql, {
        campaignId,
        customerId: first!.customer_id,
        outcome: 'appointment',
        appointmentAt: new Date('2026-12-05T02:00:00Z'),
        recordedBy: '在线预约',
        source: 'online',
        key: 'booking:1',
        response: { source: 'landing', details: { by: 'online', booking: 1 } },
      }),
    ).toMatchObject({ applied: true, status: 'settled' });
    const [booked] = await db.sql<{ source: string; details: { by: string; booking: number } }[]>`
      select source, details from responses where campaign_id = ${campaignId} and kind = 'appointment'`;
    expect(booked).toMatchObject({ source: 'landing', details: { by: 'online', booking: 1 } });
    // Told of it, the wave counts it at once (its periodic look is a minute away).
    expect(await notifyCallsChanged(worker.client, slug)).toBe(true);
    await until(
      'the booking to be seen',
      () => handle.query(progressQuery),
      (p) => p.waves[0]!.calls?.reached === 1,
    );
    await handle.signal(cancelSignal);
    const final = await handle.result();
    expect(final.status).toBe('cancelled');
    expect(final.waves.map((w) => w.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // (The wrong number reported in the first campaign is suppressed for SMS: one member fewer.)
    expect(final.contactable).toBe(5);
    expect(final.waves[0]).toMatchObject({ planned: 5, calls: { open: 4, reached: 1, appointments: 1 } });
    expect((await db.sql`select 1 from call_tasks where campaign_id = ${campaignId} and wave = 'recall'`).length).toBe(
      0,
    );
  }, 60_000);
});
