// Snapshots an audience over 1,000,000 customers (segment + suppression + holdout + variants, and
// a top-500 ranking with bands) and, in the same run, a bare INSERT … SELECT of the same number of
// rows into the same table. The ratio is the figure.
//
//   npm run bench:snapshot -- [--customers 1000000] [--fresh]
//
// Uses DATABASE_URL's server or the running `mailroom dev` stack. The seeded customers are kept in
// the database mailroom_bench_audience between runs; --fresh seeds them again.
import { cpus } from 'node:os';
import { context } from '../client/connect.ts';
import { connectDatabase, type Sql } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { readStackState } from '../dev/stack-state.ts';
import { runSeed } from '../dev/seed/run-seed.ts';
import { parseRule } from '../pipeline/audience/rules.ts';
import { builtinSegments } from '../pipeline/audience/segments.ts';
import { snapshotAudience } from '../pipeline/audience/snapshot.ts';
import type { Audience } from '../pipeline/audience/audience.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const customers = arg('customers', 1_000_000);
const fresh = process.argv.includes('--fresh');
const asOf = new Date('2026-11-01T12:00:00Z');

const ctx = context();
const serverUrl = ctx.env.DATABASE_URL ?? readStackState(ctx.paths)?.databaseUrl;
if (!serverUrl) {
  console.error('Start the stack first (`npx mailroom dev --detach`) or set DATABASE_URL.');
  process.exit(4);
}
const urlFor = (db: string) => serverUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
const admin = connectDatabase(urlFor('postgres'), { max: 1 });
const [exists] = await admin`select 1 from pg_database where datname = 'mailroom_bench_audience'`;
if (fresh || !exists) {
  await admin`drop database if exists mailroom_bench_audience with (force)`;
  await admin`create database mailroom_bench_audience`;
}
const sql = connectDatabase(urlFor('mailroom_bench_audience'), { max: 2 });
await migrate(sql);
const [{ n: have }] = (await sql`select count(*)::int as n from customers`) as unknown as [{ n: number }];
if (have !== customers) {
  const t = Date.now();
  process.stdout.write(`seeding ${customers.toLocaleString()} customers (kept for later runs)…\n`);
  await runSeed(sql, { customers, seed: 1, asOf, batchSize: 2000 });
  await sql`vacuum analyze`;
  console.log(`seeded in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}

async function newCampaign(db: Sql, slug: string): Promise<number> {
  await db`delete from campaigns where slug = ${slug}`;
  const [c] = await db<
    { id: number }[]
  >`insert into campaigns (slug, name, spec, workflow_id) values (${slug}, ${slug}, '{}', ${`campaign-${slug}`}) returning id`;
  return c!.id;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e9, result];
}

const registry = builtinSegments();
const everyone: Audience = {
  segment: {
    name: 'everyone-reachable',
    rules: parseRule({ field: 'country', op: 'in', value: ['CN', 'HK', 'GB', 'US'] }),
    origin: 'bench',
  },
  channel: 'mail',
  holdoutPercent: 10,
  variants: [
    { name: 'A', weight: 50 },
    { name: 'B', weight: 50 },
  ],
  onePerHousehold: false,
};
const wealth: Audience = {
  ...everyone,
  segment: {
    name: 'wealth-top',
    origin: 'bench',
    rules: parseRule({
      all: [{ field: 'financial_assets', op: '>', value: 0 }, { not: { segment: 'dormant-low-balance' } }],
    }),
    top: {
      n: 500,
      by: 'financial_assets',
      order: 'desc',
      bands: [
        { name: 'A', from: 1, to: 60 },
        { name: 'B', from: 61, to: 160 },
        { name: 'C', from: 161, to: 500 },
      ],
    },
  },
  onePerHousehold: true,
};

const [{ version }] = (await sql`select current_setting('server_version') as version`) as unknown as [
  { version: string },
];
console.log(
  `\nsnapshot audience — ${customers.toLocaleString()} customers; ${cpus().length} cores, PostgreSQL ${version} on loopback, Node ${process.version}`,
);
for (const round of [1, 2, 3]) {
  const snapId = await newCampaign(sql, `bench-snapshot-${round}`);
  const [snapSeconds, snap] = await time(() => snapshotAudience({ sql, registry, asOf }, snapId, everyone));
  const bareId = await newCampaign(sql, `bench-bare-${round}`);
  const [bareSeconds, bare] = await time(
    () => sql`
    insert into campaign_members (campaign_id, customer_id) select ${bareId}, id from customers order by id limit ${snap.counts.members}`,
  );
  const wealthId = await newCampaign(sql, `bench-wealth-${round}`);
  const [wealthSeconds, w] = await time(() => snapshotAudience({ sql, registry, asOf }, wealthId, wealth));
  console.log(
    `  round ${round}: snapshot ${snap.counts.members.toLocaleString()} members in ${snapSeconds.toFixed(2)} s (${Math.round(snap.counts.members / snapSeconds).toLocaleString()} rows/s; ` +
      `${snap.counts.holdout.toLocaleString()} holdout, ${Object.entries(snap.counts.suppressed)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}) | ` +
      `bare INSERT … SELECT of ${bare.count.toLocaleString()} rows ${bareSeconds.toFixed(2)} s | ratio ${(snapSeconds / bareSeconds).toFixed(2)}× | ` +
      `top-500 with bands and households ${wealthSeconds.toFixed(2)} s (${w.counts.members} members)`,
  );
  await sql`delete from campaigns where slug like 'bench-%'`;
}
await sql.end();
await admin.end();
