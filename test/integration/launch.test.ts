// Launching through the CLI on the test run's stack: its worker, SMTP sink and Twilio sandbox.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Sql } from '../../db/connection.ts';
import { mailroomPaths } from '../../config/paths.ts';
import { readStackState } from '../../dev/stack-state.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';

describe('mailroom launch', () => {
  const tag = randomBytes(3).toString('hex');
  const slug = `launch-test-${tag}`;
  const dir = tempDir('mailroom-launch-');
  // The stack's own database and services, as `mailroom launch` finds them.
  const env = { DATABASE_URL: '', TEMPORAL_ADDRESS: '' };
  let sql: Sql;

  function campaignFile(name: string, firstWave = ''): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'response_window: 0s',
        `audience: { rules: { field: external_id, op: starts_with, value: 'LX${tag}-' }, channel: email }`,
        'waves:',
        firstWave,
        '  - { name: reminder, channel: email, template: wealth-reminder-email }',
        '  - { name: last-call, channel: sms, template: wealth-last-call-sms, after: 2s }',
      ].join('\n'),
    );
    return file;
  }

  beforeAll(async () => {
    sql = connectDatabase(inject('databaseUrl'), { max: 2 });
    for (let i = 1; i <= 6; i++) {
      await sql`insert into customers (external_id, full_name, family_name, gender, email, phone, address_line1, city, postal_code)
                values (${`LX${tag}-${i}`}, ${`李${i}`}, '李', 'female', ${`lx${tag}-${i}@example.com`}, ${`+8613900${tag.slice(0, 3).replace(/\D/g, '1').padEnd(3, '1')}${String(i).padStart(3, '0')}`},
                        ${`淮海路${i}号`}, '上海市', '200031')`;
    }
    await sql`insert into consents (customer_id, channel, status, source)
              select id, ch, 'granted', 't' from customers, unnest(array['email', 'sms']) as ch where external_id like ${`LX${tag}-%`}`;
  });
  afterAll(() => sql.end());

  it('validates, runs every wave once per member through the real services, and refuses a second launch', async () => {
    const file = campaignFile(slug);
    // The stack's tracking server listens on 127.0.0.1: without the flag the launch is refused.
    const local = await runCli(['launch', file, '--dry-run'], env);
    expect(local.code).toBe(3);
    expect(local.stderr).toMatch(
      /launch: the links would point at http:\/\/127\.0\.0\.1:\d+.*MAILROOM_TRACKING_URL.*--allow-local-links/,
    );
    const dry = await runCli(['launch', file, '--dry-run', '--json', '--allow-local-links'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ launched: false, counts: { contactable: 6 } });
    const run = await runCli(['launch', file, '--wait', '--json', '--allow-local-links'], env);
    expect(run.code, run.stderr).toBe(0);
    const { progress } = JSON.parse(run.stdout);
    expect(progress).toMatchObject({ status: 'completed', contactable: 6 });
    expect(progress.waves.map((w: { sent: number }) => w.sent)).toEqual([6, 6]);
    const state = readStackState(mailroomPaths())!;
    expect(readdirSync(state.smtp!.outbox).filter((f) => f.includes(`.${slug}@mailroom`))).toHaveLength(6);
    const sms = readFileSync(join(state.sms!.outbox, 'messages.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('+8613900'))
      .map((l) => JSON.parse(l));
    const ours = await sql<{ phone: string }[]>`select phone from customers where external_id like ${`LX${tag}-%`}`;
    expect(sms.filter((m) => ours.some((o) => o.phone === m.to))).toHaveLength(6);
    const status = await runCli(['status', slug, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      campaign: slug,
      status: 'completed',
      workflowStatus: 'COMPLETED',
    });
    // A finished wave reads n/n: planned counts the suppressed already.
    const text = await runCli(['status', slug], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/reminder\s+email\s+done\s+6\/6\s/);
    const again = await runCli(['launch', file, '--allow-local-links'], env);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(new RegExp(`campaign ${slug} was launched on .*give the campaign a new name`));
  }, 240_000);

  it('refuses before starting anything when a template uses a missing field', async () => {
    const bad = join(dir, 'templates', 'bad-sms');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'template.yaml'), 'channel: sms\n');
    writeFileSync(join(bad, 'body.txt.hbs'), '{{customer.nickname}}\n');
    const file = campaignFile(`bad-${tag}`).replace('.yaml', '.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('template: wealth-last-call-sms', 'template: bad-sms'));
    const run = await runCli(['launch', file, '--allow-local-links'], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/bad-sms\/body\.txt\.hbs:1: "customer\.nickname" is not in the data/);
    expect(await sql`select 1 from campaigns where slug = ${`bad-${tag}`}`).toHaveLength(0);
  });

  it('prints a mail wave, takes the posting confirmation from the operator, and reports', async () => {
    const name = `mail-${tag}`;
    const file = campaignFile(
      name,
      '  - { name: letter, channel: mail, template: member-postcard, cost_per_piece: 1.20 }',
    );
    const launched = await runCli(['launch', file, '--allow-local-links'], env);
    expect(launched.code, launched.stderr).toBe(0);
    // Launch says where the letters will be and that their posting must be confirmed in time.
    expect(launched.stdout).toContain(
      `Mail wave letter: printed into ${join(readStackState(mailroomPaths())!.home, 'print', name, 'letter')}`,
    );
    expect(launched.stdout).toMatch(/confirm its posting within 14d of printing with `mailroom mail confirm/);
    let status: { waves: { name: string; status: string; planned: number }[] } | undefined;
    for (let i = 0; i < 150; i++) {
      status = JSON.parse((await runCli(['status', name, '--json'], env)).stdout);
      if (status!.waves[0]!.status === 'awaiting_confirmation') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status!.waves[0]).toMatchObject({ status: 'awaiting_confirmation', planned: 6 });
    const state = readStackState(mailroomPaths())!;
    const job = JSON.parse(readFileSync(join(state.home, 'print', name, 'letter', 'job.json'), 'utf8'));
    expect(job).toMatchObject({ campaign: name, wave: 'letter', pieces: 6 });
    const wrongWave = await runCli(['mail', 'confirm', name, '--wave', 'reminder'], env);
    expect(wrongWave.code).toBe(3);
    expect(wrongWave.stderr).toMatch(
      /cannot confirm wave reminder of .*: wave reminder is a email wave; only mail waves are confirmed/,
    );
    // A bad date is bad input (3), as the help says: not a date, no date of the calendar, the future.
    for (const date of ['1.12.2026', 'yesterday', '2026-13-01', '2099-12-31']) {
      const badDate = await runCli(['mail', 'confirm', name, '--wave', 'letter', '--date', date], env);
      expect(badDate.code, date).toBe(3);
      expect(badDate.stderr).toMatch(/--date: the posting date/);
    }
    const today = new Date().toISOString().slice(0, 10);
    const confirmed = await runCli(['mail', 'confirm', name, '--wave', 'letter', '--date', today, '--json'], env);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({
      name: 'letter',
      status: 'mailed',
      sent: 6,
      mailedOn: today,
    });
    await runCli(['skip-wait', name], env);
    // The summary stored when the campaign ends, as status shows it.
    let ended:
      | { status: string; summary?: { contacted: number; cost: number; waves: { wave: string; sent: number }[] } }
      | undefined;
    for (let i = 0; i < 150; i++) {
      ended = JSON.parse((await runCli(['status', name, '--json'], env)).stdout);
      if (ended!.summary) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ended).toMatchObject({ status: 'completed', summary: { contacted: 6, cost: 7.2 } });
    expect(ended!.summary!.waves.map((w) => [w.wave, w.sent])).toEqual([
      ['letter', 6],
      ['reminder', 6],
      ['last-call', 6],
    ]);
    // The report, recomputed from the database, agrees.
    const report = JSON.parse((await runCli(['report', name, '--json'], env)).stdout) as {
      status: string;
      cost: { total: number };
      treatment: { n: number };
      waves: { wave: string; sent: number }[];
    };
    expect(report).toMatchObject({ status: 'completed', cost: { total: 7.2 }, treatment: { n: 6 } });
    expect(report.waves.map((w) => [w.wave, w.sent])).toEqual([
      ['letter', 6],
      ['reminder', 6],
      ['last-call', 6],
    ]);
  }, 300_000);

  it('offers the same operations to scripts through the typed client', async () => {
    const { connectMailroom } = await import('../../client/index.ts');
    const mailroom = await connectMailroom();
    try {
      const name = `script-${tag}`;
      const file = campaignFile(name);
      await expect(mailroom.launch(file, { dryRun: true })).rejects.toThrow(/MAILROOM_TRACKING_URL/);
      expect(await mailroom.launch(file, { dryRun: true, allowLocalLinks: true })).toMatchObject({
        launched: false,
        counts: { contactable: 6 },
      });
      expect(await mailroom.launch(file, { allowLocalLinks: true })).toMatchObject({
        launched: true,
        workflowId: `campaign-${name}`,
      });
      await expect(mailroom.launch(file, { allowLocalLinks: true })).rejects.toThrow(/already running|was launched/);
      await mailroom.skipWait(name);
      const final = await mailroom.wait(name);
      expect(final).toMatchObject({ status: 'completed', workflowStatus: 'COMPLETED' });
      expect((await mailroom.report(name)).summary).toMatchObject({ contacted: 6 });
      await expect(mailroom.pause(`no-such-${tag}`)).rejects.toThrow(/is not running/);
      await expect(mailroom.confirmMailing(name, 'reminder')).rejects.toThrow(/cannot confirm wave reminder/);
    } finally {
      await mailroom.close();
    }
  }, 120_000);
});
