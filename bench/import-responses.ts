// Imports a generated file of offline responses through the same code path as
// `mailroom import responses`, against a seeded customer base and a campaign whose members have
// response codes, and prints rows/s and memory (RSS sampled every 50 ms, and at each tenth of the
// file, to show whether it grows with the file). Then, in the same run, the bare tool: `psql \copy`
// of the same file into a scratch table, which reads and stores the rows and nothing else.
//
//   npm run bench:import-responses -- [--rows 1000000] [--customers 200000] [--batch-size 10000] [--reuse-file] [--keep-db]
//
// The file mixes the keys as a till or ERP export would: response codes printed on the letter,
// customer ids, phones typed in national format, emails, some rows matching nobody, repeated
// source ids and bad values. Uses DATABASE_URL's server or the running `mailroom dev` stack;
// everything goes into a scratch database, mailroom_bench_responses, dropped at the end (kept with
// --keep-db, to look at the rows).
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'csv-stringify/sync';
import { context } from '../client/connect.ts';
import { connectDatabase, type Sql } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { generateCustomer } from '../dev/seed/generate.ts';
import { Random } from '../dev/seed/random.ts';
import { upsertCustomers } from '../pipeline/customers/upsert-customers.ts';
import { responseCode } from '../pipeline/render/codes.ts';
import { runResponseImportInThread } from '../pipeline/customers/import/import-thread.ts';
import { storeMissingCodes } from '../pipeline/responses/member-codes.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const rows = arg('rows', 1_000_000);
const customerCount = arg('customers', 200_000);
const batchSize = arg('batch-size', 10_000);
const SECRET = 'bench-secret';
const SLUG = 'bench-letters';
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const log = pino({ level: 'warn' });

const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const benchUrl = serverUrl.replace(/\/[^/?]+(\?|$)/, '/mailroom_bench_responses$1');
const admin = connectDatabase(serverUrl.replace(/\/[^/?]+(\?|$)/, '/postgres$1'), { max: 1 });
await admin`drop database if exists mailroom_bench_responses with (force)`;
await admin`create database mailroom_bench_responses`;
const sql = connectDatabase(benchUrl, { max: 2 });
await migrate(sql);
const [{ version }] = (await sql`select current_setting('server_version') as version`) as unknown as [
  { version: string },
];

interface Known {
  externalId: string;
  phone: string | undefined;
  email: string | undefined;
  code: string | undefined;
}

/** Customers from the seed generator (no orders: they play no part here), half of them members of a campaign. */
async function seed(db: Sql): Promise<Known[]> {
  const asOf = new Date('2026-11-01T00:00:00Z');
  const [imp] = await db<{ id: number }[]>`insert into imports (kind, source) values ('seed', 'bench') returning id`;
  const known: Known[] = [];
  for (let start = 1; start <= customerCount; start += 5000) {
    const batch = [];
    for (let i = start; i < start + 5000 && i <= customerCount; i++) batch.push(generateCustomer(7, i, asOf).record);
    await upsertCustomers(db, batch, imp!.id, 'seed:bench');
    for (const r of batch)
      known.push({
        externalId: r.external_id,
        phone: r.phone ?? undefined,
        email: r.email ?? undefined,
        code: undefined,
      });
  }
  const [c] = await db<{ id: number }[]>`
    insert into campaigns (slug, name, spec, workflow_id) values (${SLUG}, '会员回馈季', '{}', 'campaign-bench') returning id`;
  await db`
    insert into campaign_members (campaign_id, customer_id, rank)
    select ${c!.id}, id, row_number() over (order by id) from customers where id % 2 = 0`;
  const members = await db<{ id: number; external_id: string }[]>`
    select c.id, c.external_id from customers c join campaign_members m on m.customer_id = c.id`;
  const byExt = new Map(known.map((k) => [k.externalId, k]));
  for (const m of members) byExt.get(m.external_id)!.code = responseCode(SECRET, SLUG, Number(m.id));
  return known;
}

const KINDS = [
  ['coupon_redemption', 35],
  ['branch_visit', 30],
  ['order', 20],
  ['call_outcome', 10],
  ['appointment', 5],
] as const;
const BRANCHES = ['滨海支行', '中山路网点', '人民广场店', '解放路营业厅', '新区支行'];
const STAFF = ['周敏', '陈志强', '李晓燕', '王建国', '张婷'];

async function writeCsv(path: string, known: Known[]): Promise<void> {
  const rng = new Random(20261201);
  const withCode = known.filter((k) => k.code);
  const withPhone = known.filter((k) => k.phone?.startsWith('+86'));
  const withEmail = known.filter((k) => k.email);
  const out = createWriteStream(path);
  out.write(
    stringify([
      ['source_id', 'kind', 'occurred_at', 'code', 'external_id', 'phone', 'email', 'value', 'branch', 'staff'],
    ]),
  );
  const start = Date.parse('2026-10-01T00:00:00Z');
  for (let i = 1; i <= rows; i++) {
    const kind = rng.weighted(KINDS);
    // 3 % repeat an earlier row's id (an export run twice over the same hours).
    const sourceId = i > 100 && rng.chance(0.03) ? `T${i - rng.int(1, 100)}` : `T${i}`;
    const when = new Date(start + rng.int(0, 55 * 86_400) * 1000);
    const occurred = rng.chance(0.5)
      ? when.toISOString().slice(0, 16).replace('T', ' ')
      : when.toISOString().replace('.000Z', '+00:00');
    const keys = { code: '', external_id: '', phone: '', email: '' };
    const how = rng.weighted([
      ['code', 35],
      ['external_id', 25],
      ['phone', 20],
      ['email', 10],
      ['nobody', 8],
      ['bad', 2],
    ] as const);
    if (how === 'code') keys.code = rng.pick(withCode).code!;
    else if (how === 'external_id') keys.external_id = rng.pick(known).externalId;
    else if (how === 'phone') keys.phone = rng.pick(withPhone).phone!.slice(3);
    else if (how === 'email') keys.email = rng.pick(withEmail).email!;
    else if (how === 'nobody') keys.external_id = `X-${i}`;
    else keys.phone = '12345';
    const value = kind === 'order' || kind === 'coupon_redemption' ? (rng.int(1000, 500_000) / 100).toFixed(2) : '';
    const line = stringify([
      [
        sourceId,
        kind,
        occurred,
        keys.code,
        keys.external_id,
        keys.phone,
        keys.email,
        value,
        rng.pick(BRANCHES),
        rng.pick(STAFF),
      ],
    ]);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const dataDir = join(ctx.paths.home, 'bench');
mkdirSync(dataDir, { recursive: true });
const file = join(dataDir, `responses-${rows}-${customerCount}.csv`);
let t = Date.now();
const known = await seed(sql);
console.log(`seeded ${customerCount.toLocaleString()} customers in ${((Date.now() - t) / 1000).toFixed(1)} s`);
t = Date.now();
const filled = await storeMissingCodes(sql, SECRET, log);
console.log(`stored ${filled.written.toLocaleString()} response codes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
t = Date.now();
// --reuse-file keeps a file generated by an earlier run (the generator is deterministic).
if (process.argv.includes('--reuse-file') && existsSync(file)) console.log(`reusing ${file}`);
else {
  await writeCsv(file, known);
  console.log(
    `generated ${rows.toLocaleString()} rows, ${mb(statSync(file).size)} in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
}
known.length = 0;

if (global.gc) global.gc();
const load = loadavg()[0]!.toFixed(2);
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const byTenth: string[] = [];
let nextTenth = 1;
t = Date.now();
// As `mailroom import responses` runs it: in a thread with a bounded heap, on its own connections.
const summary = await runResponseImportInThread(benchUrl, {
  file,
  source: 'bench-pos',
  secret: SECRET,
  batchSize,
  rejectsPath: join(dataDir, 'responses.rejects.csv'),
  onProgress: ({ bytes, totalBytes }) => {
    while (nextTenth <= 10 && bytes >= (totalBytes * nextTenth) / 10) {
      byTenth.push(`${nextTenth * 10}%: ${mb(process.memoryUsage().rss)}`);
      nextTenth++;
    }
  },
});
const seconds = (Date.now() - t) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);

console.log(
  `\nimport responses — ${rows.toLocaleString()} rows against ${customerCount.toLocaleString()} customers, batch ${batchSize}`,
);
console.log(
  `  machine: ${cpus().length} cores (${cpus()[0]?.model}), ${mb(totalmem())} RAM, Node ${process.version}, PostgreSQL ${version} on loopback; load average ${load} at the start`,
);
console.log(
  `  result:  read ${summary.read}, matched ${summary.matched} (${Object.entries(summary.matchedBy)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}), duplicates ${summary.duplicates}, unmatched ${summary.unmatched}, rejected ${summary.rejected}`,
);
console.log(`  time:    ${seconds.toFixed(1)} s  →  ${Math.round(summary.read / seconds).toLocaleString()} rows/s`);
console.log(`  RSS:     ${mb(baseline)} before, peak ${mb(peak)}`);
console.log(`  RSS by progress: ${byTenth.join(', ')}`);

// The bare tool: psql's \copy of the same file into a table of text columns, nothing checked or matched.
await sql`create table bench_stage (
  source_id text, kind text, occurred_at text, code text, external_id text, phone text, email text,
  value text, branch text, staff text)`;
t = Date.now();
execFileSync(
  '/usr/bin/psql',
  [benchUrl, '-q', '-c', `\\copy bench_stage from '${file}' with (format csv, header true)`],
  {
    stdio: 'inherit',
  },
);
const copySeconds = (Date.now() - t) / 1000;
console.log(`\nbare \\copy — psql \\copy of the same file into a scratch table of text columns`);
console.log(`  time:    ${copySeconds.toFixed(1)} s  →  ${Math.round(rows / copySeconds).toLocaleString()} rows/s`);
// And the write alone: the same rows from the scratch table into a table like responses (its
// indexes and unique dedupe key, without foreign keys), each joined to its customer by one key.
await sql`create table bench_responses (like responses including all)`;
t = Date.now();
await sql`
  insert into bench_responses (customer_id, kind, source, dedupe_key, occurred_at, value, details)
  select c.id, s.kind, 'bare', 'bare:' || s.source_id,
    case when s.occurred_at ~ '[+-][0-9]{2}:[0-9]{2}$' then s.occurred_at::timestamptz
         else s.occurred_at::timestamp at time zone 'Asia/Shanghai' end,
    nullif(s.value, '')::numeric, jsonb_build_object('branch', s.branch, 'staff', s.staff)
  from bench_stage s left join customers c on c.external_id = s.external_id
  on conflict (dedupe_key) do nothing`;
const writeSeconds = (Date.now() - t) / 1000;
console.log(`\nbare write — one insert … select of those rows into a table like responses (one-key join, no checks)`);
console.log(
  `  time:    ${writeSeconds.toFixed(1)} s  →  ${Math.round(rows / writeSeconds).toLocaleString()} rows/s; \\copy + write ${(copySeconds + writeSeconds).toFixed(1)} s`,
);
console.log(
  `\nimport / bare \\copy: the import takes ${(seconds / copySeconds).toFixed(1)}× the time of the bare \\copy, ${(seconds / (copySeconds + writeSeconds)).toFixed(1)}× that of \\copy + bare write (it also checks every value, matches by code, customer id, phone or email, and reports each row's outcome)`,
);
if (process.argv.includes('--keep-db')) process.exit(0);
await sql.end();
await admin`drop database if exists mailroom_bench_responses with (force)`;
await admin.end();
