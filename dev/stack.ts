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
import { initialisePostgres, processInfo, startEmbeddedPostgres, stopOrphanedPostgres } from './postgres.ts';
import { PortPlan, readStackPorts, rememberStackPorts } from './stack-ports.ts';
import { supervise, type RestartPolicy, type Respawn, type SupervisedChild } from './supervise.ts';
import { ensureTemporalCli, type TemporalCli } from './temporal-cli.ts';
import { startTemporalDevServer } from './temporal-server.ts';
import { startSmtpSink } from './smtp-sink.ts';
import { startTwilioSandbox } from './twilio-sandbox.ts';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { installationSecret } from '../config/secret.ts';
import { devTrackingPlan, runTrackingServer, type DevTrackingPlan } from '../server/run-server.ts';
import { trackingUrlIsSet } from '../config/env.ts';
import {
  processAlive,
  readStackState,
  readStackStateFile,
  removeStackState,
  writeStackState,
  type StackState,
} from './stack-state.ts';

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

/**
 * Children of a stack whose supervisor was killed outright (kill -9) live on and hold their ports.
 * The Temporal server and the worker recorded in the stale stack.json are stopped if they are
 * still ours and orphaned (their parent is gone); PostgreSQL's orphan is found by its data dir.
 */
async function stopOrphans(paths: Paths, say: (line: string) => void): Promise<void> {
  // Before the ports are chosen, so that PostgreSQL takes its own port again.
  await stopOrphanedPostgres(paths);
  const stale = readStackStateFile(paths);
  if (!stale || processAlive(stale.pid)) return;
  const candidates = [
    { pid: stale.workerPid, what: 'worker', mark: `${CLI_ENTRY} worker`, graceMs: 30_000 },
    { pid: stale.temporalPid, what: 'Temporal dev server', mark: paths.temporalDb, graceMs: 15_000 },
  ];
  for (const { pid, what, mark, graceMs } of candidates) {
    const info = pid ? processInfo(pid) : undefined;
    if (!pid || !info || !info.cmdline.includes(mark)) continue;
    if (info.ppid !== 1 && processInfo(info.ppid)) continue;
    say(`Stopping the ${what} (pid ${pid}) left running by a stack that was killed.`);
    process.kill(pid, 'SIGTERM');
    const started = Date.now();
    while (processAlive(pid) && processInfo(pid)) {
      if (Date.now() - started > graceMs) process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The stack's tracking port: the remembered one unless MAILROOM_TRACKING_PORT or a loopback URL decides it. */
async function trackingPlan(env: Env, ports: PortPlan): Promise<DevTrackingPlan> {
  const plan = await devTrackingPlan(env, Object.values(ports.chosen));
  const decidedByUser =
    env.MAILROOM_TRACKING_PORT !== undefined ||
    (trackingUrlIsSet() && loopbackUrlPort(env.MAILROOM_TRACKING_URL) !== undefined);
  const before = ports.remembered.tracking;
  if (decidedByUser || before === undefined || before === plan.port) {
    ports.use('tracking', plan.port);
    return plan;
  }
  if (await ports.rememberedIsFree('tracking')) {
    ports.use('tracking', before);
    return { port: before, url: plan.urlGiven ? plan.url : `http://127.0.0.1:${before}`, urlGiven: plan.urlGiven };
  }
  ports.movedFrom('tracking', before, plan.port);
  ports.use('tracking', plan.port);
  return plan;
}

function loopbackUrlPort(url: string): number | undefined {
  const u = new URL(url);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)
    ? Number(u.port || 80)
    : undefined;
}

export async function startStack(
  env: Env,
  paths: Paths,
  opts: { worker: boolean; say: (line: string) => void; restartPolicy?: RestartPolicy },
): Promise<RunningStack> {
  const { say } = opts;
  if (readStackState(paths)) {
    throw new UserError(
      `a Mailroom stack is already running from ${paths.home}; see \`mailroom dev status\`, or stop it with \`mailroom dev stop\`.`,
      ExitCode.unavailable,
    );
  }
  const releaseLock = acquireLock(paths);
  const children: { name: string; supervised: SupervisedChild }[] = [];
  const servers: { close(): Promise<void> }[] = [];
  let tracking: { stop(): Promise<void> } | undefined;
  let stopping = false;
  let state: StackState | undefined;
  const stop = async () => {
    stopping = true;
    // Worker first (it finishes in-flight tasks), then the tracking server, Temporal, PostgreSQL, the sinks.
    const ordered = [...children].reverse();
    for (const c of ordered.filter((c) => c.name === 'worker')) await c.supervised.stop(30_000);
    await tracking?.stop();
    for (const c of ordered.filter((c) => c.name !== 'worker')) await c.supervised.stop(15_000);
    for (const server of servers) await server.close();
    removeStackState(paths);
    releaseLock();
  };
  // A restarted child has a new pid: the state says so, for `dev status` and for tests.
  const record = (patch: Partial<StackState>) => {
    if (!state || stopping) return;
    state = { ...state, ...patch };
    writeStackState(paths, state);
  };
  const superviseChild = (
    name: string,
    first: ManagedChild,
    what: string,
    respawn: Respawn,
    onRestarted: (child: ManagedChild) => void,
  ) => {
    const supervised = supervise(first, {
      what,
      respawn,
      say,
      onRestarted,
      ...(opts.restartPolicy ? { policy: opts.restartPolicy } : {}),
    });
    children.push({ name, supervised });
    return supervised;
  };
  try {
    const provisioned = await provisionStack(env, paths, say);
    await stopOrphans(paths, say);
    const ports = new PortPlan(readStackPorts(paths), say);
    let databaseUrl = env.DATABASE_URL;
    let postgresPid: number | undefined;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres(paths, say, { port: await ports.take('postgres', 54329) });
      superviseChild('postgres', pg.child, `PostgreSQL (port ${pg.port})`, pg.respawn, (child) =>
        record({ postgresPid: child.process.pid! }),
      );
      databaseUrl = pg.url;
      postgresPid = pg.child.process.pid;
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
    let temporalPid: number | undefined;
    if (env.TEMPORAL_ADDRESS) {
      target = temporalTargetFromEnv(env, env.TEMPORAL_ADDRESS);
    } else {
      const cli = provisioned.temporal as TemporalCli;
      binary = cli.path;
      const temporal = await startTemporalDevServer(cli.path, paths, {
        namespace: env.TEMPORAL_NAMESPACE,
        say,
        ports: {
          port: await ports.take('temporal', 7233),
          uiPort: await ports.take('temporalUi', 8233),
          httpPort: await ports.take('temporalHttp', 7243),
          metricsPort: await ports.take('temporalMetrics', 7244),
        },
      });
      superviseChild(
        'temporal',
        temporal.child,
        `the Temporal dev server (${temporal.address})`,
        temporal.respawn,
        (child) => record({ temporalPid: child.process.pid! }),
      );
      target = temporalTargetFromEnv(env, temporal.address);
      uiUrl = temporal.uiUrl;
      temporalPid = temporal.child.process.pid;
    }
    // Email and SMS go to local stand-ins unless the real services are configured.
    const services: Pick<StackState, 'smtp' | 'sms'> = {};
    if (!env.SMTP_URL) {
      const sink = await startSmtpSink(paths.outbox, {
        port: await ports.take('smtp', 2525),
        lookupPort: await ports.take('smtpLookup', 2580),
      });
      servers.push(sink);
      services.smtp = { url: sink.url, lookupUrl: sink.lookupUrl, outbox: sink.outbox };
    }
    if (!env.TWILIO_ACCOUNT_SID) {
      const sandbox = await startTwilioSandbox(paths.smsOutbox, {
        ...sandboxCredentials(paths),
        port: await ports.take('sms', 8099),
      });
      servers.push(sandbox);
      services.sms = {
        url: sandbox.url,
        accountSid: sandbox.accountSid,
        authToken: sandbox.authToken,
        outbox: sandbox.outbox,
      };
    }
    // Clicks, opens, landings and the sandbox's status callbacks come here.
    const plan = await trackingPlan(env, ports);
    mkdirSync(paths.logs, { recursive: true });
    const trackingLog = join(paths.logs, 'tracking.log');
    const server = await runTrackingServer({
      databaseUrl,
      secret: installationSecret(env, paths),
      trackingUrl: plan.url,
      twilioAuthToken: services.sms?.authToken ?? env.TWILIO_AUTH_TOKEN,
      // Where inbound messages' received times are asked, so STOP and START apply in the order sent.
      twilioApiUrl: services.sms?.url ?? (env.TWILIO_ACCOUNT_SID ? 'https://api.twilio.com' : undefined),
      port: plan.port,
      host: '127.0.0.1',
      log: pino(
        { level: env.LOG_LEVEL, base: { app: 'mailroom', part: 'tracking' } },
        pino.destination({ dest: trackingLog, sync: true }),
      ),
    });
    tracking = server;
    // From here on the next start takes these ports again.
    rememberStackPorts(paths, ports.chosen);
    const trackingState = { listen: server.url, url: plan.url };
    let workerPid: number | undefined;
    if (opts.worker) {
      const workerUrl = databaseUrl;
      const spawnWorker = () =>
        startWorkerProcess(paths, workerUrl, target, services, plan.urlGiven ? undefined : plan.url);
      const workerReady = (child: ManagedChild) =>
        waitUntilReady(child, () => workerIsPolling(target, child.process.pid!), {
          limitMs: 120_000,
          say,
          what: 'the worker',
        });
      const worker = spawnWorker();
      workerPid = worker.process.pid!;
      superviseChild('worker', worker, 'the worker', { spawn: spawnWorker, ready: workerReady }, (child) =>
        record({ workerPid: child.process.pid! }),
      );
      await workerReady(worker);
    }
    state = {
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
      ...(temporalPid ? { temporalPid } : {}),
      ...(postgresPid ? { postgresPid } : {}),
      ...services,
      ...(env.SMTP_URL ? { smtpUrl: env.SMTP_URL } : {}),
      ...(env.SMTP_URL && env.SMTP_LOOKUP_URL ? { smtpLookupUrl: env.SMTP_LOOKUP_URL } : {}),
      tracking: trackingState,
      logs: paths.logs,
      ...(ports.moved.length ? { portNotes: ports.moved } : {}),
    };
    writeStackState(paths, state);
    // A child that dies is restarted; only one that keeps dying stops the stack.
    const failed = Promise.race(children.map((c) => c.supervised.gaveUp));
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
