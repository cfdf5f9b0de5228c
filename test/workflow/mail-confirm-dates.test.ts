// A mail wave's posting confirmation: dates that are no dates, in the future or before the printing
// are refused by the update's validator (the activity never sees them), and a cancel ends the
// campaign even while the posting's record is retried for ever (real Temporal and PostgreSQL).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import { campaignWorkflowInput, registerCampaign, workflowIdOf } from '../../client/api.ts';
import { campaignWorkflow } from '../../workflows/campaign.ts';
import {
  cancelSignal,
  confirmMailingUpdate,
  postingDateProblem,
  progressQuery,
  type CampaignProgress,
} from '../../workflows/contract.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function until(what: string, check: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('postingDateProblem', () => {
  const now = Date.parse('2026-12-01T04:00:00Z');
  it('takes real dates from the day of printing to a day ahead, and nothing else', () => {
    expect(postingDateProblem('2026-12-01', { now, printedAt: '2026-12-01T03:00:00Z' })).toBeUndefined();
    expect(postingDateProblem('2026-12-02', { now })).toBeUndefined();
    expect(postingDateProblem('2026-13-01', { now })).toMatch(/2026-13-01 is not a date of the calendar/);
    expect(postingDateProblem('2026-02-30', { now })).toMatch(/not a date of the calendar/);
    expect(postingDateProblem('2026-00-10', { now })).toMatch(/not a date of the calendar/);
    expect(postingDateProblem('yesterday', { now })).toMatch(/must be YYYY-MM-DD, not yesterday/);
    expect(postingDateProblem('2099-12-31', { now })).toMatch(/2099-12-31 is in the future/);
    expect(postingDateProblem('2026-12-04', { now })).toMatch(/is in the future/);
    expect(postingDateProblem('2026-11-29', { now, printedAt: '2026-12-01T03:00:00Z' })).toMatch(
      /before the wave was printed \(2026-12-01 03:00 UTC\)/,
    );
  });
});

describe('confirming a mail wave (real Temporal and PostgreSQL)', () => {
  let db: TestDatabase;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const target = testTarget();
  const dir = tempDir('mailroom-confirm-');

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.sql`insert into customers (external_id, full_name, family_name, gender, email, address_line1, city, postal_code)
      select 'MC' || i, '客户' || i, '张', 'female', 'mc' || i || '@example.com', '人民路' || i || '号', '上海市', (200000 + i)::text
      from generate_series(1, 5) i`;
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
      printDir: join(dir, 'print'),
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  it('refuses bad dates before the activity, refuses a second confirmation, and a cancel ends a posting retried for ever', async () => {
    const file = join(dir, 'confirm-dates.yaml');
    writeFileSync(
      file,
      [
        'name: confirm-dates',
        'response_window: 0s',
        'audience: { rules: { field: external_id, op: starts_with, value: MC }, channel: mail }',
        'waves:',
        '  - { name: letter, channel: mail, template: member-postcard }',
        '  - { name: reminder, channel: email, template: wealth-reminder-email, after: 7d }',
      ].join('\n'),
    );
    const campaign = loadCampaign(file);
    const campaignId = await registerCampaign(db.sql, campaign);
    const name = `confirm-dates-${Date.now()}`;
    const handle = await worker.client.workflow.start(campaignWorkflow, {
      taskQueue: target.taskQueue,
      workflowId: workflowIdOf(name),
      args: [campaignWorkflowInput(campaign, campaignId)],
    });
    await until('the letters to be printed', async () => {
      return (await handle.query(progressQuery)).waves[0]!.status === 'awaiting_confirmation';
    });
    const printed = (await handle.query(progressQuery)).waves[0]!;
    expect(printed.printDir).toBe(join(dir, 'print', 'confirm-dates', 'letter'));
    expect(Date.parse(printed.confirmBy!) - Date.parse(printed.printedAt!)).toBe(14 * 86_400_000);
    // `mailroom status` says what comes next: where the letters are, by when to confirm them.
    const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace };
    const shown = await runCli(['status', name], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`letter: print files in ${printed.printDir}; confirm the posting by `);
    expect(shown.stdout).toContain(
      `by ${printed.confirmBy!.slice(0, 16).replace('T', ' ')} UTC with \`mailroom mail confirm ${name} --wave letter --date YYYY-MM-DD\``,
    );

    const confirm = (date: string) =>
      handle.executeUpdate(confirmMailingUpdate, { args: [{ wave: 'letter', date }] }).then(
        () => 'accepted',
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
    expect(await confirm('2026-13-01')).toMatch(/2026-13-01 is not a date of the calendar/);
    expect(await confirm('2027-02-29')).toMatch(/not a date of the calendar/);
    expect(await confirm('2099-12-31')).toMatch(/2099-12-31 is in the future/);
    expect(await confirm(day(3))).toMatch(/is in the future/);
    expect(await confirm(day(-3))).toMatch(/is before the wave was printed/);
    // None of them reached the ledger or moved the wave.
    expect((await handle.query(progressQuery)).waves[0]!.status).toBe('awaiting_confirmation');
    expect(await db.sql`select distinct status from deliveries where wave = 'letter'`).toEqual([{ status: 'printed' }]);

    // The database refuses the posting's record: recordMailing is retried without end.
    await db.sql.unsafe(`create function refuse_mailing() returns trigger language plpgsql as
      $$ begin raise exception 'the disk is full (test)'; end $$`);
    await db.sql.unsafe(
      `create trigger refuse_mailing before update on deliveries for each row execute function refuse_mailing()`,
    );
    const first = confirm(day(0));
    await until('recordMailing to be retried', async () => {
      const d = await handle.describe();
      const pending = d.raw.pendingActivities ?? [];
      return pending.some((a) => a.activityType?.name === 'recordMailing' && (a.attempt ?? 0) >= 2);
    });
    // A second confirmation does not hang behind the first: it is refused at once.
    expect(await confirm(day(0))).toMatch(/was confirmed already \(posted on \d{4}-\d{2}-\d{2}\)/);

    await handle.signal(cancelSignal);
    const result: CampaignProgress = await handle.result();
    expect(result.status).toBe('cancelled');
    expect(result.waves.map((w) => w.status)).toEqual(['cancelled', 'cancelled']);
    expect(await first).toMatch(/cancelled before the posting of wave letter was recorded/);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(await db.sql`select status from campaigns where id = ${campaignId}`).toEqual([{ status: 'cancelled' }]);
    // After the cancel no wave reads awaiting_confirmation.
    const after = await runCli(['status', name, '--json'], env);
    expect(JSON.parse(after.stdout)).toMatchObject({ campaign: name, status: 'cancelled' });
    expect(JSON.parse(after.stdout).waves.map((w: { status: string }) => w.status)).toEqual(['cancelled', 'cancelled']);
  }, 120_000);
});
