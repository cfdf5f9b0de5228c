// `mailroom dev` as a supervisor, on a stack of its own (its own MAILROOM_HOME): a child killed
// with SIGKILL comes back on the same port and the stack goes on; a stack stopped and started
// again takes the same ports; a remembered port that another process holds is replaced, and said.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Paths } from '../../config/paths.ts';
import { portIsFree } from '../../config/ports.ts';
import { processAlive, readStackState, type StackState } from '../../dev/stack-state.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/csv.ts';

const listen = (port: number) =>
  new Promise<Server>((resolveListen, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen(server));
  });

const port = (url: string) => Number(/:(\d+)(\/|$)/.exec(url.replace(/^\w+:\/\/[^@]*@/, '//'))![1]);

/** Every port the stack's parts listen on. */
const portsOf = (s: StackState) => ({
  postgres: port(s.databaseUrl),
  temporal: port(s.temporal.address),
  temporalUi: port(s.temporal.uiUrl!),
  smtp: port(s.smtp!.url),
  smtpLookup: port(s.smtp!.lookupUrl!),
  sms: port(s.sms!.url),
  tracking: port(s.tracking!.listen),
});

// The conventional ports a first start prefers (PostgreSQL, Temporal and its UI/HTTP/metrics,
// SMTP sink and lookup, Twilio sandbox, tracking).
const CONVENTIONAL = [54329, 7233, 8233, 7243, 7244, 2525, 2580, 8099, 8088];

describe('mailroom dev supervises its children and keeps its ports', () => {
  const home = tempDir('mailroom-supervised-');
  const paths = { home, stackState: join(home, 'stack.json') } as Paths;
  // A stack of its own with its own SMTP sink, Twilio sandbox and tracking server.
  const env = {
    MAILROOM_HOME: home,
    DATABASE_URL: '',
    TEMPORAL_ADDRESS: '',
    SMTP_URL: '',
    TWILIO_ACCOUNT_SID: '',
    TWILIO_AUTH_TOKEN: '',
    MAILROOM_TRACKING_URL: '',
    MAILROOM_TRACKING_PORT: '',
  };
  let first: StackState & { reused: boolean };
  afterAll(async () => {
    await runCli(['dev', 'stop'], env);
  });

  const start = async () => {
    const started = await runCli(['dev', '--detach', '--json'], env, { timeoutMs: 300_000 });
    expect(started.code, started.stderr).toBe(0);
    return JSON.parse(started.stdout) as StackState & { reused: boolean };
  };

  const doctorWorks = async () => {
    const doctor = await runCli(['doctor', '--json'], env, { timeoutMs: 180_000 });
    expect(doctor.code, doctor.stderr + doctor.stdout).toBe(0);
    // doctor runs a workflow through the stack's worker and reads the database.
    expect(JSON.parse(doctor.stdout)).toMatchObject({ workflowId: expect.any(String), customers: 0 });
  };

  it('restarts a worker, Temporal or PostgreSQL killed with SIGKILL on the same port, and goes on', async () => {
    // The conventional ports are held while the stack first starts, so that it takes others: a
    // restart that chose ports afresh would move to the conventional ones.
    const held = await Promise.all(
      CONVENTIONAL.map(async (p) => ((await portIsFree(p)) ? await listen(p).catch(() => undefined) : undefined)),
    );
    try {
      first = await start();
    } finally {
      for (const server of held) server?.close();
    }
    expect(first.reused).toBe(false);
    await doctorWorks();

    for (const part of ['workerPid', 'temporalPid', 'postgresPid'] as const) {
      const before = readStackState(paths)!;
      const pid = before[part]!;
      expect(processAlive(pid), part).toBe(true);
      process.kill(pid, 'SIGKILL');
      let after = readStackState(paths);
      for (let i = 0; i < 900 && (!after || after[part] === pid); i++) {
        await new Promise((r) => setTimeout(r, 200));
        after = readStackState(paths);
      }
      expect(after?.[part], `${part} was not restarted`).not.toBe(pid);
      // The same stack, on the same ports.
      expect(after!.pid).toBe(first.pid);
      expect(portsOf(after!)).toEqual(portsOf(first));
      await doctorWorks();
    }
    const log = readFileSync(join(home, 'logs', 'dev.log'), 'utf8');
    expect(log).toMatch(/The worker exited \(signal SIGKILL\); restarting it in 1 s/);
    expect(log).toContain(`The Temporal dev server (${first.temporal.address}) exited (signal SIGKILL); restarting`);
    expect(log).toContain(`PostgreSQL (port ${portsOf(first).postgres}) exited (signal SIGKILL); restarting`);
    expect(log).toMatch(/The worker is running again \(pid \d+\)/);
    expect(processAlive(first.pid)).toBe(true);
  }, 900_000);

  it('takes the same ports after a stop and a start, and says so when one is taken by another process', async () => {
    expect((await runCli(['dev', 'stop'], env)).stdout).toContain('Stopped the Mailroom dev stack.');
    const second = await start();
    expect(second.pid).not.toBe(first.pid);
    expect(portsOf(second)).toEqual(portsOf(first));
    expect(second.portNotes).toBeUndefined();
    await doctorWorks();

    expect((await runCli(['dev', 'stop'], env)).code).toBe(0);
    const tracking = portsOf(first).tracking;
    const squatter = await listen(tracking);
    try {
      const third = await start();
      const moved = portsOf(third).tracking;
      expect(moved).not.toBe(tracking);
      expect({ ...portsOf(third), tracking }).toEqual(portsOf(first));
      const note = `The tracking server moved from port ${tracking} to ${moved}: port ${tracking}, which the stack used before, is taken by another process. Links already sent to port ${tracking} do not answer until it is free again.`;
      expect(third.portNotes).toEqual([note]);
      expect((await runCli(['dev', 'status'], env)).stdout).toContain(`Note          ${note}`);
    } finally {
      squatter.close();
    }
  }, 900_000);
});
