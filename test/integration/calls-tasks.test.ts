// Call tasks on the real PostgreSQL: assignment by account manager with an unassigned pool,
// outcomes applied exactly once, no-answers coming back until the attempts are used, wrong numbers
// flagged, the work list (JSON, CSV, PDF with Chinese) and outcomes imported from a sheet through
// the real CLI, twice.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { SECRET, createCampaignFixture, type Fixture } from '../helpers/calls-fixture.ts';
import { assignCallTasks, markOverdue, progressByManager, recordCallOutcome } from '../../pipeline/calls/call-tasks.ts';

describe('call tasks', { timeout: 240_000 }, () => {
  let db: TestDatabase;
  let f: Fixture;
  const dir = tempDir('mailroom-calls-');
  const env = () => ({ DATABASE_URL: db.url, MAILROOM_SECRET: SECRET });
  const task = async (key: string) =>
    (
      await db.sql<{ id: number; manager: string; status: string; attempts: number; outcome: string | null }[]>`
      select id, manager, status, attempts, outcome from call_tasks where campaign_id = ${f.campaignId} and customer_id = ${f.ids[key]!}`
    )[0]!;

  beforeAll(async () => {
    db = await createTestDatabase();
    f = await createCampaignFixture(db.sql, 'calls-test', { dir });
  });
  afterAll(() => db.drop());

  it('assigns a task per contactable member to its account manager, the rest to the unassigned name, once', async () => {
    const input = {
      campaignId: f.campaignId,
      wave: 'calls',
      fromCustomerId: 0,
      toCustomerId: Number.MAX_SAFE_INTEGER,
      assignBy: 'account_manager',
      unassigned: '网点主任',
      attempts: 3,
      dueAt: new Date(Date.now() + 6 * 86_400_000),
    };
    expect(await assignCallTasks(db.sql, input)).toEqual({ assigned: 6, unassigned: 2, total: 6 });
    // A retried batch adds nothing.
    expect(await assignCallTasks(db.sql, input)).toEqual({ assigned: 0, unassigned: 0, total: 6 });
    const byManager = await db.sql<{ manager: string; n: number }[]>`
      select manager, count(*)::int as n from call_tasks group by manager order by manager`;
    expect(Object.fromEntries(byManager.map((r) => [r.manager, r.n]))).toEqual({ 周敏: 2, 陈志强: 2, 网点主任: 2 });
    // The holdout member (W7, 周敏's) gets no call.
    expect(await db.sql`select 1 from call_tasks where customer_id = ${f.ids.W7!}`).toHaveLength(0);
  });

  it('settles a task once: a replayed outcome and a later different outcome change nothing', async () => {
    const t = await task('W1');
    const appointment = {
      taskId: t.id,
      outcome: 'appointment' as const,
      appointmentAt: new Date('2026-12-03T06:30:00Z'),
      note: '明天下午来',
      source: 'api',
      key: `api:${t.id}:1`,
    };
    expect(await recordCallOutcome(db.sql, appointment)).toMatchObject({
      applied: true,
      status: 'settled',
      attempts: 1,
    });
    expect(await recordCallOutcome(db.sql, appointment)).toMatchObject({ applied: false, reason: 'replayed' });
    expect(
      await recordCallOutcome(db.sql, { taskId: t.id, outcome: 'declined', source: 'api', key: `api:${t.id}:2` }),
    ).toMatchObject({ applied: false, reason: 'closed', status: 'settled' });
    expect(await task('W1')).toMatchObject({ status: 'settled', attempts: 1, outcome: 'appointment' });
    const responses = await db.sql`select kind, source from responses where customer_id = ${f.ids.W1!}`;
    expect(responses).toEqual([{ kind: 'appointment', source: 'calls' }]);
    const log =
      await db.sql`select channel, actor, outcome, next_step, note from contact_log where customer_id = ${f.ids.W1!}`;
    expect(log).toEqual([
      {
        channel: 'call',
        actor: '周敏',
        outcome: 'appointment',
        next_step: 'branch visit 2026-12-03T06:30:00.000Z',
        note: '明天下午来',
      },
    ]);
  });

  it('brings a no-answer back until the attempts are used, then fails it', async () => {
    const t = await task('W2');
    for (let i = 1; i <= 2; i++) {
      expect(
        await recordCallOutcome(db.sql, { taskId: t.id, outcome: 'no_answer', source: 'api', key: `na:${t.id}:${i}` }),
      ).toMatchObject({ applied: true, status: 'open', attempts: i });
    }
    expect(
      await recordCallOutcome(db.sql, { taskId: t.id, outcome: 'no_answer', source: 'api', key: `na:${t.id}:3` }),
    ).toMatchObject({ applied: true, status: 'failed', attempts: 3 });
    expect(
      await recordCallOutcome(db.sql, { taskId: t.id, outcome: 'no_answer', source: 'api', key: `na:${t.id}:4` }),
    ).toMatchObject({ applied: false, reason: 'closed' });
    const [{ n } = { n: -1 }] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from contact_log where customer_id = ${f.ids.W2!}`;
    expect(n).toBe(3);
  });

  it('fails a wrong number at once and flags the phone against SMS', async () => {
    const t = await task('W3');
    expect(
      await recordCallOutcome(db.sql, {
        campaignId: f.campaignId,
        customerId: f.ids.W3!,
        outcome: 'wrong_number',
        source: 'api',
        key: 'wrong:W3',
      }),
    ).toMatchObject({ applied: true, taskId: t.id, status: 'failed' });
    expect(await db.sql`select channel, address, reason from suppressions where customer_id = ${f.ids.W3!}`).toEqual([
      { channel: 'sms', address: '+8613800000003', reason: 'invalid_address' },
    ]);
  });

  it('reports open tasks past their due time as overdue, per manager', async () => {
    expect(await markOverdue(db.sql, f.campaignId, 'calls', new Date(Date.now() + 7 * 86_400_000))).toBe(3);
    const progress = await progressByManager(db.sql, f.campaignId);
    expect(progress).toEqual(
      [
        { manager: '周敏', assigned: 2, settled: 2, reached: 1, appointments: 1, failed: 1, overdue: 0, open: 0 },
        { manager: '网点主任', assigned: 2, settled: 0, reached: 0, appointments: 0, failed: 0, overdue: 2, open: 0 },
        { manager: '陈志强', assigned: 2, settled: 1, reached: 0, appointments: 0, failed: 1, overdue: 1, open: 0 },
      ].sort((a, b) => (a.manager < b.manager ? -1 : 1)),
    );
  });

  it("lists a manager's tasks with the rendered script and the last contacts, and never another manager's", async () => {
    const run = await runCli(['calls', 'list', f.slug, '--manager', '周敏', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const { tasks } = JSON.parse(run.stdout) as { tasks: Record<string, unknown>[] };
    expect(tasks.map((t) => t.external_id)).toEqual([`${f.slug}-W1`, `${f.slug}-W2`]);
    expect(tasks[0]).toMatchObject({
      name: '王建华',
      phone: '+8613800000001',
      rank: 1,
      band: 'gift-appliance',
      offer: '电风扇或电饭煲（二选一）',
    });
    expect(tasks[0]!.script).toMatch(/^王先生您好，我是您在滨海邮储银行 招商路支行的专属客户经理周敏。/);
    expect(tasks[0]!.script).toContain('专属礼品：电风扇或电饭煲（二选一）');
    expect(tasks[0]!.last_contacts).toEqual([
      expect.objectContaining({ channel: 'call', who: '周敏', outcome: 'appointment' }),
    ]);
    const table = await runCli(['calls', 'list', f.slug, '--manager', '周敏'], env());
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /^calls-test: 2 tasks of 周敏\n1\. 王建华（王先生） \+8613800000001  task \d+ · 周敏 · settled 1\/3\n/,
    );
    expect(table.stdout).toContain('   rank 1 · band gift-appliance · offer 电风扇或电饭煲（二选一）\n   王先生您好，');
    const due = await runCli(['calls', 'list', f.slug, '--due', '--json'], env());
    expect(
      (JSON.parse(due.stdout) as { tasks: { external_id: string }[] }).tasks.map((t) => t.external_id).sort(),
    ).toEqual([`${f.slug}-W4`, `${f.slug}-W5`, `${f.slug}-W6`]);
  });

  it('prints a call sheet PDF with the Chinese names and script', async () => {
    const out = join(dir, 'sheet.pdf');
    const run = await runCli(['calls', 'list', f.slug, '--manager', '陈志强', '--format', 'pdf', '--out', out], env());
    expect(run.code, run.stderr).toBe(0);
    const text = execFileSync('pdftotext', [out, '-'], { encoding: 'utf8' });
    expect(text).toContain('张伟');
    expect(text).toContain('刘芳');
    expect(text).toContain('5 升装花生油一桶');
    expect(text).toContain('您看明天还是后天过来');
    expect(text).not.toContain('王建华');
  });

  it('imports outcomes from the CSV it hands out; a second import changes nothing', async () => {
    const run = await runCli(['calls', 'list', f.slug, '--due', '--format', 'csv'], env());
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\n');
    expect(lines[0]).toMatch(
      /^task_id,campaign,wave,manager,customer,.*,outcome,appointment_at,call_back_on,called_at,note$/,
    );
    // Fill in the outcome columns as a manager would: W4 booked, W5 call back, W6 no answer.
    const filled: Record<string, string> = {
      [`${f.slug}-W4`]: 'appointment,2026-12-04 10:00,,2026-12-02 09:10,带身份证',
      [`${f.slug}-W5`]: 'call_back,,2026-12-05,2026-12-02 09:20,',
      [`${f.slug}-W6`]: 'no_answer,,,2026-12-02 09:30,',
    };
    const sheet = join(dir, 'outcomes.csv');
    // Drop the script and contacts columns (quoted, multi-line): keep what the import reads.
    const rows = await db.sql<{ id: number; external_id: string }[]>`
      select t.id, c.external_id from call_tasks t join customers c on c.id = t.customer_id where t.status in ('open', 'overdue') order by t.id`;
    writeFileSync(
      sheet,
      [
        'task_id,outcome,appointment_at,call_back_on,called_at,note',
        ...rows.map((r) => `${r.id},${filled[r.external_id]}`),
      ].join('\n'),
    );
    const first = await runCli(['calls', 'import', sheet, '--json'], env());
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 3, applied: 3, replayed: 0, rejected: 0 });
    const again = await runCli(['calls', 'import', sheet, '--json'], env());
    expect(JSON.parse(again.stdout)).toMatchObject({ read: 3, applied: 0, replayed: 3, rejected: 0 });
    expect(await task('W4')).toMatchObject({ status: 'settled', outcome: 'appointment' });
    expect(await task('W5')).toMatchObject({ status: 'settled', outcome: 'call_back' });
    expect(await task('W6')).toMatchObject({ status: 'overdue', attempts: 1, outcome: 'no_answer' });
    const [appt] = await db.sql<
      { appointment_at: Date }[]
    >`select appointment_at from call_tasks where customer_id = ${f.ids.W4!}`;
    // 10:00 in Beijing.
    expect(appt!.appointment_at.toISOString()).toBe('2026-12-04T02:00:00.000Z');
    const [{ n } = { n: -1 }] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from contact_log where customer_id = ${f.ids.W4!}`;
    expect(n).toBe(1);
  });

  it('reads a GBK sheet with Chinese headers, and rejects bad rows with their reasons', async () => {
    const sheet = join(dir, '外呼结果.csv');
    const text = [
      '活动,客户编号,结果,预约时间,通话时间,备注',
      `${f.slug},${f.slug}-W6,已预约,2026/12/6 15:00,2026-12-02 11:00,第二次打通`,
      `${f.slug},${f.slug}-W6,打错了,,2026-12-02 11:05,`,
      `${f.slug},NOBODY,婉拒,,,`,
      `${f.slug},${f.slug}-W5,已预约,,,`,
      `no-such-campaign,${f.slug}-W6,婉拒,,,`,
    ].join('\r\n');
    writeFileSync(sheet, iconv.encode(text, 'gbk'));
    const run = await runCli(['calls', 'import', sheet, '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout) as {
      encoding: string;
      read: number;
      applied: number;
      rejected: number;
      rejectsPath: string;
    };
    expect(s).toMatchObject({ encoding: 'gbk', read: 5, applied: 1, rejected: 4 });
    const rejects = readFileSync(s.rejectsPath, 'utf8');
    // The reasons as the rejects file (CSV) holds them: quotes doubled.
    expect(rejects).toContain('2,3,"结果 ""打错了"" is not an outcome');
    expect(rejects).toContain('3,4,"客户编号 ""NOBODY"" is not a customer\'s external id"');
    expect(rejects).toContain('4,5,an appointment needs its date and time');
    expect(rejects).toContain('5,6,"campaign ""no-such-campaign"" does not exist"');
    expect(await task('W6')).toMatchObject({ status: 'settled', outcome: 'appointment', attempts: 2 });
  });

  it('refuses a sheet it cannot read with the reason, exit 3', async () => {
    const sheet = join(dir, 'no-outcome.csv');
    writeFileSync(sheet, 'task_id,note\n1,x\n');
    const run = await runCli(['calls', 'import', sheet], env());
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/no-outcome\.csv:1: no outcome column/);
    const missing = await runCli(['calls', 'list', 'no-such-campaign'], env());
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('there is no campaign called no-such-campaign');
  });
});
