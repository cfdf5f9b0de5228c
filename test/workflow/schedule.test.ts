// Recurring campaigns through the real CLI, on the run's Temporal server (real Schedules), a fresh
// PostgreSQL database, a worker of this file's own and an SMTP sink.
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { createRecurringActivities } from '../../activities/recurring.ts';
import { runSlug } from '../../pipeline/campaign/run-names.ts';
import { createSchedule, deleteSchedule, resumeSchedule, scheduleIdOf, type Timing } from '../../client/schedules.ts';
import { loadCampaign } from '../../pipeline/campaign/campaign-file.ts';
import type { CampaignProgress } from '../../workflows/contract.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

describe('recurring campaigns (real Temporal Schedules, PostgreSQL and SMTP server)', () => {
  const tag = randomBytes(3).toString('hex');
  const name = `greet-${tag}`;
  const target = testTarget();
  const dir = tempDir('mailroom-schedule-');
  const file = join(dir, 'greet.yaml');
  const names: string[] = [];
  let db: TestDatabase;
  let sink: SmtpSink;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => runCli(['schedule', ...args], env, { timeoutMs: 60_000 });
  /** Creates through the CLI and remembers the schedule, so that it is deleted afterwards whatever happens. */
  const create = (...args: string[]) => {
    names.push(args.includes('--name') ? args[args.indexOf('--name') + 1]! : name);
    // The CLI takes the stack's tracking server (127.0.0.1) for links: a test run on this machine.
    return cli('create', file, ...args, '--allow-local-links');
  };
  const runsOf = (schedule: string) =>
    db.sql<{ slug: string; status: string; scheduled_at: Date }[]>`
      select c.slug, c.status, r.scheduled_at from schedule_runs r join campaigns c on c.id = r.campaign_id where r.schedule = ${schedule} order by r.scheduled_at`;
  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort() });
    for (let i = 1; i <= 4; i++) {
      await db.sql`insert into customers (external_id, full_name, family_name, gender, email)
                   values (${`G${i}`}, ${`张${i}`}, '张', 'female', ${`g${i}@example.com`})`;
    }
    await db.sql`insert into consents (customer_id, channel, status, source) select id, 'email', 'granted', 't' from customers`;
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'audience: { rules: { field: external_id, op: starts_with, value: G }, channel: email }',
        'response_window: 0s',
        'waves:',
        '  - { name: hello, channel: email, template: wealth-reminder-email }',
      ].join('\n'),
    );
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
      smtpUrl: sink.url,
    });
    // The CLI talks to this file's database and worker (its task queue), as an operator's would.
    env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
      MAILROOM_SECRET: 's',
    };
  });
  afterAll(async () => {
    for (const n of names)
      await worker?.client.schedule
        .getHandle(scheduleIdOf(n))
        .delete()
        .catch(() => {});
    await worker?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('a schedule produces runs: each a campaign of its own named for its time, run to completion; pause stops them', async () => {
    const created = await create('--every', '1s', '--json');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      name,
      scheduleId: `schedule-${name}`,
      runs: `${name}-YYYYMMDD-HHMMSS`,
      paused: false,
      exists: true,
      counts: { contactable: 4 },
    });
    const started = await until('two runs', async () => {
      const runs = await runsOf(name);
      return runs.length >= 2 && runs;
    });
    const paused = await cli('pause', name, '--note', 'checking');
    expect(paused.code, paused.stderr).toBe(0);
    const schedule = worker.client.schedule.getHandle(scheduleIdOf(name));
    await until('the last starter to finish', async () => (await schedule.describe()).info.runningActions.length === 0);
    const runs = await until('every run to complete', async () => {
      const all = await runsOf(name);
      return all.every((r) => r.status === 'completed') && all;
    });
    expect(runs.length).toBeGreaterThanOrEqual(started.length);
    for (const run of runs) {
      // Named for the time the schedule meant, in the schedule's time zone.
      expect(run.slug).toBe(runSlug(name, run.scheduled_at, 'second', 'Asia/Shanghai'));
      expect(run.slug).toMatch(new RegExp(`^${name}-\\d{8}-\\d{6}$`));
      const handle = worker.client.workflow.getHandle(`campaign-${run.slug}`);
      // The run writes 'completed' to the database one step before its workflow ends: wait for the end.
      const result = (await handle.result()) as CampaignProgress;
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(result).toMatchObject({ status: 'completed', contactable: 4 });
      expect(result.waves[0]).toMatchObject({ sent: 4, failed: 0 });
    }
    expect(new Set(runs.map((r) => r.slug)).size).toBe(runs.length);
    // Every run mailed every member once, as its own campaign.
    const outbox = readdirSync(join(dir, 'outbox'));
    for (const run of runs) expect(outbox.filter((f) => f.includes(`.${run.slug}@mailroom`))).toHaveLength(4);

    // Paused: no new runs after two more intervals.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await runsOf(name)).toHaveLength(runs.length);
    const list = await cli('list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const [shown] = JSON.parse(list.stdout);
    expect(shown).toMatchObject({ name, timing: 'every 1s', paused: true, note: 'checking' });
    expect(shown.recentRuns[0]).toMatchObject({ campaign: runs.at(-1)!.slug, status: 'completed' });

    // The schedule's starter workflows carry the schedule's name and ids only.
    const starter = (await schedule.describe()).info.recentActions[0]!.action.workflow;
    const history = JSON.stringify(
      await worker.client.workflow.getHandle(starter.workflowId, starter.firstExecutionRunId).fetchHistory(),
    );
    const decoded = [...history.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)]
      .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
      .join('\n');
    expect(decoded).toContain(`"schedule":"${name}"`);
    expect(decoded).not.toMatch(/@example\.com|张\d/);

    const deleted = await cli('delete', name);
    expect(deleted.code, deleted.stderr).toBe(0);
    await expect(schedule.describe()).rejects.toThrow(/not found/);
    expect(await db.sql`select name from campaign_schedules`).toHaveLength(0);
    // The runs stay: they are campaigns.
    expect(await runsOf(name)).toHaveLength(runs.length);
  }, 60_000);

  it('a daily schedule names runs by date; trigger runs it now, even paused, and a second run that day starts nothing', async () => {
    const daily = `daily-${tag}`;
    const created = await create('--every', '1d', '--name', daily, '--paused', '--json');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: daily, runs: `${daily}-YYYYMMDD`, paused: true });
    const first = await cli('trigger', daily, '--json');
    expect(first.code, first.stderr).toBe(0);
    const run = JSON.parse(first.stdout);
    expect(run).toMatchObject({ schedule: daily, started: true, workflowId: `campaign-${run.slug}` });
    expect(run.slug).toBe(runSlug(daily, new Date(), 'date', 'Asia/Shanghai'));
    const progress = (await worker.client.workflow.getHandle(run.workflowId).result()) as CampaignProgress;
    expect(progress).toMatchObject({ status: 'completed', contactable: 4 });

    const second = await cli('trigger', daily);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`Started nothing: run ${run.slug} was started already.`);
    expect(await runsOf(daily)).toHaveLength(1);

    // A registration retried by its own starter finds its run; another starter's is refused.
    const register = createRecurringActivities({ sql: db.sql }).registerScheduledRun;
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const mine = await register({ schedule: daily, scheduledAt: tomorrow, starter: 'run-a' });
    expect(mine).toMatchObject({ start: true, slug: runSlug(daily, new Date(tomorrow), 'date', 'Asia/Shanghai') });
    expect(await register({ schedule: daily, scheduledAt: tomorrow, starter: 'run-a' })).toEqual(mine);
    expect(await register({ schedule: daily, scheduledAt: tomorrow, starter: 'run-b' })).toEqual({
      start: false,
      slug: mine.slug,
      reason: `run ${mine.slug} was started already`,
    });

    expect((await cli('delete', daily)).code).toBe(0);
    await expect(worker.client.schedule.getHandle(scheduleIdOf(daily)).describe()).rejects.toThrow(/not found/);
  }, 60_000);

  it('refuses bad input with a message that says what to do, leaving nothing behind', async () => {
    const unknown = `nope-${tag}`;
    // Through the CLI: the exit code and the message an operator sees.
    const [neither, both, unknownPause, unknownTrigger] = await Promise.all([
      cli('create', file),
      cli('create', file, '--every', '1d', '--cron', '0 9 * * *'),
      cli('pause', unknown),
      cli('trigger', unknown),
    ]);
    expect(neither).toMatchObject({ code: 3 });
    expect(neither.stderr).toContain('say when the campaign runs: --every DURATION (e.g. 1d) or --cron EXPR');
    expect(both).toMatchObject({ code: 3 });
    expect(both.stderr).toContain('either --every or --cron, not both');
    for (const result of [unknownPause, unknownTrigger]) {
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`no schedule called ${unknown}; see \`mailroom schedule list\``);
    }

    // Links to a loopback tracking address are refused without --allow-local-links.
    const local = await cli('create', file, '--every', '1d', '--name', `local-${tag}`);
    expect(local.code).toBe(3);
    expect(local.stderr).toMatch(
      /schedule create: the links would point at http:\/\/127\.0\.0\.1:\d+.*MAILROOM_TRACKING_URL/,
    );

    // Through the API the CLI calls (its UserErrors become the exit code): quicker than more processes.
    const campaign = loadCampaign(file);
    const options = {
      asOf: new Date(),
      secret: 's',
      trackingUrl: 'https://go.example.com',
      taskQueue: target.taskQueue,
      timeZone: 'Asia/Shanghai',
    };
    const refused = (timing: Timing, more: { name?: string; timeZone?: string } = {}) => {
      if (more.name) names.push(more.name);
      return createSchedule(db.sql, worker.client, campaign, { ...options, timing, ...more });
    };
    const long = `a-very-long-schedule-name-${tag}-for-hourly-greetings`;
    await expect(refused({ every: 'monthly' })).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('--every "monthly" is not a duration'),
    });
    await expect(refused({ cron: '61 * * * *' }, { name: `bad-cron-${tag}` })).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/^--cron "61 \* \* \* \*": .*[Mm]inute/),
    });
    await expect(refused({ every: '1d' }, { timeZone: 'Mars/Olympus' })).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('--time-zone "Mars/Olympus" is not a time zone'),
    });
    await expect(refused({ every: '1h' }, { name: long })).rejects.toMatchObject({
      exitCode: 3,
      message: `runs would be named ${long}-YYYYMMDD-HHMM, longer than 63 characters; give the schedule a shorter --name (at most 49)`,
    });
    await expect(worker.client.schedule.getHandle(scheduleIdOf(long)).describe()).rejects.toThrow(/not found/);
    expect(await db.sql`select name from campaign_schedules`).toHaveLength(0);
    for (const fn of [
      () => resumeSchedule(worker.client, unknown),
      () => deleteSchedule(db.sql, worker.client, unknown),
    ]) {
      await expect(fn()).rejects.toMatchObject({
        exitCode: 3,
        message: `no schedule called ${unknown}; see \`mailroom schedule list\``,
      });
    }
  }, 60_000);
});
