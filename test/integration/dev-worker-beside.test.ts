// A `mailroom worker` started by hand beside the dev stack works for it with all of its
// services: the database and Temporal, and also its SMTP sink, Twilio sandbox and tracking
// server. The stack runs without a worker of its own, so every step is this worker's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../db/connection.ts';
import type { StackState } from '../../dev/stack-state.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const CLI = fileURLToPath(new URL('../../bin/mailroom.mjs', import.meta.url));

describe('a worker started beside the dev stack', () => {
  const home = tempDir('mailroom-beside-');
  const stateFile = join(home, 'stack.json');
  // The stack's own services: nothing configured in the environment.
  const env = {
    MAILROOM_HOME: home,
    DATABASE_URL: '',
    TEMPORAL_ADDRESS: '',
    SMTP_URL: '',
    SMTP_LOOKUP_URL: '',
    TWILIO_ACCOUNT_SID: '',
    TWILIO_AUTH_TOKEN: '',
    MAILROOM_TRACKING_URL: '',
    MAILROOM_TRACKING_PORT: '',
  };
  const stack = spawn(process.execPath, [CLI, 'dev', '--no-worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  stack.stdout.on('data', (d: Buffer) => (output += d.toString()));
  stack.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const stackExited = new Promise((r) => stack.on('exit', r));
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    stack.kill('SIGINT');
    await stackExited;
  });

  it('sends an email wave through the stack’s SMTP sink and an SMS wave through its Twilio sandbox', async () => {
    for (
      let i = 0;
      i < 1500 && !(existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes(`"pid": ${stack.pid},`));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
    expect(state.workerPid, output).toBeUndefined();
    // Only MAILROOM_HOME: the worker finds everything else in the stack's state.
    worker = spawnWorker(env);
    await worker.ready;

    const tag = randomBytes(3).toString('hex');
    const slug = `beside-${tag}`;
    const sql = connectDatabase(state.databaseUrl, { max: 1 });
    try {
      for (let i = 1; i <= 4; i++) {
        await sql`insert into customers (external_id, full_name, family_name, gender, email, phone, address_line1, city, postal_code)
                  values (${`BS${tag}-${i}`}, ${`李${i}`}, '李', 'female', ${`bs${tag}-${i}@example.com`}, ${`+861390011${String(i).padStart(4, '0')}`},
                          ${`淮海路${i}号`}, '上海市', '200031')`;
      }
      await sql`insert into consents (customer_id, channel, status, source)
                select id, ch, 'granted', 't' from customers, unnest(array['email', 'sms']) as ch where external_id like ${`BS${tag}-%`}`;
    } finally {
      await sql.end();
    }
    const file = join(tempDir('mailroom-beside-campaign-'), `${slug}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${slug}`,
        'response_window: 0s',
        `audience: { rules: { field: external_id, op: starts_with, value: 'BS${tag}-' }, channel: email }`,
        'waves:',
        '  - { name: reminder, channel: email, template: wealth-reminder-email }',
        '  - { name: last-call, channel: sms, template: wealth-last-call-sms }',
      ].join('\n'),
    );
    const run = await runCli(['launch', file, '--wait', '--json', '--allow-local-links'], env, {
      timeoutMs: 240_000,
    });
    expect(run.code, run.stderr + worker.output()).toBe(0);
    expect(JSON.parse(run.stdout).progress).toMatchObject({ status: 'completed', contactable: 4 });

    // The messages are at the stack's SMTP sink, linking to the stack's tracking server.
    const emails = readdirSync(state.smtp!.outbox).filter((f) => f.includes(`.${slug}@mailroom`));
    expect(emails).toHaveLength(4);
    expect(readFileSync(join(state.smtp!.outbox, emails[0]!), 'utf8')).toContain(state.tracking!.url);
    const sms = readFileSync(join(state.sms!.outbox, 'messages.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('+861390011'));
    expect(sms).toHaveLength(4);
  }, 600_000);
});
