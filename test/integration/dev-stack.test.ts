import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../dev/stack-state.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';

const CLI = fileURLToPath(new URL('../../bin/mailroom.mjs', import.meta.url));

describe('mailroom dev', () => {
  const home = tempDir('mailroom-home-');
  // A stack of its own: not the run's stack, not a configured server.
  const env = { MAILROOM_HOME: home, DATABASE_URL: '', TEMPORAL_ADDRESS: '' };
  const stateFile = join(home, 'stack.json');
  afterAll(async () => {
    await runCli(['dev', 'stop'], env);
  });

  it('keeps customers and Temporal history across a stop and a restart, and stops cleanly on Ctrl-C', async () => {
    const started = await runCli(['dev', '--detach', '--json'], env);
    expect(started.code, started.stderr).toBe(0);
    const first = JSON.parse(started.stdout);
    expect(first).toMatchObject({
      reused: false,
      database: 'embedded',
      temporal: { uiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
    });
    expect((await runCli(['dev', '--detach', '--json'], env)).stdout).toContain('"reused": true');
    // Email and SMS stand-ins run with the stack: mail sent to its SMTP port lands in its outbox.
    expect(first.smtp.outbox).toBe(join(home, 'outbox'));
    expect(first.sms).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      accountSid: expect.stringMatching(/^AC[0-9a-f]{32}$/),
    });
    const transport = nodemailer.createTransport({ url: first.smtp.url } as never);
    await transport.sendMail({
      from: 'm@example.com',
      to: 'w@example.com',
      subject: 'hello',
      text: 'x',
      messageId: '<stack-check@mailroom.test>',
    });
    transport.close();
    expect(readdirSync(first.smtp.outbox)).toContain('stack-check@mailroom.test.eml');
    // The tracking server runs with it; messages link to it (8088, or the free port it took).
    expect(first.tracking).toMatchObject({ listen: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect((await fetch(`${first.tracking.listen}/health`)).status).toBe(200);
    expect((await runCli(['dev', 'status'], env)).stdout).toContain(`Tracking      ${first.tracking.listen}`);
    if (!process.env.MAILROOM_TRACKING_URL) {
      expect(first.tracking.url).toBe(first.tracking.listen);
      // The worker was told the URL (Linux shows a process's environment).
      const environ = `/proc/${first.workerPid}/environ`;
      if (existsSync(environ))
        expect(readFileSync(environ, 'utf8').split('\0')).toContain(`MAILROOM_TRACKING_URL=${first.tracking.url}`);
    }

    expect((await runCli(['seed', '--customers', '120', '--seed', '5'], env)).code).toBe(0);
    const doctor = JSON.parse((await runCli(['doctor', '--json'], env)).stdout);
    expect(doctor).toMatchObject({ customers: 120 });

    const stopped = await runCli(['dev', 'stop'], env);
    expect(stopped.stdout).toContain('Stopped the Mailroom dev stack.');
    expect(processAlive(first.pid)).toBe(false);
    expect(processAlive(first.workerPid)).toBe(false);
    await expect(fetch(`${first.tracking.listen}/health`)).rejects.toThrow();
    expect((await runCli(['dev', 'status'], env)).code).toBe(1);

    // Again, in the foreground this time, as a person at a terminal would run it.
    const fg = spawn(process.execPath, [CLI, 'dev'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    fg.stdout.on('data', (d: Buffer) => (output += d.toString()));
    fg.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => fg.on('exit', (code) => r(code)));
    for (
      let i = 0;
      i < 600 && !(existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes(`"pid": ${fg.pid},`));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain('Temporal UI');
    const again = JSON.parse((await runCli(['doctor', '--json'], env)).stdout);
    expect(again.customers).toBe(120);
    const history = await runCli(['dev', 'status', '--json'], env);
    const { temporal, sms } = JSON.parse(history.stdout);
    expect(sms.accountSid).toBe(first.sms.accountSid);
    const { Connection, Client } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: temporal.address });
    const earlier = await new Client({ connection, namespace: temporal.namespace }).workflow
      .getHandle(doctor.workflowId)
      .describe();
    await connection.close();
    expect(earlier.status.name).toBe('COMPLETED');

    fg.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('Stopped.');
    expect(existsSync(stateFile)).toBe(false);
  }, 240_000);
});
