// Sends a one-wave email campaign through the real path — campaign workflow on Temporal, a
// `mailroom worker` process, the deliveries ledger in PostgreSQL, nodemailer into an SMTP sink —
// and, in the same run, a plain loop that renders the same messages and hands them to one pooled
// nodemailer transport with no ledger. Prints emails/s both ways (the ratio is the figure),
// Temporal history events over the workflow's whole chain of runs, and the worker's peak RSS.
//
//   npm run bench:send -- [--members 100000] [--batch-size 1000] [--concurrency 4] [--workers 1]
//                         [--rounds 1] [--plain-connections 5] [--timeout 900] [--fresh] [--cpu-prof DIR]
//                         [--mailroom-only]
//
// Uses DATABASE_URL's server or the running `mailroom dev` stack (its PostgreSQL and Temporal).
// The customers live in the database mailroom_bench_send, kept between runs of the same
// --members (--fresh seeds them again); the worker runs on its own task queue; the SMTP sink is a
// child process writing .eml files to a temporary folder, and its CPU is shown so that one can see
// whether it is the limit.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import type { WorkflowHandle } from '@temporalio/client';
import { context, withTemporalClient } from '../client/connect.ts';
import { launchCampaign, workflowIdOf } from '../client/api.ts';
import { connectDatabase, type Sql } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { runSeed } from '../dev/seed/run-seed.ts';
import { anyFreePort } from '../config/ports.ts';
import { startSmtpSink } from '../dev/smtp-sink.ts';
import { loadCampaign, waveTemplateName } from '../pipeline/campaign/campaign-file.ts';
import { contextFor, type MemberRow } from '../pipeline/render/context.ts';
import { MEMBER_COLUMNS } from '../pipeline/render/members.ts';
import { loadTemplate, renderEmail, resolveTemplateDir, type LoadedTemplate } from '../pipeline/render/templates.ts';
import { emailMessage, emailMessageId } from '../pipeline/send/email-message.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const SECRET = 'bench-send-secret';
const FROM = 'Mailroom bench <marketing@example.com>';
const TRACKING = 'https://go.example.com';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

// ---- /proc readings: CPU seconds of a process, the machine's busy share, a process's RSS ----
const TICK = 100; // USER_HZ on Linux
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
  } catch {
    return 0;
  }
}
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Waits for a line matching `re` on a child's output (stdout, or `stream`), within `ms`. */
function lineFrom(
  child: ChildProcess,
  re: RegExp,
  ms: number,
  what: string,
  stream = child.stdout!,
): Promise<RegExpExecArray> {
  return new Promise((resolveLine, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${what}: nothing matching ${re} within ${ms / 1000} s; output so far:\n${buffer.slice(-2000)}`),
        ),
      ms,
    );
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = re.exec(buffer);
      if (m) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolveLine(m);
      }
    };
    stream.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${buffer.slice(-2000)}`));
    });
  });
}

/** Every child this bench starts, so that none outlives it. With --cpu-prof DIR, each writes a CPU profile there. */
const children = new Set<ChildProcess>();
const profileDir = process.argv.includes('--cpu-prof')
  ? process.argv[process.argv.indexOf('--cpu-prof') + 1]
  : undefined;
function child(args: string[], opts: Parameters<typeof spawn>[2] = {}): ChildProcess {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const c = spawn(process.execPath, [...profile, ...args], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function stop(child: ChildProcess, ms = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms).unref(),
    ),
  ]);

// ---- child: the SMTP sink ----
if (process.argv.includes('--sink-child')) {
  const outbox = process.argv[process.argv.indexOf('--sink-child') + 1]!;
  const sink = await startSmtpSink(outbox, { port: await anyFreePort(), lookupPort: 0 });
  process.stdout.write(`SINK ${sink.url} ${sink.lookupUrl}\n`);
  process.on('SIGTERM', () => void sink.close().then(() => process.exit(0)));
  await new Promise(() => {});
}

// ---- child: the plain loop — render each message and hand it to one pooled transport, no ledger ----
interface PlainResult {
  sent: number;
  seconds: number;
  peakRss: number;
  cpu: number;
  from: number;
  to: number;
}
if (process.argv.includes('--plain-child')) {
  const opts = JSON.parse(process.argv[process.argv.indexOf('--plain-child') + 1]!) as {
    url: string;
    campaignFile: string;
    slug: string;
    campaignId: number;
    smtpUrl: string;
    connections: number;
  };
  const sql = connectDatabase(opts.url, { max: 1 });
  const campaign = { ...loadCampaign(opts.campaignFile), slug: opts.slug };
  const wave = campaign.waves[0]!;
  const templates = new Map<string, LoadedTemplate>();
  const template = (variant: string | null) => {
    const name = waveTemplateName(wave, variant);
    let t = templates.get(name);
    if (!t) templates.set(name, (t = loadTemplate(resolveTemplateDir(name, campaign.dir))));
    if (t.channel !== 'email') throw new Error(`${name} is not an email template`);
    return t;
  };
  // The members' rows are read beforehand, as the ledger's batch query reads them: only rendering and sending are timed.
  const rows = (await sql`
    select m.customer_id, ${MEMBER_COLUMNS(sql)}, m.rank, m.band, m.variant
    from campaign_members m join customers c on c.id = m.customer_id
    where m.campaign_id = ${opts.campaignId} and m.suppression_reason is null and not m.holdout
    order by m.customer_id`) as unknown as MemberRow[];
  await sql.end();
  const transport = nodemailer.createTransport({
    url: opts.smtpUrl,
    pool: true,
    maxConnections: opts.connections,
    maxMessages: Infinity,
  } as never);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const asOf = new Date();
  const cpu0 = process.cpuUsage();
  const from = Date.now();
  const t = process.hrtime.bigint();
  let next = 0;
  let sent = 0;
  // Enough messages in flight to keep every pooled connection busy.
  await Promise.all(
    Array.from({ length: opts.connections * 4 }, async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        const ctx = contextFor(row, campaign, { secret: SECRET, trackingUrl: TRACKING, asOf });
        const messageId = emailMessageId(row.customer_id, `${opts.slug}-plain`);
        await transport.sendMail(
          emailMessage(ctx, renderEmail(template(ctx.variant), ctx), {
            from: FROM,
            messageId,
            tracking: { url: TRACKING, secret: SECRET, delivery: row.customer_id },
          }),
        );
        sent++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const used = process.cpuUsage(cpu0);
  clearInterval(sampler);
  transport.close();
  const result: PlainResult = { sent, seconds, peakRss, cpu: (used.user + used.system) / 1e6, from, to: Date.now() };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---- main ----
const members = arg('members', 100_000);
const batchSize = arg('batch-size', 1000);
const concurrency = arg('concurrency', 4);
const rounds = arg('rounds', 1);
const plainConnections = arg('plain-connections', 5);
const workers = arg('workers', 1);
const mailroomOnly = process.argv.includes('--mailroom-only');
const timeoutMs = arg('timeout', 900) * 1000;
let fresh = process.argv.includes('--fresh');

const ctx = context();
const stack = readStackState(ctx.paths);
const serverUrl = ctx.env.DATABASE_URL ?? stack?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const urlFor = (db: string) => serverUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
const benchUrl = urlFor('mailroom_bench_send');
const admin = connectDatabase(urlFor('postgres'), { max: 1 });
const [exists] = await admin`select 1 from pg_database where datname = 'mailroom_bench_send'`;
if (exists && !fresh) {
  const probe = connectDatabase(benchUrl, { max: 1 });
  const [have] = await probe`select count(*)::int as n from customers`.catch(() => [{ n: -1 }]);
  await probe.end();
  if (have!.n !== members) fresh = true;
}
if (fresh || !exists) {
  await admin`drop database if exists mailroom_bench_send with (force)`;
  await admin`create database mailroom_bench_send`;
}
await admin.end();
const sql = connectDatabase(benchUrl, { max: 2 });
await migrate(sql);
await sql`delete from campaigns where slug like 'bench-send-%'`;

/** Seeds `members` customers (kept for later runs) and makes every one of them reachable by email. */
async function prepareCustomers(db: Sql): Promise<void> {
  const [{ n }] = (await db`select count(*)::int as n from customers`) as unknown as [{ n: number }];
  if (n !== members) {
    const t = Date.now();
    process.stdout.write(`seeding ${members.toLocaleString()} customers (kept for later runs)…\n`);
    await runSeed(db, { customers: members, seed: 7, asOf: new Date('2026-11-01T00:00:00Z'), batchSize: 2000 });
    console.log(`seeded in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  // Every seeded customer gets an address and a granted email consent, and nothing is suppressed,
  // so that the wave has exactly `members` recipients.
  await db`update customers set email = 'customer' || id || '@example.com' where email is null`;
  await db`insert into consents (customer_id, channel, status, source) select id, 'email', 'granted', 'bench' from customers
           on conflict (customer_id, channel) do update set status = 'granted' where consents.status <> 'granted'`;
  await db`delete from suppressions`;
  await db`vacuum analyze`;
}
await prepareCustomers(sql);
const [{ version: pgVersion }] = (await sql`select current_setting('server_version') as version`) as unknown as [
  { version: string },
];

const work = join(ctx.paths.home, 'bench', 'send');
mkdirSync(work, { recursive: true });
const outbox = mkdtempSync(join(tmpdir(), 'mailroom-bench-outbox-'));
const clearOutbox = () => {
  rmSync(outbox, { recursive: true, force: true });
  mkdirSync(outbox, { recursive: true });
};
const sink = child([...process.execArgv, SELF, '--sink-child', outbox]);
const [, smtpUrl, lookupUrl] = await lineFrom(sink, /SINK (\S+) (\S+)\n/, 60_000, 'the SMTP sink');
const taskQueue = `mailroom-bench-send-${process.pid}`;

/** CPU seconds so far of the worker processes, their PostgreSQL backends and the sink, and the machine's ticks. */
interface Reading {
  at: number;
  workers: number;
  pg: number;
  sink: number;
  machine: { busy: number; total: number };
}
/** CPU shares over a time window, from the readings that bracket it. */
function shares(readings: Reading[], from: number, to: number) {
  const a = [...readings].reverse().find((r) => r.at <= from) ?? readings[0]!;
  const b = readings.find((r) => r.at >= to) ?? readings.at(-1)!;
  const seconds = (b.at - a.at) / 1000;
  return {
    workers: (b.workers - a.workers) / seconds,
    pg: (b.pg - a.pg) / seconds,
    sink: (b.sink - a.sink) / seconds,
    busy: (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total),
  };
}

interface MailroomResult {
  sent: number;
  waveSeconds: number;
  endToEndSeconds: number;
  events: number;
  runs: number;
  readyRss: number[];
  peakRss: number[];
  hwm: number[];
  /** Shares of one core during the wave (first pending row to last sent row), and over the whole campaign. */
  wave: ReturnType<typeof shares>;
  whole: ReturnType<typeof shares>;
}

/** Starts a worker process on the bench queue and waits until it polls. */
async function startWorker(n: number): Promise<ChildProcess> {
  const worker = child([join(REPO, 'bin/mailroom.mjs'), 'worker'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: benchUrl,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: smtpUrl,
      SMTP_LOOKUP_URL: lookupUrl,
      MAILROOM_SECRET: SECRET,
      MAILROOM_FROM: FROM,
      MAILROOM_TRACKING_URL: TRACKING,
      LOG_LEVEL: 'info',
      ...(stack && !ctx.env.TEMPORAL_ADDRESS
        ? { TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace }
        : {}),
    },
  });
  // Its log (stderr) goes to a file beside the campaign files.
  worker.stderr!.pipe(createWriteStream(join(work, `worker-${n}.log`)));
  try {
    await lineFrom(worker, /worker started/, 180_000, 'the worker', worker.stderr!);
  } catch (error) {
    await stop(worker);
    throw error;
  }
  return worker;
}

async function mailroomRun(
  round: number,
): Promise<{ result: MailroomResult; campaignFile: string; slug: string; campaignId: number }> {
  clearOutbox();
  const started: ChildProcess[] = [];
  try {
    for (let n = 1; n <= workers; n++) started.push(await startWorker(n));
    const pids = started.map((w) => w.pid!);
    const slug = `bench-send-${Date.now().toString(36)}-${round}`;
    const campaignFile = join(work, `${slug}.yaml`);
    writeFileSync(
      campaignFile,
      [
        `name: ${slug}`,
        'title: 财富管理月 Wealth-management month',
        'owner: 招商路支行 财富管理中心',
        'audience: { rules: { field: email, op: exists, value: true }, channel: email }',
        'waves: [{ name: reminder, channel: email, template: wealth-reminder-email }]',
        'response_window: 0s',
      ].join('\n'),
    );
    const campaign = loadCampaign(campaignFile);
    return await withTemporalClient(ctx, async (client) => {
      const readyRss = pids.map((pid) => statusKb(pid, 'VmRSS'));
      const peakRss = [...readyRss];
      // PostgreSQL's share: the backends serving the workers, found by their application name.
      const backends = new Set<number>();
      const readings: Reading[] = [];
      const read = (): Reading => ({
        at: Date.now(),
        workers: pids.reduce((a, pid) => a + cpuSeconds(pid), 0),
        pg: [...backends].reduce((a, pid) => a + cpuSeconds(pid), 0),
        sink: cpuSeconds(sink.pid!),
        machine: machineTicks(),
      });
      let ticks = 0;
      const sampler = setInterval(() => {
        pids.forEach((pid, i) => (peakRss[i] = Math.max(peakRss[i]!, statusKb(pid, 'VmRSS'))));
        if (ticks++ % 5 === 0) {
          readings.push(read());
          void sql<
            { pid: number }[]
          >`select pid from pg_stat_activity where datname = 'mailroom_bench_send' and application_name = 'mailroom-worker'`.then(
            (rows) => rows.forEach((r) => backends.add(r.pid)),
            () => {},
          );
        }
      }, 100);
      const launched = await launchCampaign(sql, client, campaign, {
        asOf: new Date(),
        secret: SECRET,
        trackingUrl: TRACKING,
        taskQueue,
        tuning: { batchSize, concurrency },
      });
      const startedAt = Date.now();
      const t = process.hrtime.bigint();
      await withTimeout(
        client.workflow.getHandle(launched.workflowId).result(),
        timeoutMs,
        `the campaign workflow (${launched.workflowId})`,
      );
      const endToEndSeconds = Number(process.hrtime.bigint() - t) / 1e9;
      clearInterval(sampler);
      readings.push(read());
      const [{ id: campaignId }] = (await sql`select id from campaigns where slug = ${slug}`) as unknown as [
        { id: number },
      ];
      const [w] = await sql<{ sent: number; from: Date; to: Date }[]>`
        select count(*) filter (where status = 'sent')::int as sent, min(created_at) as from, max(sent_at) as to
        from deliveries where campaign_id = ${campaignId}`;
      // History over every run of the chain: the last run, then each run it continued from.
      let events = 0;
      let runs = 0;
      let runId: string | undefined = (await client.workflow.getHandle(workflowIdOf(slug)).describe()).runId;
      while (runId) {
        const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await client.workflow
          .getHandle(workflowIdOf(slug), runId)
          .fetchHistory();
        const list = history.events ?? [];
        events += list.length;
        runs++;
        runId = list[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
      }
      const files = readdirSync(outbox).length;
      if (files !== w!.sent) throw new Error(`the sink holds ${files} messages, the ledger says ${w!.sent} sent`);
      const result: MailroomResult = {
        sent: w!.sent,
        waveSeconds: (w!.to.getTime() - w!.from.getTime()) / 1000,
        endToEndSeconds,
        events,
        runs,
        readyRss,
        peakRss,
        hwm: pids.map((pid) => statusKb(pid, 'VmHWM')),
        wave: shares(readings, w!.from.getTime(), w!.to.getTime()),
        whole: shares(readings, startedAt, Date.now()),
      };
      return { result, campaignFile, slug, campaignId };
    });
  } finally {
    for (const worker of started) await stop(worker);
  }
}

async function plainRun(
  campaignFile: string,
  slug: string,
  campaignId: number,
): Promise<PlainResult & { wave: ReturnType<typeof shares> }> {
  clearOutbox();
  const opts = { url: benchUrl, campaignFile, slug, campaignId, smtpUrl, connections: plainConnections };
  const plain = child([...process.execArgv, SELF, '--plain-child', JSON.stringify(opts)]);
  const read = (): Reading => ({
    at: Date.now(),
    workers: cpuSeconds(plain.pid!),
    pg: 0,
    sink: cpuSeconds(sink.pid!),
    machine: machineTicks(),
  });
  const readings = [read()];
  const sampler = setInterval(() => readings.push(read()), 500);
  try {
    const m = await withTimeout(
      lineFrom(plain, /RESULT (.*)\n/, timeoutMs, 'the plain loop'),
      timeoutMs,
      'the plain loop',
    );
    readings.push(read());
    const r = JSON.parse(m[1]!) as PlainResult;
    const files = readdirSync(outbox).length;
    if (files !== r.sent) throw new Error(`the sink holds ${files} messages, the plain loop sent ${r.sent}`);
    return { ...r, wave: shares(readings, r.from, r.to) };
  } finally {
    clearInterval(sampler);
  }
}

const pct = (cpu: number, seconds: number) => `${Math.round((cpu / seconds) * 100)} %`;
const share = (x: number) => `${Math.round(x * 100)} %`;
const mbs = (xs: number[]) => xs.map(mb).join(' + ');
console.log(
  `\nsend emails — ${members.toLocaleString()} members, batch ${batchSize}, ${concurrency} lanes, ${workers} worker process${workers === 1 ? '' : 'es'}; plain loop: one pooled transport of ${plainConnections} connections`,
);
console.log(
  `  machine: ${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}, PostgreSQL ${pgVersion}, Temporal dev server, all on loopback`,
);
const rates: { mailroom: number; plain: number; ratio: number; perK: number }[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const { result: m, campaignFile, slug, campaignId } = await mailroomRun(round);
    const p = mailroomOnly
      ? { sent: 1, seconds: Infinity, cpu: 0, peakRss: 0, wave: { sink: 0, busy: 0 } }
      : await plainRun(campaignFile, slug, campaignId);
    const mRate = m.sent / m.waveSeconds;
    const pRate = p.sent / p.seconds;
    const perK = m.events / (m.sent / 1000);
    rates.push({ mailroom: mRate, plain: pRate, ratio: mRate / pRate, perK });
    console.log(`  round ${round}:`);
    console.log(
      `    mailroom: ${m.sent.toLocaleString()} sent in ${m.waveSeconds.toFixed(1)} s = ${Math.round(mRate).toLocaleString()} emails/s (the wave: first pending row to last sent row); ` +
        `workflow start to end ${m.endToEndSeconds.toFixed(1)} s = ${Math.round(m.sent / m.endToEndSeconds).toLocaleString()} emails/s (snapshot, feedback and summary included)`,
    );
    console.log(
      `              CPU during the wave (100 % = one core): worker${workers === 1 ? '' : 's'} ${share(m.wave.workers)}, their PostgreSQL backends ${share(m.wave.pg)}, SMTP sink ${share(m.wave.sink)}; machine busy ${share(m.wave.busy)} of ${cpus().length} cores` +
        ` (whole campaign: ${share(m.whole.workers)}, ${share(m.whole.pg)}, ${share(m.whole.sink)}; ${share(m.whole.busy)})`,
    );
    if (!mailroomOnly)
      console.log(
        `    plain:    ${p.sent.toLocaleString()} sent in ${p.seconds.toFixed(1)} s = ${Math.round(pRate).toLocaleString()} emails/s; CPU: loop ${pct(p.cpu, p.seconds)}, SMTP sink ${share(p.wave.sink)}; machine busy ${share(p.wave.busy)}; peak RSS ${mb(p.peakRss)}`,
      );
    if (!mailroomOnly) console.log(`    ratio:    ${(mRate / pRate).toFixed(2)}× the plain loop`);
    console.log(
      `    history:  ${m.events.toLocaleString()} events over ${m.runs} run${m.runs === 1 ? '' : 's'} = ${perK.toFixed(1)} per 1,000 members`,
    );
    console.log(
      `    worker RSS: ${mbs(m.readyRss)} when ready, peak ${mbs(m.peakRss)} during the campaign (sampled every 100 ms); VmHWM ${mbs(m.hwm)} (the kernel's peak, bundling the workflows at start included)`,
    );
    await sql`delete from campaigns where slug = ${slug}`;
  }
  if (rounds > 1) {
    const best = (k: keyof (typeof rates)[number]) => Math.max(...rates.map((r) => r[k]));
    const med = (k: keyof (typeof rates)[number]) => median(rates.map((r) => r[k]));
    const plain = mailroomOnly
      ? ''
      : `plain best ${Math.round(best('plain')).toLocaleString()}, median ${Math.round(med('plain')).toLocaleString()} emails/s; ratio median ${med('ratio').toFixed(2)}×; `;
    console.log(
      `  over ${rounds} rounds: mailroom best ${Math.round(best('mailroom')).toLocaleString()}, median ${Math.round(med('mailroom')).toLocaleString()} emails/s; ` +
        `${plain}history median ${med('perK').toFixed(1)} events per 1,000`,
    );
  }
  console.log(`  targets: ≥ 1,500 emails/s; ≤ 10 history events per 1,000 members`);
} finally {
  await stop(sink);
  rmSync(outbox, { recursive: true, force: true });
  await sql.end();
}
