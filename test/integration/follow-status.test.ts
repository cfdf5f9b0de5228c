// Following a campaign from the CLI with its output piped (as into a log file): one line per change
// of state, for `launch --wait` and for `status NAME --wait` on a campaign launched earlier; and
// when Temporal goes away under a follower, it says so and exits 4 (real Temporal, PostgreSQL and
// SMTP server, a worker of this code; a TCP proxy in front of Temporal stands for it going away).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyFreePort } from '../../config/ports.ts';
import { startSmtpSink, type SmtpSink } from '../../dev/smtp-sink.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestWorker, testTarget } from '../helpers/temporal.ts';

const CLI = fileURLToPath(new URL('../../bin/mailroom.mjs', import.meta.url));

describe('following a campaign with piped output', () => {
  const tag = randomBytes(3).toString('hex');
  const dir = tempDir('mailroom-follow-');
  const target = testTarget();
  let env: NodeJS.ProcessEnv;
  let db: TestDatabase;
  let sink: SmtpSink;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  function campaignFile(name: string, lastAfter: string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'response_window: 0s',
        `audience: { rules: { field: external_id, op: starts_with, value: 'FW${tag}-' }, channel: email }`,
        'waves:',
        '  - { name: reminder, channel: email, template: wealth-reminder-email }',
        `  - { name: last-call, channel: email, template: wealth-reminder-email, after: ${lastAfter} }`,
      ].join('\n'),
    );
    return file;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const sql = db.sql;
    sink = await startSmtpSink(join(dir, 'outbox'), { port: await anyFreePort() });
    worker = await startTestWorker(db.url, target, {
      secret: 's',
      trackingUrl: 'https://go.example.com',
      from: 'Mailroom <m@example.com>',
      smtpUrl: sink.url,
    });
    env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
      MAILROOM_SECRET: 's',
    };
    for (let i = 1; i <= 4; i++) {
      await sql`insert into customers (external_id, full_name, family_name, gender, email)
                values (${`FW${tag}-${i}`}, ${`周${i}`}, '周', 'male', ${`fw${tag}-${i}@example.com`})`;
    }
    // One member without consent: not contactable on email.
    await sql`insert into consents (customer_id, channel, status, source)
              select id, 'email', 'granted', 't' from customers where external_id like ${`FW${tag}-%`} and external_id <> ${`FW${tag}-4`}`;
  });
  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
    await db?.drop();
  });

  const lines = (stderr: string) =>
    stderr
      .split('\n')
      .filter((l) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z /.test(l))
      .map((l) => l.slice(21));

  it('launch --wait prints a line per change of state when piped, and status --wait follows a campaign launched earlier', async () => {
    const first = `follow-a-${tag}`;
    const run = await runCli(['launch', campaignFile(first, '2s'), '--wait', '--allow-local-links'], env);
    expect(run.code, run.stderr).toBe(0);
    const seen = lines(run.stderr);
    // A finished wave reads n/n (the member without consent is not planned, or planned and suppressed).
    const finished = (slug: string, w: string) => new RegExp(`^${slug} wave ${w} \\(email\\): done (\\d+)/\\1$`);
    expect(
      seen.some((l) => finished(first, 'reminder').test(l)),
      run.stderr,
    ).toBe(true);
    expect(seen.some((l) => finished(first, 'last-call').test(l))).toBe(true);
    expect(
      seen.some((l) =>
        /^.* wave last-call \(email\): waiting not started — waits until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(l),
      ),
    ).toBe(true);
    expect(seen.at(-1)).toMatch(new RegExp(`^${first}: completed|^${first} wave last-call`));
    expect(seen).toContain(`${first}: completed`);
    // Each state once: no line is repeated while nothing changes.
    expect(new Set(seen).size).toBe(seen.length);
    expect(run.stdout).toMatch(/reminder\s+email\s+done\s+(\d+)\/\1\s/);

    const second = `follow-b-${tag}`;
    const launched = await runCli(['launch', campaignFile(second, '2s'), '--allow-local-links'], env);
    expect(launched.code, launched.stderr).toBe(0);
    const followed = await runCli(['status', second, '--wait'], env);
    expect(followed.code, followed.stderr).toBe(0);
    expect(lines(followed.stderr)).toContain(`${second}: completed`);
    expect(lines(followed.stderr).some((l) => finished(second, 'last-call').test(l))).toBe(true);
    expect(followed.stdout).toMatch(new RegExp(`^${second}: completed\\.`));
  }, 120_000);

  it('ends with "lost the connection to Temporal", exit 4, when Temporal goes away under status --wait', async () => {
    const name = `follow-lost-${tag}`;
    const launched = await runCli(['launch', campaignFile(name, '1h'), '--allow-local-links'], env);
    expect(launched.code, launched.stderr).toBe(0);
    const [host, port] = target.address.split(':') as [string, string];
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const child = spawn(process.execPath, [CLI, 'status', name, '--wait'], {
        env: { ...process.env, ...env, LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: address },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const waiting = new Promise<void>((resolve) =>
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('waits until')) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await waiting;
      // Temporal goes away: nothing listens there any more and open connections drop.
      proxy.close();
      for (const s of sockets) s.destroy();
      const code = await exited;
      expect(code, stderr).toBe(4);
      expect(stderr).toMatch(/error: lost the connection to Temporal at 127\.0\.0\.1:\d+/);
      expect(stderr).not.toMatch(/no campaign called/);
      expect(stdout).toBe('');
    } finally {
      proxy.close();
      for (const s of sockets) s.destroy();
      await runCli(['cancel', name], env);
    }
  }, 180_000);
});
