// Imports a generated customer CSV through the same code path as `mailroom import customers`
// and prints rows/s and memory (RSS sampled every 50 ms, and at each tenth of the file) so that
// a reader can see whether memory grows with the file. Then, in the same run, the bare load that
// PostgreSQL itself manages: `psql \copy` of the same file into a staging table and one
// `insert … select … on conflict` into a scratch table shaped like customers (its indexes and
// generated postal key included), so the two figures are comparable.
//
//   npm run bench:import -- [--rows 1000000] [--batch-size 10000] [--threads N]
//
// Uses DATABASE_URL's server or the running `mailroom dev` stack (start one with
// `npx mailroom dev --detach`); the import goes into a scratch database, mailroom_bench.
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { context } from '../client/connect.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { generateCustomer } from '../dev/seed/generate.ts';
import { runImport } from '../pipeline/customers/import/run-import.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const rows = arg('rows', 1_000_000);
const batchSize = arg('batch-size', 10_000);
const threadsArg = process.argv.includes('--threads') ? arg('threads', 1) : undefined;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  const header = [
    'external_id',
    'full_name',
    'family_name',
    'given_name',
    'gender',
    'email',
    'phone',
    'address_line1',
    'address_line2',
    'district',
    'city',
    'province',
    'postal_code',
    'country',
    'birthday',
    'consent_email',
    'consent_sms',
    'annual_spend',
    'financial_assets',
    'member_level',
  ];
  out.write(stringify([header]));
  const asOf = new Date('2026-11-01T00:00:00Z');
  for (let i = 1; i <= rows; i++) {
    const { record: r } = generateCustomer(99, i, asOf);
    const line = stringify([
      [
        `B-${i}`,
        r.full_name,
        r.family_name ?? '',
        r.given_name ?? '',
        r.gender ?? '',
        r.email ?? '',
        // Phones as people type them, national format for mainland numbers.
        r.phone?.startsWith('+86') ? r.phone.slice(3) : (r.phone ?? ''),
        r.address_line1 ?? '',
        r.address_line2 ?? '',
        r.district ?? '',
        r.city ?? '',
        r.province ?? '',
        r.postal_code ?? '',
        r.country ?? '',
        r.birthday ?? '',
        r.consents.email === 'granted' ? 'yes' : r.consents.email ? 'no' : '',
        r.consents.sms === 'granted' ? '是' : r.consents.sms ? '否' : '',
        String(r.attributes.annual_spend),
        String(r.attributes.financial_assets),
        String(r.attributes.member_level),
      ],
    ]);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const dataDir = join(ctx.paths.home, 'bench');
mkdirSync(dataDir, { recursive: true });
const file = join(dataDir, `customers-${rows}.csv`);
let t = Date.now();
await writeCsv(file);
console.log(
  `generated ${rows.toLocaleString()} rows, ${mb(statSync(file).size)} in ${((Date.now() - t) / 1000).toFixed(1)} s`,
);

const admin = connectDatabase(serverUrl.replace(/\/[^/?]+(\?|$)/, '/postgres$1'), { max: 1 });
await admin`drop database if exists mailroom_bench with (force)`;
await admin`create database mailroom_bench`;
const sql = connectDatabase(serverUrl.replace(/\/[^/?]+(\?|$)/, '/mailroom_bench$1'), { max: 2 });
await migrate(sql);
const [{ version }] = (await sql`select current_setting('server_version') as version`) as unknown as [
  { version: string },
];

if (global.gc) global.gc();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const byTenth: string[] = [];
let nextTenth = 1;
t = Date.now();
const summary = await runImport(sql, {
  kind: 'customers',
  file,
  batchSize,
  threads: threadsArg,
  rejectsPath: join(dataDir, 'customers.rejects.csv'),
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

console.log(`\nimport customers — ${rows.toLocaleString()} rows, batch ${batchSize}`);
console.log(
  `  machine: ${cpus().length} cores (${cpus()[0]?.model}), ${mb(totalmem())} RAM, Node ${process.version}, PostgreSQL ${version} on loopback`,
);
console.log(
  `  result:  read ${summary.read}, inserted ${summary.inserted}, updated ${summary.updated}, rejected ${summary.rejected}`,
);
console.log(`  time:    ${seconds.toFixed(1)} s  →  ${Math.round(summary.read / seconds).toLocaleString()} rows/s`);
console.log(`  RSS:     ${mb(baseline)} before, peak ${mb(peak)}`);
console.log(`  RSS by progress: ${byTenth.join(', ')}`);

// The bare load: what PostgreSQL needs for the same file, with no checks beyond the table's.
const benchUrl = serverUrl.replace(/\/[^/?]+(\?|$)/, '/mailroom_bench$1');
await sql`create table bench_stage (
  external_id text, full_name text, family_name text, given_name text, gender text, email text, phone text,
  address_line1 text, address_line2 text, district text, city text, province text, postal_code text,
  country text, birthday text, consent_email text, consent_sms text, annual_spend text,
  financial_assets text, member_level text)`;
await sql`create table bench_customers (like customers including all)`;
t = Date.now();
execFileSync(
  '/usr/bin/psql',
  [benchUrl, '-q', '-c', `\\copy bench_stage from '${file}' with (format csv, header true)`],
  {
    stdio: 'inherit',
  },
);
const copySeconds = (Date.now() - t) / 1000;
t = Date.now();
await sql`
  insert into bench_customers (external_id, full_name, family_name, given_name, gender, email, phone,
    address_line1, address_line2, district, city, province, postal_code, country, birthday, attributes)
  select external_id, full_name, nullif(family_name, ''), nullif(given_name, ''), coalesce(nullif(gender, ''), 'unknown'),
    nullif(email, ''),
    case when phone ~ '^1[3-9][0-9]{9}$' then '+86' || phone when phone ~ '^[+][1-9][0-9]{6,14}$' then phone end,
    nullif(address_line1, ''), nullif(address_line2, ''), nullif(district, ''), nullif(city, ''),
    nullif(province, ''), nullif(postal_code, ''), coalesce(nullif(country, ''), 'CN'), nullif(birthday, '')::date,
    jsonb_build_object('annual_spend', annual_spend::numeric, 'financial_assets', financial_assets::numeric,
      'member_level', member_level)
  from bench_stage
  on conflict (external_id) do update set full_name = excluded.full_name, updated_at = now()`;
const upsertSeconds = (Date.now() - t) / 1000;
const bareSeconds = copySeconds + upsertSeconds;
console.log(
  `\nbare load — psql \\copy into a staging table + one insert … select … on conflict into a table like customers`,
);
console.log(
  `  time:    ${copySeconds.toFixed(1)} s \\copy + ${upsertSeconds.toFixed(1)} s upsert = ${bareSeconds.toFixed(1)} s  →  ${Math.round(rows / bareSeconds).toLocaleString()} rows/s`,
);
console.log(
  `\nimport / bare: ${(bareSeconds / seconds).toFixed(2)}× the bare load's speed (the import also checks every field and writes consents)`,
);
await sql.end();
await admin`drop database if exists mailroom_bench with (force)`;
await admin.end();
