// Call outcomes posted through the account manager's page: 10,000 form posts to /calls/<token> of
// the real tracking server on loopback (each checks the signed link and the form token, checks
// the task is the manager's, and records the outcome in one transaction: the outcome, the task,
// the contact log), with bounded concurrency and a time limit. In the same run, the bare tools:
// a node:http server whose handler reads the same form and does one parameterised INSERT into a
// scratch table through the same postgres pool, and the same number of plain INSERTs through the
// pool with no HTTP at all. Outcomes/s and p99 latency; the ratio to the bare server is the figure.
//
//   npm run bench:calls -- [--outcomes 10000] [--concurrency 16] [--limit 300]
//
// Uses DATABASE_URL's server or the running `mailroom dev` stack, in a database of its own
// (mailroom_bench_calls, made again on every run).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { pino } from 'pino';
import { context } from '../client/connect.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { assignCallTasks } from '../pipeline/calls/call-tasks.ts';
import { formToken, signManagerLink } from '../pipeline/calls/manager-link.ts';
import { startTrackingServer } from '../server/tracking-server.ts';
import { formFields, readBody } from '../server/http.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const outcomes = arg('outcomes', 10_000);
const concurrency = arg('concurrency', 16);
const limitS = arg('limit', 300);
const MANAGERS = 20;
const SECRET = 'bench-calls-secret';
const SLUG = 'bench-calls';
const SPEC = `name: ${SLUG}
description: 财富管理月（基准）
offers: { gift-oil: 5 升装花生油一桶 }
waves:
  - { name: calls, channel: call, template: wealth-call-script, assign_by: account_manager, unassigned: 网点主任, attempts: 3 }
`;

const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const urlFor = (db: string) => serverUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
const admin = connectDatabase(urlFor('postgres'), { max: 1 });
await admin`drop database if exists mailroom_bench_calls with (force)`;
await admin`create database mailroom_bench_calls`;
await admin.end();
// The pool the tracking server uses (server/run-server.ts): ten connections.
const sql = connectDatabase(urlFor('mailroom_bench_calls'), { max: 10 });
await migrate(sql);

// The customers, the campaign and its members, and a task each, spread over the managers.
await sql`
  insert into customers (external_id, full_name, family_name, gender, phone, attributes)
  select 'K' || i, '客户' || i, '王', 'male', '+861380000' || lpad(i::text, 4, '0'),
         jsonb_build_object('account_manager', '经理' || (i % ${MANAGERS}))
  from generate_series(1, ${outcomes}) i`;
const [campaign] = await sql<{ id: number }[]>`
  insert into campaigns (slug, name, spec, workflow_id, status, snapshot_at, audience_channel)
  values (${SLUG}, ${SLUG}, ${sql.json({ file: `/bench/${SLUG}.yaml`, text: SPEC })}, ${`campaign-${SLUG}`}, 'running', now(), 'mail')
  returning id`;
await sql`
  insert into campaign_members (campaign_id, customer_id, rank, band, holdout)
  select ${campaign!.id}, id, row_number() over (order by id), 'gift-oil', false from customers`;
await assignCallTasks(sql, {
  campaignId: campaign!.id,
  wave: 'calls',
  fromCustomerId: 0,
  toCustomerId: Number.MAX_SAFE_INTEGER,
  unassigned: '网点主任',
  dueAt: null,
});
await sql`vacuum analyze`;
const expiresAt = new Date(Date.now() + 86_400_000);
const links = new Map<string, string>();
const tasks = (await sql<{ id: number; manager: string }[]>`select id, manager from call_tasks order by id`).map(
  (t) => {
    if (!links.has(t.manager))
      links.set(t.manager, signManagerLink(SECRET, { campaignId: campaign!.id, manager: t.manager, expiresAt }));
    const token = links.get(t.manager)!;
    return {
      path: `/calls/${token}`,
      body: new URLSearchParams({
        task: String(t.id),
        attempt: '0',
        csrf: formToken(SECRET, token, t.id),
        outcome: 'declined',
        note: '已婉拒，下月再联系',
      }).toString(),
    };
  },
);

interface Run {
  done: number;
  seconds: number;
  p50: number;
  p99: number;
  failed: number;
}

/** One side's posts so far: latencies, time spent posting, answers other than 303. */
class Tally {
  latencies: number[] = [];
  seconds = 0;
  failed = 0;
  run(): Run {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    return { done: sorted.length, seconds: this.seconds, p50: pct(50), p99: pct(99), failed: this.failed };
  }
}

/** Posts each form once, `concurrency` at a time, while the side's time limit lasts. */
async function drive(base: string, forms: { path: string; body: string }[], tally: Tally): Promise<void> {
  let next = 0;
  const started = performance.now();
  const deadline = started + (limitS - tally.seconds) * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < forms.length && performance.now() < deadline) {
        const form = forms[next++]!;
        const t = performance.now();
        const res = await fetch(`${base}${form.path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.body,
        });
        await res.arrayBuffer();
        tally.latencies.push(performance.now() - t);
        if (res.status !== 303) tally.failed++;
      }
    }),
  );
  tally.seconds += (performance.now() - started) / 1000;
}

// The bare tool: one parameterised INSERT per form post, through the same pool.
await sql`create table bench_scratch (id bigint generated always as identity primary key, task bigint not null, outcome text not null, note text, at timestamptz not null default now())`;
const bareServer = createServer((req: IncomingMessage, res: ServerResponse) => {
  void readBody(req).then(async (body) => {
    const f = formFields(body);
    await sql`insert into bench_scratch (task, outcome, note) values (${Number(f.task)}, ${f.outcome ?? ''}, ${f.note ?? null})`;
    res.writeHead(303, { location: req.url ?? '/' });
    res.end();
  });
});
await new Promise<void>((done) => bareServer.listen(0, '127.0.0.1', done));
const bareBase = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`;

const page = await startTrackingServer({
  sql,
  secret: SECRET,
  trackingUrl: 'http://127.0.0.1',
  log: pino({ level: 'silent' }),
  port: 0,
  host: '127.0.0.1',
});

const load = loadavg()[0]!.toFixed(2);
// Warm up (connections, JIT) on forms that are not counted.
await drive(bareBase, tasks.slice(0, 200), new Tally());
await sql`truncate bench_scratch`;
// Alternating chunks of 1,000 posts, so that both sides see the same (shared, changing) machine.
const bareTally = new Tally();
const pageTally = new Tally();
for (let i = 0; i < tasks.length; i += 1000) {
  await drive(bareBase, tasks.slice(i, i + 1000), bareTally);
  await drive(page.url, tasks.slice(i, i + 1000), pageTally);
}
const bare = bareTally.run();
const mailroom = pageTally.run();
const t0 = performance.now();
for (let i = 0; i < tasks.length; i += concurrency)
  await Promise.all(
    tasks
      .slice(i, i + concurrency)
      .map(
        (_, j) =>
          sql`insert into bench_scratch (task, outcome, note) values (${i + j}, 'declined', '已婉拒，下月再联系')`,
      ),
  );
const insertsS = (performance.now() - t0) / 1000;

const [settled] = await sql<{ settled: number; log: number }[]>`
  select (select count(*) from call_tasks where status = 'settled')::int as settled, (select count(*) from contact_log)::int as log`;
const line = (name: string, r: Run) =>
  `${name.padEnd(44)} ${String(r.done).padStart(6)} in ${r.seconds.toFixed(1).padStart(6)} s  ${(r.done / r.seconds).toFixed(0).padStart(6)}/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms${r.failed ? `  (${r.failed} not 303)` : ''}`;
console.log(
  `${outcomes.toLocaleString()} outcomes, ${MANAGERS} managers, concurrency ${concurrency}, pool 10, limit ${limitS} s a side, alternating chunks of 1,000; load average ${load} at the start`,
);
console.log(line('bare node:http + one INSERT', bare));
console.log(line('mailroom manager page (/calls/<token>)', mailroom));
console.log(
  `${'plain INSERTs through the pool (no HTTP)'.padEnd(44)} ${String(tasks.length).padStart(6)} in ${insertsS.toFixed(1).padStart(6)} s  ${(tasks.length / insertsS).toFixed(0).padStart(6)}/s`,
);
console.log(
  `ratio ${(bare.done / bare.seconds / (mailroom.done / mailroom.seconds)).toFixed(2)}× slower than the bare server; ${settled!.settled} tasks settled, ${settled!.log} contact-log rows`,
);
await page.close();
await new Promise<void>((done) => bareServer.close(() => done()));
await sql.end();
