// The campaign report over 1,000,000 members with 200,000 responses and 500,000 attributed orders,
// and, in the same rounds, a bare `count(*) … group by` over the same rows (members joined with
// their responses and orders inside the window, grouped by holdout). The ratio is the figure; the
// target is the report at most 3× the bare query. Three cases, `--rounds` times each: cold (the
// kept outcomes dropped, so every member is computed), nothing changed since the last report, and
// 10,000 late responses written between two reports.
//
//   npm run bench:report -- [--members 1000000] [--responses 200000] [--orders 500000] [--fresh]
//
// Uses DATABASE_URL's server or the running `mailroom dev` stack. The data are kept in the
// database mailroom_bench_report between runs; --fresh builds them again.
import { context } from '../client/connect.ts';
import { connectDatabase } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { campaignReport } from '../pipeline/report/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const members = arg('members', 1_000_000);
const responses = arg('responses', 200_000);
const orders = arg('orders', 500_000);
const fresh = process.argv.includes('--fresh');
const SLUG = 'bench-report';
const SPEC = `name: ${SLUG}
waves:
  - { name: letter, channel: mail, template: x, cost_per_piece: 2.80 }
  - { name: reminder, channel: email, template: y, cost_per_piece: 0.01 }
audience: { holdout: 10, variants: { A: 50, B: 50 } }
response_kinds: [purl_visit, qr_scan, click, branch_visit, coupon_redemption, order]
budget: 3000000
`;

const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const urlFor = (db: string) => serverUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
const admin = connectDatabase(urlFor('postgres'), { max: 1 });
const [exists] = await admin`select 1 from pg_database where datname = 'mailroom_bench_report'`;
if (fresh || !exists) {
  await admin`drop database if exists mailroom_bench_report with (force)`;
  await admin`create database mailroom_bench_report`;
}
await admin.end();
const sql = connectDatabase(urlFor('mailroom_bench_report'), { max: 2 });
await migrate(sql);

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e9, result];
}

const [{ n: have } = { n: 0 }] = await sql<{ n: number }[]>`
  select count(*)::int as n from campaign_members m join campaigns c on c.id = m.campaign_id where c.slug = ${SLUG}`;
const [{ o: haveOrders } = { o: 0 }] = await sql<{ o: number }[]>`select count(*)::int as o from orders`;
if (have !== members || haveOrders !== orders) {
  process.stdout.write(
    `building ${members.toLocaleString()} members, ${responses.toLocaleString()} responses, ${orders.toLocaleString()} orders (kept for later runs)…\n`,
  );
  const [t] = await time(async () => {
    await sql`truncate customers, campaigns, orders, responses, deliveries, campaign_members cascade`;
    await sql`
      insert into customers (external_id, full_name, province, attributes)
      select 'B' || i, '客户' || i, (array['北京市','上海市','广东省','江苏省','浙江省','四川省'])[1 + i % 6],
             jsonb_build_object('tier', (array['Diamond','Platinum','Gold','VIP'])[1 + i % 4])
      from generate_series(1, ${members}) i`;
    const [c] = await sql<{ id: number }[]>`
      insert into campaigns (slug, name, spec, status, workflow_id)
      values (${SLUG}, ${SLUG}, ${sql.json({ file: `/bench/${SLUG}.yaml`, text: SPEC })}, 'completed', ${`campaign-${SLUG}`}) returning id`;
    const id = c!.id;
    await sql`
      insert into campaign_members (campaign_id, customer_id, rank, band, variant, holdout)
      select ${id}, id, n, case when n <= 100000 then 'gift-a' when n <= 400000 then 'gift-b' else 'plain' end,
             case when n % 10 = 0 then null when n % 2 = 0 then 'A' else 'B' end, n % 10 = 0
      from (select id, row_number() over (order by id)::int as n from customers) x`;
    await sql`
      insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
      select ${id}, 'letter', customer_id, 'mail', 'sent', '2026-06-01' from campaign_members where campaign_id = ${id} and not holdout`;
    await sql`
      insert into deliveries (campaign_id, wave, customer_id, channel, status, sent_at)
      select ${id}, 'reminder', customer_id, 'email', 'sent', '2026-06-08T02:00:00Z'
      from campaign_members where campaign_id = ${id} and not holdout and rank % 2 = 1`;
    // Responses: a quarter traceable (PURL visits of the treated), the rest branch visits and coupons.
    await sql`
      insert into responses (campaign_id, customer_id, kind, source, dedupe_key, occurred_at)
      select case when i % 4 = 0 then ${id}::bigint end, c.id,
             case when i % 4 = 0 then 'purl_visit' when i % 4 = 1 then 'coupon_redemption' else 'branch_visit' end,
             'bench', 'b' || i, timestamptz '2026-06-02' + (i % 100) * interval '1 day'
      from generate_series(1, ${responses}) i join customers c on c.external_id = 'B' || (1 + (i::bigint * 7919) % ${members})`;
    await sql`
      insert into orders (customer_id, order_ref, amount, occurred_at)
      select c.id, 'o' || i, 10 + (i % 500) + 0.5, timestamptz '2026-06-02' + (i % 85) * interval '1 day'
      from generate_series(1, ${orders}) i join customers c on c.external_id = 'B' || (1 + (i::bigint * 104729) % ${members})`;
    await sql`vacuum analyze`;
  });
  console.log(`built in ${t.toFixed(0)} s`);
}

const [{ id } = { id: 0 }] = await sql<{ id: number }[]>`select id from campaigns where slug = ${SLUG}`;
// The bare query: the same members, responses and orders, joined and counted by group.
const bare = () => sql`
  select m.holdout, count(*)::int as n
  from campaign_members m
  join (select customer_id from responses where occurred_at >= '2026-06-01' and occurred_at < '2026-08-30'
        union all
        select customer_id from orders where occurred_at >= '2026-06-01' and occurred_at < '2026-08-30') e
    on e.customer_id = m.customer_id
  where m.campaign_id = ${id}
  group by m.holdout`;

await bare(); // warm the cache for both
const rounds = arg('rounds', 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (xs: number[]) => `median ${median(xs).toFixed(2)} s  (${xs.map((t) => t.toFixed(2)).join(', ')})`;
type Report = Awaited<ReturnType<typeof campaignReport>>;
/** `rounds` times: the bare query, then `prepare` and the report, each timed. */
async function measure(
  prepare: (round: number) => Promise<unknown>,
): Promise<{ bare: number[]; report: number[]; last: Report }> {
  const out = { bare: [] as number[], report: [] as number[], last: undefined as Report | undefined };
  for (let i = 0; i < rounds; i++) {
    out.bare.push((await time(bare))[0]);
    await prepare(i);
    const [t, r] = await time(() => campaignReport(sql, SLUG));
    out.report.push(t);
    out.last = r;
  }
  return { ...out, last: out.last! };
}
// Cold: the campaign's kept outcomes are dropped, so the report computes every member's again.
const cold = await measure(() => sql`delete from report_caches where campaign_id = ${id}`);
// Warm: nothing changed since the last report.
const warm = await measure(async () => undefined);
// Late data: 10,000 branch visits of members arrive between two reports (2,000 rows per import
// statement, as an import writes them), and the report takes them in.
const LATE = 10_000;
const late = await measure(async (round) => {
  for (let k = 0; k < LATE; k += 2_000)
    await sql`
      insert into responses (customer_id, kind, source, dedupe_key, occurred_at)
      select m.customer_id, 'branch_visit', 'bench-late', 'late-' || ${round} || '-' || m.customer_id, timestamptz '2026-07-15'
      from campaign_members m where m.campaign_id = ${id} and m.rank % 97 = ${round} order by m.rank offset ${k} limit 2000`;
});
await sql`delete from responses where source = 'bench-late'`;
await campaignReport(sql, SLUG);
const last = late.last;
const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(
  `members ${members.toLocaleString()}, responses ${responses.toLocaleString()}, orders ${orders.toLocaleString()}; ` +
    `treated ${last.treatment.n} (${last.treatment.responders} responders), holdout ${last.holdout.n} (${last.holdout.responders}), ` +
    `${last.treatment.attributed_orders + last.holdout.attributed_orders} attributed orders`,
);
const bareAll = [...cold.bare, ...warm.bare, ...late.bare];
console.log(`bare count(*) … group by              ${seconds(bareAll)}`);
for (const [name, m] of [
  ['report, cold (every member computed)', cold],
  ['report, nothing changed', warm],
  [`report after ${LATE.toLocaleString()} late responses`, late],
] as const)
  console.log(
    `${name.padEnd(38)} ${seconds(m.report)}  → ${(median(m.report) / median(m.bare)).toFixed(2)}× the bare query of the same rounds`,
  );
console.log(`target ≤ 3×; peak RSS of this process ${rssMb.toFixed(0)} MB`);
await sql.end();
