// The embedded stack for one machine: PostgreSQL, the Temporal dev server and a worker, each
// replaced by the real service when DATABASE_URL or TEMPORAL_ADDRESS is set; an SMTP sink and a
// Twilio sandbox unless SMTP_URL or Twilio credentials are set; and the tracking server.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { Env } from '../config/env.ts';
import type { Paths } from '../config/paths.ts';
import { temporalTargetFromEnv, clientConnectionOptions, type TemporalTarget } from '../config/temporal.ts';
import { ExitCode, UserError } from '../config/errors.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { logTail, startChild, waitUntilReady, type ManagedChild } from './child-process.ts';
import { initialisePostgres, startEmbeddedPostgres } from './postgres.ts';
import { ensureTemporalCli, type TemporalCli } from './temporal-cli.ts';
import { startTemporalDevServer } from './temporal-server.ts';
import { startSmtpSink } from './smtp-sink.ts';
import { startTwilioSandbox } from './twilio-sandbox.ts';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { installationSecret } from '../config/secret.ts';
import { devTrackingPlan, runTrackingServer } from '../server/run-server.ts';
import { processAlive, readStackState, removeStackState, writeStackState, type StackState } from './stack-state.ts';

export const CLI_ENTRY = fileURLToPath(new URL('../bin/mailroom.mjs', import.meta.url));

export interface ProvisionResult {
  temporal: { source: 'TEMPORAL_ADDRESS' } | TemporalCli;
  database: 'DATABASE_URL' | 'embedded';
}

/** Everything slow that happens once per machine: the Temporal CLI build and initdb. */
export async function provisionStack(env: Env, paths: Paths, say: (line: string) => void): Promise<ProvisionResult> {
  const temporal = env.TEMPORAL_ADDRESS
    ? { source: 'TEMPORAL_ADDRESS' as const }
    : await ensureTemporalCli(env, paths, say);
  if (!env.DATABASE_URL) await initialisePostgres(paths, say);
  return { temporal, database: env.DATABASE_URL ? 'DATABASE_URL' : 'embedded' };
}

export interface RunningStack {
  state: StackState;
  /** Resolves with a message when a part of the stack stops on its own. */
  failed: Promise<string>;
  stop(): Promise<void>;
}

function acquireLock(paths: Paths): () => void {
  mkdirSync(paths.home, { recursive: true });
  const lock = join(paths.home, 'stack.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch {
      const holder = Number(existsSync(lock) ? readFileSync(lock, 'utf8') : 0);
      if (holder && processAlive(holder)) {
        throw new UserError(
          `another Mailroom stack is starting or running from ${paths.home} (pid ${holder}). Use it, or stop it with \`mailroom dev stop\`.`,
          ExitCode.unavailable,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  throw new UserError(`could not take the stack lock in ${paths.home}`, ExitCode.unavailable);
}

async function workerIsPolling(target: TemporalTarget, pid: number): Promise<boolean> {
  const connection = await Connection.connect({ ...clientConnectionOptions(target), connectTimeout: 2000 });
  try {
    const response = await connection.workflowService.describeTaskQueue({
      namespace: target.namespace,
      taskQueue: { name: target.taskQueue },
      taskQueueType: 1, // workflow task queue
    });
    return (response.pollers ?? []).some((p) => (p.identity ?? '').startsWith(`${pid}@`));
  } finally {
    await connection.close();
  }
}

export function startWorkerProcess(
  paths: Paths,
  databaseUrl: string,
  target: TemporalTarget,
  services: Pick<StackState, 'smtp' | 'sms'> = {},
  trackingUrl?: string,
): ManagedChild {
  return startChild('worker', process.execPath, [CLI_ENTRY, 'worker'], {
    logPath: join(paths.logs, 'worker.log'),
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
      ...(services.smtp ? { SMTP_URL: services.smtp.url, SMTP_LOOKUP_URL: services.smtp.lookupUrl } : {}),
      ...(services.sms
        ? {
            TWILIO_ACCOUNT_SID: services.sms.accountSid,
            TWILIO_AUTH_TOKEN: services.sms.authToken,
            TWILIO_SANDBOX_URL: services.sms.url,
          }
        : {}),
      // The stack's tracking server, when it chose the URL (MAILROOM_TRACKING_URL unset).
      ...(trackingUrl ? { MAILROOM_TRACKING_URL: trackingUrl } : {}),
    },
  });
}

/** The sandbox's credentials stay the same across restarts of the stack. */
function sandboxCredentials(paths: Paths): { accountSid: string; authToken: string } {
  const file = join(paths.home, 'twilio-sandbox.json');
  if (!existsSync(file)) {
    mkdirSync(paths.home, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        accountSid: `AC${randomBytes(16).toString('hex')}`,
        authToken: randomBytes(16).toString('hex'),
      }),
      { mode: 0o600 },
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as { accountSid: string; authToken: string };
}

export async function startStack(
  env: Env,
  paths: Paths,
  opts: { worker: boolean; say: (line: string) => void },
): Promise<RunningStack> {
  const { say } = opts;
  if (readStackState(paths)) {
    throw new UserError(
      `a Mailroom stack is already running from ${paths.home}; see \`mailroom dev status\`, or stop it with \`mailroom dev stop\`.`,
      ExitCode.unavailable,
    );
  }
  const releaseLock = acquireLock(paths);
  const children: ManagedChild[] = [];
  const servers: { close(): Promise<void> }[] = [];
  let tracking: { stop(): Promise<void> } | undefined;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // Worker first (it finishes in-flight tasks), then the tracking server, Temporal, PostgreSQL, the sinks.
    const ordered = [...children].reverse();
    for (const child of ordered.filter((c) => c.name === 'worker')) await child.stop(30_000);
    await tracking?.stop();
    for (const child of ordered.filter((c) => c.name !== 'worker')) await child.stop(15_000);
    for (const server of servers) await server.close();
    removeStackState(paths);
    releaseLock();
  };
  try {
    const provisioned = await provisionStack(env, paths, say);
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres(paths, say);
      children.push(pg.child);
      databaseUrl = pg.url;
    }
    const sql = connectDatabase(databaseUrl, { max: 1 });
    try {
      const migrated = await migrate(sql);
      if (migrated.applied.length) say(`Applied migrations: ${migrated.applied.join(', ')}`);
    } finally {
      await sql.end();
    }
    let target: TemporalTarget;
    let uiUrl: string | undefined;
    let binary: string | undefined;
    if (env.TEMPORAL_ADDRESS) {
      target = temporalTargetFromEnv(env, env.TEMPORAL_ADDRESS);
    } else {
      const cli = provisioned.temporal as TemporalCli;
      binary = cli.path;
      const temporal = await startTemporalDevServer(cli.path, paths, { namespace: env.TEMPORAL_NAMESPACE, say });
      children.push(temporal.child);
      target = temporalTargetFromEnv(env, temporal.address);
      uiUrl = temporal.uiUrl;
    }
    // Email and SMS go to local stand-ins unless the real services are configured.
    const services: Pick<StackState, 'smtp' | 'sms'> = {};
    if (!env.SMTP_URL) {
      const sink = await startSmtpSink(paths.outbox);
      servers.push(sink);
      services.smtp = { url: sink.url, lookupUrl: sink.lookupUrl, outbox: sink.outbox };
    }
    if (!env.TWILIO_ACCOUNT_SID) {
      const sandbox = await startTwilioSandbox(paths.smsOutbox, sandboxCredentials(paths));
      servers.push(sandbox);
      services.sms = {
        url: sandbox.url,
        accountSid: sandbox.accountSid,
        authToken: sandbox.authToken,
        outbox: sandbox.outbox,
      };
    }
    // Clicks, opens, landings and the sandbox's status callbacks come here.
    const plan = await devTrackingPlan(env);
    mkdirSync(paths.logs, { recursive: true });
    const trackingLog = join(paths.logs, 'tracking.log');
    const server = await runTrackingServer({
      databaseUrl,
      secret: installationSecret(env, paths),
      trackingUrl: plan.url,
      twilioAuthToken: services.sms?.authToken ?? env.TWILIO_AUTH_TOKEN,
      port: plan.port,
      host: '127.0.0.1',
      log: pino(
        { level: env.LOG_LEVEL, base: { app: 'mailroom', part: 'tracking' } },
        pino.destination({ dest: trackingLog, sync: true }),
      ),
    });
    tracking = server;
    const trackingState = { listen: server.url, url: plan.url };
    let workerPid: number | undefined;
    if (opts.worker) {
      const worker = startWorkerProcess(paths, databaseUrl, target, services, plan.urlGiven ? undefined : plan.url);
      children.push(worker);
      workerPid = worker.process.pid!;
      await waitUntilReady(worker, () => workerIsPolling(target, workerPid!), {
        limitMs: 120_000,
        say,
        what: 'the worker',
      });
    }
    const state: StackState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      home: paths.home,
      databaseUrl,
      database: provisioned.database,
      temporal: {
        address: target.address,
        namespace: target.namespace,
        taskQueue: target.taskQueue,
        ...(uiUrl ? { uiUrl } : {}),
        source: provisioned.temporal.source,
        ...(binary ? { binary } : {}),
      },
      ...(workerPid ? { workerPid } : {}),
      ...services,
      tracking: trackingState,
      logs: paths.logs,
    };
    writeStackState(paths, state);
    const failed = Promise.race(
      children.map(async (child) => {
        const code = await child.exited;
        if (stopping) return new Promise<string>(() => {});
        return `${child.name} exited with code ${code}. Last lines of ${child.logPath}:\n${logTail(child.logPath)}`;
      }),
    );
    return { state, failed, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts `mailroom dev` in the background and returns once it is ready (or reuses a running one). */
export async function startDetached(
  env: Env,
  paths: Paths,
  say: (line: string) => void,
): Promise<{ state: StackState; reused: boolean }> {
  const running = readStackState(paths);
  if (running) return { state: running, reused: true };
  // Slow first-time work happens here, in the foreground, where its progress is visible.
  await provisionStack(env, paths, say);
  mkdirSync(paths.logs, { recursive: true });
  const logPath = join(paths.logs, 'dev.log');
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [CLI_ENTRY, 'dev'], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: process.env,
  });
  closeSync(fd);
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  child.unref();
  const started = Date.now();
  while (Date.now() - started < 300_000) {
    const state = readStackState(paths);
    if (state && state.pid === child.pid) return { state, reused: false };
    if (exitCode !== undefined) {
      throw new UserError(
        `the stack failed to start (exit ${exitCode}). Last lines of ${logPath}:\n${logTail(logPath, 30)}`,
        ExitCode.unavailable,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new UserError(`the stack did not become ready within 5 minutes; see ${logPath}`, ExitCode.unavailable);
}

/** Stops a running stack by signalling its supervisor; true when one was running. */
export async function stopRunningStack(paths: Paths): Promise<boolean> {
  const state = readStackState(paths);
  if (!state) return false;
  process.kill(state.pid, 'SIGTERM');
  const started = Date.now();
  while (processAlive(state.pid)) {
    if (Date.now() - started > 90_000) process.kill(state.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
}
